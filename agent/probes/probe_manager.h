#pragma once
// Runs the probes of the agent's running containers and keeps their results, which
// the sync loop reads on every pass.
//
// Threads: one scheduler thread wakes when the earliest probe is due (by the Clock)
// and starts each due probe on a short-lived thread of its own, so that a slow probe
// (up to its timeout) delays no other. A probe never overlaps itself, so at most one
// thread per container and probe kind is ever running; between runs nothing but the
// scheduler exists. The scheduler joins finished runs; the destructor joins all
// (waiting for probes in flight, each bounded by its timeout).
//
// Thread safety: every method may be called from any thread. on_change is called from
// the probe threads, without the manager's lock held (it may call Ready() and co).

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/probes/probe_worker.h"
#include "agent/probes/prober.h"
#include "common/clock.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::probes {

struct ProbedContainer {
  std::string id;            // runtime container id: one attempt; a restart is a new id
  std::string pod_key;       // "ns/name", for messages
  reef::v1::Container spec;  // its liveness/readiness/startup probes and ports
  std::string pod_ip;        // empty for a pod on the node's network
  absl::Time started_at;     // initialDelaySeconds counts from here
};

struct ProbeManagerOptions {
  const Clock* clock = &Clock::Real();  // decides when probes are due
  Prober* prober = nullptr;             // must outlive the manager
  // Called when a result changes what Ready, Started or Failure return (wake the sync
  // loop). Keep it short: it runs on a probe thread.
  std::function<void()> on_change;
};

class ProbeManager {
 public:
  explicit ProbeManager(ProbeManagerOptions options);
  ~ProbeManager();
  ProbeManager(const ProbeManager&) = delete;
  ProbeManager& operator=(const ProbeManager&) = delete;

  // The running containers to probe; replaces the previous set. A container keeps its
  // probe state while its id stays in the set (its pod IP and ports are updated); ids
  // that leave are forgotten, and the result of a probe in flight for them dropped.
  void SetContainers(std::vector<ProbedContainer> containers);

  // Without a readiness probe: true once Started. With one: false until
  // successThreshold successes in a row, false again after failureThreshold failures.
  // False for an id not in the set.
  bool Ready(const std::string& id) const;
  // True without a startup probe, else once it succeeded; false for an unknown id.
  // Liveness and readiness probes run only once the container has started.
  bool Started(const std::string& id) const;
  // Set once the liveness (or startup) probe failed failureThreshold times in a row:
  // the caller kills the container, restarts it per restartPolicy (a new id) and
  // reports this, e.g. "Liveness probe failed: HTTP probe failed with statuscode: 500".
  // That probe then stops running for this id.
  std::optional<std::string> Failure(const std::string& id) const;

  // Wakes the scheduler and returns once it has started every probe due at the
  // clock's current time and all of them have finished (for a FakeClock, which does
  // not wake anyone when it moves).
  void WaitIdleForTest();

 private:
  // What the accessors return for one container.
  struct View {
    bool ready = false;
    bool started = false;
    std::optional<std::string> failure;
    bool operator==(const View&) const = default;
  };
  struct Entry {
    ProbedContainer container;
    std::vector<ProbeWorker> workers;  // one per probe kind the container has
    std::vector<bool> in_flight;       // per worker: a run is going on
    View view;
  };
  // A probe thread, joined by the scheduler once `done`.
  struct Run {
    std::thread thread;
    bool done = false;
  };

  static View ComputeView(const Entry& entry);
  const Entry* Find(const std::string& id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void SchedulerLoop();
  // Starts the due probes; returns when the next one is due.
  absl::Time StartDueProbes(absl::Time now, int* started) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunProbe(std::shared_ptr<Entry> entry, size_t index, std::list<Run>::iterator run);

  const ProbeManagerOptions options_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  std::list<Run> runs_ ABSL_GUARDED_BY(mu_);
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;      // scheduler passes begun
  uint64_t quiet_pass_ ABSL_GUARDED_BY(mu_) = 0;  // last one with nothing due or running
  std::thread scheduler_;
};

}  // namespace reef::agent::probes
