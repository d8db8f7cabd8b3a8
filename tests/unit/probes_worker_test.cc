// ProbeWorker: the kubelet's threshold rules for one probe, without threads or clock.

#include <doctest/doctest.h>

#include "agent/probes/probe_worker.h"

namespace reef::agent::probes {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
const ProbeOutcome kOk = ProbeOutcome::Success();
const ProbeOutcome kBad = ProbeOutcome::Failure("boom");
const ProbeOutcome kErr = ProbeOutcome::Error("no such port");

reef::v1::Probe Probe(int success, int failure) {
  reef::v1::Probe p;
  p.mutable_exec()->add_command("check");
  p.set_success_threshold(success);
  p.set_failure_threshold(failure);
  return p;
}

TEST_CASE("defaults are Kubernetes': delay 0, period 10s, timeout 1s, thresholds 1 and 3") {
  reef::v1::Probe p;
  ProbeSettings s = SettingsOf(p);
  CHECK(s.initial_delay == absl::ZeroDuration());
  CHECK(s.period == absl::Seconds(10));
  CHECK(s.timeout == absl::Seconds(1));
  CHECK(s.success_threshold == 1);
  CHECK(s.failure_threshold == 3);
  p.set_period_seconds(0);  // 0 means unset, as in Kubernetes' defaulting
  p.set_timeout_seconds(5);
  p.set_initial_delay_seconds(7);
  s = SettingsOf(p);
  CHECK(s.period == absl::Seconds(10));
  CHECK(s.timeout == absl::Seconds(5));
  CHECK(s.initial_delay == absl::Seconds(7));
}

TEST_CASE("initial results: readiness fails, liveness passes, startup is unknown") {
  CHECK(ProbeWorker(ProbeKind::kReadiness, Probe(1, 3), kStart).result() == Verdict::kFailure);
  CHECK(ProbeWorker(ProbeKind::kLiveness, Probe(1, 3), kStart).result() == Verdict::kSuccess);
  CHECK(ProbeWorker(ProbeKind::kStartup, Probe(1, 3), kStart).result() == Verdict::kUnknown);
}

TEST_CASE("readiness flips only after a run of successThreshold or failureThreshold") {
  ProbeWorker w(ProbeKind::kReadiness, Probe(2, 3), kStart);
  CHECK_FALSE(w.Record(kOk));
  CHECK_FALSE(w.Record(kBad));  // breaks the run of successes
  CHECK_FALSE(w.Record(kOk));
  CHECK(w.Record(kOk));
  CHECK(w.result() == Verdict::kSuccess);
  CHECK_FALSE(w.Record(kOk));  // unchanged
  CHECK_FALSE(w.Record(kBad));
  CHECK_FALSE(w.Record(kBad));
  CHECK(w.Record(kBad));
  CHECK(w.result() == Verdict::kFailure);
  CHECK(w.failure_message() == "boom");
  CHECK(w.next_due() != absl::InfiniteFuture());  // readiness keeps probing
}

TEST_CASE("an errored probe is thrown away and does not break a run") {
  ProbeWorker w(ProbeKind::kLiveness, Probe(1, 3), kStart);
  CHECK_FALSE(w.Record(kBad));
  CHECK_FALSE(w.Record(kErr));
  CHECK_FALSE(w.Record(kBad));
  CHECK_FALSE(w.Record(kErr));
  CHECK(w.Record(kBad));
  CHECK(w.result() == Verdict::kFailure);
}

TEST_CASE("a failed liveness probe and a succeeded startup probe stop being due") {
  ProbeWorker live(ProbeKind::kLiveness, Probe(1, 1), kStart);
  CHECK(live.next_due() == kStart);
  CHECK(live.Record(kBad));
  CHECK(live.next_due() == absl::InfiniteFuture());
  CHECK_FALSE(live.Record(kOk));  // done: nothing counts any more
  CHECK(live.result() == Verdict::kFailure);

  ProbeWorker startup(ProbeKind::kStartup, Probe(1, 3), kStart);
  CHECK(startup.Record(kOk));
  CHECK(startup.result() == Verdict::kSuccess);
  CHECK(startup.next_due() == absl::InfiniteFuture());
}

TEST_CASE("the next run is due initialDelaySeconds after the start, then a period after each") {
  reef::v1::Probe p = Probe(1, 3);
  p.set_initial_delay_seconds(15);
  p.set_period_seconds(5);
  ProbeWorker w(ProbeKind::kReadiness, p, kStart);
  CHECK(w.next_due() == kStart + absl::Seconds(15));
  w.RunStarted(kStart + absl::Seconds(16));
  CHECK(w.next_due() == kStart + absl::Seconds(21));
}

}  // namespace
}  // namespace reef::agent::probes
