#include "agent/runtime/restart_policy.h"

#include <algorithm>

namespace reef::agent::runtime {

absl::StatusOr<RestartPolicy> ParseRestartPolicy(std::string_view text) {
  if (text.empty() || text == "Always") return RestartPolicy::kAlways;
  if (text == "OnFailure") return RestartPolicy::kOnFailure;
  if (text == "Never") return RestartPolicy::kNever;
  return absl::InvalidArgumentError(
      reef::StrCat("restartPolicy \"", text, "\": must be Always, OnFailure or Never"));
}

bool ShouldRestart(RestartPolicy policy, int exit_code) {
  switch (policy) {
    case RestartPolicy::kAlways:
      return true;
    case RestartPolicy::kOnFailure:
      return exit_code != 0;
    case RestartPolicy::kNever:
      return false;
  }
  return false;
}

absl::Duration BackoffDelay(int crashes, const BackoffOptions& options) {
  if (crashes <= 0) return absl::ZeroDuration();
  absl::Duration delay = options.initial;
  for (int i = 1; i < crashes && delay < options.max; ++i) delay *= 2;
  return std::min(delay, options.max);
}

RestartTracker::RestartTracker(RestartPolicy policy, const Clock& clock, BackoffOptions options)
    : policy_(policy), clock_(clock), options_(options) {}

RestartTracker::Decision RestartTracker::OnExit(int exit_code, absl::Time started_at,
                                                absl::Time finished_at) {
  if (finished_at - started_at >= options_.reset_after) crashes_ = 0;
  if (!ShouldRestart(policy_, exit_code)) {
    not_before_ = absl::InfinitePast();
    return {};
  }
  not_before_ = finished_at + BackoffDelay(crashes_, options_);
  ++crashes_;
  Decision decision;
  decision.restart = true;
  decision.not_before = not_before_;
  return decision;
}

absl::Duration RestartTracker::RemainingBackoff() const {
  return std::max(not_before_ - clock_.Now(), absl::ZeroDuration());
}

}  // namespace reef::agent::runtime
