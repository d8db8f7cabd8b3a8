#pragma once
// The controller's control loops, wired together: the ObjectCache, the Runner and
// its workers, and each loop (ReplicaSet, Deployment, DaemonSet, the scheduler, node
// lifecycle, garbage collection). The Controller starts it after the store and stops
// it before the store goes.

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "controller/reconcile/node_leases.h"
#include "controller/reconcile/object_cache.h"
#include "controller/reconcile/runner.h"

namespace reef::reconcile {

// The loops by name, as --controllers names them (kube-controller-manager's flag).
inline constexpr std::string_view kLoopNames[] = {"replicaset", "deployment",    "daemonset",
                                                  "scheduler",  "nodelifecycle", "garbagecollector"};
std::set<std::string> AllLoops();
// "*" (all), "name" (enable), "-name" (disable), comma-separated and applied in order:
// "*,-scheduler" is every loop but the scheduler; "-*" none (a controller that only
// serves the API, as tests of the CLI alone want). Unknown names are an error.
absl::StatusOr<std::set<std::string>> ParseControllers(std::string_view flag);

struct ReconcilerOptions {
  std::set<std::string> enabled = AllLoops();
  // A node whose agent was not heard from for this long is NotReady.
  absl::Duration node_lease_duration = absl::Seconds(40);
  // Pods of ReplicaSets on a NotReady node are replaced after this long.
  absl::Duration pod_eviction_timeout = absl::Minutes(5);
  // How often node leases are checked.
  absl::Duration node_monitor_period = absl::Seconds(5);
  absl::Duration event_ttl = absl::Hours(1);
  int workers = 2;
  absl::Duration resync_period = absl::Minutes(5);
  const Clock* clock = &Clock::Real();
};

class Reconcilers {
 public:
  // Loads the cache from `store` and starts the workers. `store` and `leases` must
  // outlive the result.
  static absl::StatusOr<std::unique_ptr<Reconcilers>> Start(store::Store* store, NodeLeases* leases,
                                                            const ReconcilerOptions& options);
  // The same without worker threads: tests call RunUntilIdleForTest() (with a
  // FakeClock in the options) and see every step.
  static absl::StatusOr<std::unique_ptr<Reconcilers>> CreateForTest(store::Store* store,
                                                                    NodeLeases* leases,
                                                                    const ReconcilerOptions& options);
  ~Reconcilers();

  // Waits for the workers to finish their current item, and stops watching the
  // store. Idempotent.
  void Stop();

  // Runs every item that is due by the clock until the queue has none; returns how
  // many ran.
  int RunUntilIdleForTest() { return runner_->RunUntilIdleForTest(); }
  const State& state() const { return *cache_; }
  // Node writes and evictions made by the node lifecycle loop.
  int64_t NodeLifecycleWrites() const;

 private:
  Reconcilers() = default;
  static absl::StatusOr<std::unique_ptr<Reconcilers>> Create(store::Store* store, NodeLeases* leases,
                                                             const ReconcilerOptions& options);

  struct Loops;
  std::unique_ptr<Loops> loops_;
  std::unique_ptr<Runner> runner_;
  std::atomic<Runner*> live_runner_{nullptr};  // what the cache's listener calls
  // Declared last, destroyed first: the store's sink stops calling into the runner.
  std::unique_ptr<ObjectCache> cache_;
  NodeLeases* leases_ = nullptr;
  bool stopped_ = false;
};

}  // namespace reef::reconcile
