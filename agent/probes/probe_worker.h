#pragma once
// One probe of one container attempt, as the kubelet's prober worker sees it: when it
// is due, and which result its thresholds let through. Pure logic: no threads, no
// clock; the ProbeManager drives it and guards it with its mutex.
//
// Invariants (the kubelet's pkg/kubelet/prober/worker.go):
//  - result() starts at the kind's initial value: Readiness kFailure (not ready),
//    Liveness kSuccess, Startup kUnknown.
//  - It changes only after successThreshold successes, or failureThreshold failures,
//    in a row; a kError outcome is thrown away and breaks no run.
//  - A Liveness or Startup probe that reached kFailure, and a Startup probe that
//    reached kSuccess, are done: next_due() is InfiniteFuture. A restart is a new
//    container id, hence a new worker.

#include <string>

#include "absl/time/time.h"
#include "agent/probes/probe_settings.h"
#include "agent/probes/prober.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::probes {

enum class Verdict { kUnknown, kSuccess, kFailure };

class ProbeWorker {
 public:
  ProbeWorker(ProbeKind kind, reef::v1::Probe probe, absl::Time container_started);

  ProbeKind kind() const { return kind_; }
  const reef::v1::Probe& probe() const { return probe_; }
  const ProbeSettings& settings() const { return settings_; }

  // When the next run may start: initialDelaySeconds after the container started,
  // then a period after each run started (right after a run that overran it).
  absl::Time next_due() const { return done_ ? absl::InfiniteFuture() : next_due_; }
  void RunStarted(absl::Time now) { next_due_ = now + settings_.period; }

  // Counts one run's outcome; true when result() changed.
  bool Record(const ProbeOutcome& outcome);

  Verdict result() const { return result_; }
  // The message of the last failed run ("HTTP probe failed with statuscode: 500").
  const std::string& failure_message() const { return failure_message_; }

 private:
  const ProbeKind kind_;
  const reef::v1::Probe probe_;
  const ProbeSettings settings_;
  absl::Time next_due_;
  bool done_ = false;
  Verdict result_;
  ProbeResult last_ = ProbeResult::kError;  // no run counted yet
  int run_ = 0;                             // how many times last_ in a row
  std::string failure_message_;
};

}  // namespace reef::agent::probes
