#include "agent/probes/probe_worker.h"

namespace reef::agent::probes {
namespace {

Verdict InitialVerdict(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kReadiness:
      return Verdict::kFailure;
    case ProbeKind::kLiveness:
      return Verdict::kSuccess;
    case ProbeKind::kStartup:
      return Verdict::kUnknown;
  }
  return Verdict::kUnknown;
}

}  // namespace

ProbeWorker::ProbeWorker(ProbeKind kind, reef::v1::Probe probe, absl::Time container_started)
    : kind_(kind),
      probe_(std::move(probe)),
      settings_(SettingsOf(probe_)),
      next_due_(container_started + settings_.initial_delay),
      result_(InitialVerdict(kind)) {}

bool ProbeWorker::Record(const ProbeOutcome& outcome) {
  if (done_ || outcome.result == ProbeResult::kError) return false;
  if (outcome.result == ProbeResult::kFailure) failure_message_ = outcome.message;
  if (outcome.result == last_) {
    ++run_;
  } else {
    last_ = outcome.result;
    run_ = 1;
  }
  const bool success = outcome.result == ProbeResult::kSuccess;
  if (run_ < (success ? settings_.success_threshold : settings_.failure_threshold)) return false;

  const Verdict before = result_;
  result_ = success ? Verdict::kSuccess : Verdict::kFailure;
  // A failed liveness or startup probe means a restart: probing the dying attempt
  // (exec into a container being killed) helps nobody. A started container is
  // started for good.
  if ((kind_ != ProbeKind::kReadiness && !success) || (kind_ == ProbeKind::kStartup && success)) {
    done_ = true;
  }
  return result_ != before;
}

}  // namespace reef::agent::probes
