#include <doctest/doctest.h>

#include "agent/runtime/restart_policy.h"

namespace reef::agent::runtime {
namespace {

TEST_CASE("restartPolicy parses, defaulting to Always") {
  CHECK(*ParseRestartPolicy("") == RestartPolicy::kAlways);
  CHECK(*ParseRestartPolicy("Always") == RestartPolicy::kAlways);
  CHECK(*ParseRestartPolicy("OnFailure") == RestartPolicy::kOnFailure);
  CHECK(*ParseRestartPolicy("Never") == RestartPolicy::kNever);
  absl::Status bad = ParseRestartPolicy("always").status();
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.message() == "restartPolicy \"always\": must be Always, OnFailure or Never");
}

TEST_CASE("which exits restart under each policy") {
  CHECK(ShouldRestart(RestartPolicy::kAlways, 0));
  CHECK(ShouldRestart(RestartPolicy::kAlways, 1));
  CHECK_FALSE(ShouldRestart(RestartPolicy::kOnFailure, 0));
  CHECK(ShouldRestart(RestartPolicy::kOnFailure, 137));
  CHECK_FALSE(ShouldRestart(RestartPolicy::kNever, 0));
  CHECK_FALSE(ShouldRestart(RestartPolicy::kNever, 2));
}

TEST_CASE("the delay doubles from 10 s and stops at 5 min") {
  BackoffOptions o;
  CHECK(BackoffDelay(0, o) == absl::ZeroDuration());
  CHECK(BackoffDelay(1, o) == absl::Seconds(10));
  CHECK(BackoffDelay(2, o) == absl::Seconds(20));
  CHECK(BackoffDelay(3, o) == absl::Seconds(40));
  CHECK(BackoffDelay(5, o) == absl::Seconds(160));
  CHECK(BackoffDelay(6, o) == absl::Minutes(5));
  CHECK(BackoffDelay(1000, o) == absl::Minutes(5));
}

// Runs a container that lives `run` and crashes, as the agent would, restarting it as
// soon as the tracker allows; returns the wait before each restart.
struct CrashLoop {
  FakeClock clock;
  RestartTracker tracker{RestartPolicy::kAlways, clock};

  absl::Duration CrashAfter(absl::Duration run, int exit_code = 1) {
    absl::Time started = clock.Now();
    clock.Advance(run);
    RestartTracker::Decision d = tracker.OnExit(exit_code, started, clock.Now());
    REQUIRE(d.restart);
    absl::Duration wait = d.not_before - clock.Now();
    CHECK(tracker.RemainingBackoff() == wait);
    CHECK(tracker.InBackoff() == (wait > absl::ZeroDuration()));
    clock.Advance(wait);
    CHECK_FALSE(tracker.InBackoff());
    tracker.OnRestarted();
    return wait;
  }
};

TEST_CASE("CrashLoopBackOff: immediate first restart, then 10 s doubling to 5 min") {
  CrashLoop loop;
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 9; ++i) waits.push_back(loop.CrashAfter(absl::Seconds(1)));
  CHECK(waits == std::vector<absl::Duration>{absl::ZeroDuration(), absl::Seconds(10),
                                             absl::Seconds(20), absl::Seconds(40),
                                             absl::Seconds(80), absl::Seconds(160),
                                             absl::Minutes(5), absl::Minutes(5), absl::Minutes(5)});
  CHECK(loop.tracker.restart_count() == 9);
}

TEST_CASE("CrashLoopBackOff counts from the exit, and a late look may restart at once") {
  CrashLoop loop;
  loop.CrashAfter(absl::Seconds(1));
  absl::Time started = loop.clock.Now();
  loop.clock.Advance(absl::Seconds(2));
  absl::Time finished = loop.clock.Now();
  loop.clock.Advance(absl::Seconds(4));  // the agent learns of the exit 4 s late
  RestartTracker::Decision d = loop.tracker.OnExit(1, started, finished);
  CHECK(d.not_before == finished + absl::Seconds(10));
  CHECK(loop.tracker.RemainingBackoff() == absl::Seconds(6));
  loop.clock.Advance(absl::Minutes(1));  // e.g. the agent itself was down
  CHECK_FALSE(loop.tracker.InBackoff());
  CHECK(loop.tracker.RemainingBackoff() == absl::ZeroDuration());
}

TEST_CASE("a run of 10 min resets the backoff but 9 min does not") {
  CrashLoop loop;
  for (int i = 0; i < 6; ++i) loop.CrashAfter(absl::Seconds(1));
  CHECK(loop.CrashAfter(absl::Minutes(9)) == absl::Minutes(5));
  CHECK(loop.CrashAfter(absl::Minutes(10)) == absl::ZeroDuration());
  CHECK(loop.CrashAfter(absl::Seconds(1)) == absl::Seconds(10));
}

TEST_CASE("OnFailure and Never: no restart when the policy says so, and no backoff shown") {
  FakeClock clock;
  RestartTracker on_failure(RestartPolicy::kOnFailure, clock);
  absl::Time t = clock.Now();
  CHECK(on_failure.OnExit(1, t, t).restart);
  CHECK(on_failure.OnExit(2, t, t + absl::Seconds(1)).restart);
  CHECK(on_failure.InBackoff());
  RestartTracker::Decision done = on_failure.OnExit(0, t, t + absl::Seconds(2));
  CHECK_FALSE(done.restart);
  CHECK_FALSE(on_failure.InBackoff());

  RestartTracker never(RestartPolicy::kNever, clock);
  CHECK_FALSE(never.OnExit(1, t, t).restart);
  CHECK_FALSE(never.OnExit(0, t, t).restart);
  CHECK(never.restart_count() == 0);
}

TEST_CASE("the backoff options are the caller's to change") {
  FakeClock clock;
  BackoffOptions o;
  o.initial = absl::Seconds(1);
  o.max = absl::Seconds(3);
  RestartTracker t(RestartPolicy::kAlways, clock, o);
  absl::Time now = clock.Now();
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 5; ++i) waits.push_back(t.OnExit(1, now, now).not_before - now);
  CHECK(waits == std::vector<absl::Duration>{absl::ZeroDuration(), absl::Seconds(1),
                                             absl::Seconds(2), absl::Seconds(3), absl::Seconds(3)});
}

}  // namespace
}  // namespace reef::agent::runtime
