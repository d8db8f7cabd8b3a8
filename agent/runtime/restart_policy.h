#pragma once
// When to restart a container that ended, as the kubelet decides: the pod's
// restartPolicy, then CrashLoopBackOff. The first restart is immediate; each further
// one waits twice as long as the one before, from 10 s up to 5 min, counted from the
// exit. A container that ran 10 min before it ended starts over as if it had never
// crashed. Pure logic over a Clock, so tests move time by hand.

#include <string_view>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/status.h"

namespace reef::agent::runtime {

enum class RestartPolicy { kAlways, kOnFailure, kNever };

// "Always" (also for ""), "OnFailure", "Never"; InvalidArgument otherwise.
absl::StatusOr<RestartPolicy> ParseRestartPolicy(std::string_view text);

// Always restarts; OnFailure only after a non-zero exit; Never does not.
bool ShouldRestart(RestartPolicy policy, int exit_code);

struct BackoffOptions {
  absl::Duration initial = absl::Seconds(10);
  absl::Duration max = absl::Minutes(5);
  absl::Duration reset_after = absl::Minutes(10);
};

// The wait before the restart that follows `crashes` earlier ones in a row (0: none).
absl::Duration BackoffDelay(int crashes, const BackoffOptions& options);

// One container's restarts over its pod's life. Not thread-safe.
class RestartTracker {
 public:
  RestartTracker(RestartPolicy policy, const Clock& clock, BackoffOptions options = {});

  struct Decision {
    bool restart = false;   // false: the container stays terminated
    absl::Time not_before;  // with restart: the earliest time to start it again
  };
  // Records an exit with the times its monitor recorded (which may be long past when
  // the agent learns them after its own restart) and decides.
  Decision OnExit(int exit_code, absl::Time started_at, absl::Time finished_at);

  // True while a decided restart must still wait: the pod shows CrashLoopBackOff.
  bool InBackoff() const { return clock_.Now() < not_before_; }
  absl::Duration RemainingBackoff() const;

  // The container was started again.
  void OnRestarted() { ++restart_count_; }
  int restart_count() const { return restart_count_; }

 private:
  const RestartPolicy policy_;
  const Clock& clock_;
  const BackoffOptions options_;
  int crashes_ = 0;  // exits in a row that each followed a short run
  absl::Time not_before_ = absl::InfinitePast();
  int restart_count_ = 0;
};

}  // namespace reef::agent::runtime
