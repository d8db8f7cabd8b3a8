// ProbeManager with a FakeClock and a scripted Prober: schedules, thresholds, startup
// gating, failures, forgetting, and on_change. WaitIdleForTest runs whatever the fake
// clock made due and waits for it, so each step is deterministic.

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>

#include "agent/probes/probe_manager.h"

namespace reef::agent::probes {
namespace {

// Answers by (container id, probe kind) where each test probe's exec command is its
// kind's name; counts calls. A key can be made to block until released.
class FakeProber : public Prober {
 public:
  ProbeOutcome Run(const reef::v1::Probe& probe, const ProbeTarget& target,
                   absl::Duration) override {
    const Key key{target.container_id, probe.exec().command(0)};
    absl::MutexLock lock(&mu_);
    ++calls_[key];
    auto blocked = [this, &key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !blocked_.contains(key);
    };
    mu_.Await(absl::Condition(&blocked));
    auto it = answers_.find(key);
    return it == answers_.end() ? ProbeOutcome::Success() : it->second;
  }

  void Answer(const std::string& id, const std::string& kind, ProbeOutcome outcome) {
    absl::MutexLock lock(&mu_);
    answers_[{id, kind}] = std::move(outcome);
  }
  int Calls(const std::string& id, const std::string& kind) {
    absl::MutexLock lock(&mu_);
    return calls_[{id, kind}];
  }
  void Block(const std::string& id, const std::string& kind) {
    absl::MutexLock lock(&mu_);
    blocked_.insert({id, kind});
  }
  void Release(const std::string& id, const std::string& kind) {
    absl::MutexLock lock(&mu_);
    blocked_.erase({id, kind});
  }
  void ReleaseAll() {
    absl::MutexLock lock(&mu_);
    blocked_.clear();
  }

 private:
  using Key = std::pair<std::string, std::string>;
  absl::Mutex mu_;
  std::map<Key, ProbeOutcome> answers_ ABSL_GUARDED_BY(mu_);
  std::map<Key, int> calls_ ABSL_GUARDED_BY(mu_);
  std::set<Key> blocked_ ABSL_GUARDED_BY(mu_);
};

struct ProbeSpec {
  int delay = 0, period = 10, success = 1, failure = 3;
};

reef::v1::Probe MakeProbe(const std::string& kind, ProbeSpec s) {
  reef::v1::Probe p;
  p.mutable_exec()->add_command(kind);
  p.set_initial_delay_seconds(s.delay);
  p.set_period_seconds(s.period);
  p.set_success_threshold(s.success);
  p.set_failure_threshold(s.failure);
  return p;
}

struct Fixture {
  FakeClock clock;
  FakeProber prober;
  std::atomic<int> changes{0};
  std::unique_ptr<ProbeManager> manager;

  Fixture() {
    ProbeManagerOptions o;
    o.clock = &clock;
    o.prober = &prober;
    o.on_change = [this] { ++changes; };
    manager = std::make_unique<ProbeManager>(o);
  }
  // The manager joins its probe threads: none may stay blocked, also after a failure.
  ~Fixture() {
    prober.ReleaseAll();
    manager.reset();
  }

  ProbedContainer Container(const std::string& id) {
    ProbedContainer c;
    c.id = id;
    c.pod_key = "default/web";
    c.spec.set_name("web");
    c.started_at = clock.Now();
    return c;
  }

  // Moves the fake clock in one-second steps, running what falls due on the way.
  void Advance(int seconds) {
    for (int i = 0; i < seconds; ++i) {
      clock.Advance(absl::Seconds(1));
      manager->WaitIdleForTest();
    }
  }
};

TEST_CASE("a container without probes is started and ready at once, unknown ids are not") {
  Fixture f;
  f.manager->SetContainers({f.Container("a")});
  CHECK(f.manager->Started("a"));
  CHECK(f.manager->Ready("a"));
  CHECK_FALSE(f.manager->Failure("a"));
  CHECK_FALSE(f.manager->Started("nope"));
  CHECK_FALSE(f.manager->Ready("nope"));
  CHECK_FALSE(f.manager->Failure("nope"));
  f.manager->WaitIdleForTest();
  CHECK(f.changes == 0);
}

TEST_CASE("readiness: successThreshold successes to be ready, failureThreshold failures to stop") {
  Fixture f;
  ProbedContainer c = f.Container("a");
  *c.spec.mutable_readiness_probe() = MakeProbe("readiness", {.period = 5, .success = 2, .failure = 2});
  f.manager->SetContainers({c});
  CHECK(f.manager->Started("a"));
  CHECK_FALSE(f.manager->Ready("a"));  // not ready until the probe says so

  f.manager->WaitIdleForTest();  // the first run is due at once (no initial delay)
  CHECK(f.prober.Calls("a", "readiness") == 1);
  CHECK_FALSE(f.manager->Ready("a"));
  f.Advance(4);
  CHECK(f.prober.Calls("a", "readiness") == 1);  // the period is 5s
  f.Advance(1);
  CHECK(f.prober.Calls("a", "readiness") == 2);
  CHECK(f.manager->Ready("a"));
  CHECK(f.changes == 1);

  f.prober.Answer("a", "readiness", ProbeOutcome::Failure("HTTP probe failed with statuscode: 503"));
  f.Advance(5);
  CHECK(f.manager->Ready("a"));  // one failure is below the threshold
  f.Advance(5);
  CHECK_FALSE(f.manager->Ready("a"));
  CHECK(f.changes == 2);
  CHECK_FALSE(f.manager->Failure("a"));  // readiness never asks for a restart
  f.Advance(5);
  CHECK(f.prober.Calls("a", "readiness") == 5);  // and keeps running
  CHECK(f.changes == 2);                         // unchanged results call nobody
}

TEST_CASE("initialDelaySeconds counts from the container's start") {
  Fixture f;
  ProbedContainer c = f.Container("a");
  *c.spec.mutable_liveness_probe() = MakeProbe("liveness", {.delay = 10, .period = 5});
  f.manager->SetContainers({c});
  f.Advance(9);
  CHECK(f.prober.Calls("a", "liveness") == 0);
  f.Advance(1);
  CHECK(f.prober.Calls("a", "liveness") == 1);
  f.Advance(4);
  CHECK(f.prober.Calls("a", "liveness") == 1);
  f.Advance(1);
  CHECK(f.prober.Calls("a", "liveness") == 2);
  CHECK(f.changes == 0);  // passing liveness changes nothing

  // A container adopted long after it started is probed at once.
  ProbedContainer old = f.Container("b");
  old.started_at = f.clock.Now() - absl::Hours(1);
  *old.spec.mutable_liveness_probe() = MakeProbe("liveness", {.delay = 10});
  f.manager->SetContainers({c, old});
  f.manager->WaitIdleForTest();
  CHECK(f.prober.Calls("b", "liveness") == 1);
}

TEST_CASE("liveness failing failureThreshold times sets Failure with the message, then stops") {
  Fixture f;
  ProbedContainer c = f.Container("a");
  *c.spec.mutable_liveness_probe() = MakeProbe("liveness", {.period = 10, .failure = 3});
  f.prober.Answer("a", "liveness", ProbeOutcome::Failure("HTTP probe failed with statuscode: 500"));
  f.manager->SetContainers({c});
  f.manager->WaitIdleForTest();
  f.Advance(10);
  CHECK_FALSE(f.manager->Failure("a"));
  CHECK(f.changes == 0);
  f.Advance(10);
  REQUIRE(f.manager->Failure("a"));
  CHECK(*f.manager->Failure("a") == "Liveness probe failed: HTTP probe failed with statuscode: 500");
  CHECK(f.changes == 1);
  CHECK(f.manager->Ready("a"));  // no readiness probe: readiness is not liveness
  f.Advance(30);
  CHECK(f.prober.Calls("a", "liveness") == 3);  // no probing of a doomed attempt
  CHECK(f.changes == 1);

  // The restart is a new id with fresh state; the old one is forgotten.
  f.prober.Answer("a2", "liveness", ProbeOutcome::Success());
  ProbedContainer restarted = f.Container("a2");
  restarted.spec = c.spec;
  f.manager->SetContainers({restarted});
  f.manager->WaitIdleForTest();
  CHECK_FALSE(f.manager->Failure("a"));
  CHECK_FALSE(f.manager->Failure("a2"));
  CHECK(f.prober.Calls("a2", "liveness") == 1);
}

TEST_CASE("liveness and readiness wait for the startup probe, which stops once it succeeded") {
  Fixture f;
  ProbedContainer c = f.Container("a");
  *c.spec.mutable_startup_probe() = MakeProbe("startup", {.period = 2, .failure = 30});
  *c.spec.mutable_readiness_probe() = MakeProbe("readiness", {.period = 10});
  *c.spec.mutable_liveness_probe() = MakeProbe("liveness", {.period = 10});
  f.prober.Answer("a", "startup", ProbeOutcome::Failure("dial tcp 10.88.0.5:80: connect: connection refused"));
  f.manager->SetContainers({c});
  f.manager->WaitIdleForTest();
  f.Advance(20);
  CHECK(f.prober.Calls("a", "startup") == 11);
  CHECK(f.prober.Calls("a", "readiness") == 0);
  CHECK(f.prober.Calls("a", "liveness") == 0);
  CHECK_FALSE(f.manager->Started("a"));
  CHECK_FALSE(f.manager->Ready("a"));
  CHECK_FALSE(f.manager->Failure("a"));  // 11 of 30 failures

  f.prober.Answer("a", "startup", ProbeOutcome::Success());
  f.Advance(2);
  CHECK(f.manager->Started("a"));
  // The others were due long ago: they run as soon as the container has started.
  CHECK(f.prober.Calls("a", "readiness") == 1);
  CHECK(f.prober.Calls("a", "liveness") == 1);
  CHECK(f.manager->Ready("a"));
  CHECK(f.changes == 2);  // started, then ready
  f.Advance(20);
  CHECK(f.prober.Calls("a", "startup") == 12);
  CHECK(f.prober.Calls("a", "readiness") == 3);
}

TEST_CASE("a startup probe failing failureThreshold times is a Failure") {
  Fixture f;
  ProbedContainer c = f.Container("a");
  *c.spec.mutable_startup_probe() = MakeProbe("startup", {.period = 1, .failure = 3});
  f.prober.Answer("a", "startup", ProbeOutcome::Failure("command \"check\" timed out"));
  f.manager->SetContainers({c});
  f.manager->WaitIdleForTest();
  f.Advance(2);
  REQUIRE(f.manager->Failure("a"));
  CHECK(*f.manager->Failure("a") == "Startup probe failed: command \"check\" timed out");
  CHECK_FALSE(f.manager->Started("a"));
  CHECK(f.changes == 1);
}

TEST_CASE("ids that stay keep their state, ids that leave are forgotten") {
  Fixture f;
  ProbedContainer c = f.Container("a");
  *c.spec.mutable_readiness_probe() = MakeProbe("readiness", {.period = 10});
  f.manager->SetContainers({c});
  f.manager->WaitIdleForTest();
  CHECK(f.manager->Ready("a"));

  c.pod_ip = "10.88.0.7";  // learnt later: same attempt, same state
  f.manager->SetContainers({c, f.Container("b")});
  f.manager->WaitIdleForTest();
  CHECK(f.manager->Ready("a"));
  CHECK(f.prober.Calls("a", "readiness") == 1);  // not due again before its period

  f.manager->SetContainers({f.Container("b")});
  CHECK_FALSE(f.manager->Ready("a"));
  f.Advance(10);
  CHECK(f.prober.Calls("a", "readiness") == 1);

  // Back under the same id (not something the agent does) it starts over.
  f.prober.Answer("a", "readiness", ProbeOutcome::Failure("nope"));
  f.manager->SetContainers({c});
  f.manager->WaitIdleForTest();
  CHECK_FALSE(f.manager->Ready("a"));
  CHECK(f.prober.Calls("a", "readiness") == 2);
}

TEST_CASE("a result arriving for a forgotten id is dropped") {
  Fixture f;
  ProbedContainer c = f.Container("a");
  *c.spec.mutable_readiness_probe() = MakeProbe("readiness", {});
  f.prober.Block("a", "readiness");
  f.manager->SetContainers({c});
  while (f.prober.Calls("a", "readiness") == 0) absl::SleepFor(absl::Milliseconds(1));
  f.manager->SetContainers({});
  f.prober.Release("a", "readiness");
  f.manager->WaitIdleForTest();
  CHECK_FALSE(f.manager->Ready("a"));
  CHECK(f.changes == 0);
}

TEST_CASE("a slow probe does not hold up the others") {
  Fixture f;
  ProbedContainer slow = f.Container("slow");
  *slow.spec.mutable_liveness_probe() = MakeProbe("liveness", {.period = 1});
  ProbedContainer quick = f.Container("quick");
  *quick.spec.mutable_readiness_probe() = MakeProbe("readiness", {.period = 1});
  f.prober.Block("slow", "liveness");
  f.manager->SetContainers({slow, quick});

  // WaitIdleForTest would wait for the blocked probe too: watch the calls instead.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  auto wait_for_calls = [&](int n) {
    while (f.prober.Calls("quick", "readiness") < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    return f.prober.Calls("quick", "readiness") >= n;
  };
  REQUIRE(wait_for_calls(1));
  CHECK(f.manager->Ready("quick"));
  for (int n = 2; n <= 4; ++n) {
    f.clock.Advance(absl::Seconds(1));
    f.manager->SetContainers({slow, quick});  // wakes the scheduler
    REQUIRE(wait_for_calls(n));
  }
  // The blocked probe never overlapped itself.
  CHECK(f.prober.Calls("slow", "liveness") == 1);
  f.prober.Release("slow", "liveness");
  f.manager->WaitIdleForTest();
}

}  // namespace
}  // namespace reef::agent::probes
