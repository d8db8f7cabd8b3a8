#pragma once
// Node lifecycle: turns agents that stopped heartbeating into NotReady nodes, and
// replaces what ran there only after an eviction timeout.
//
// - A node whose lease (NodeLeases) is older than the lease duration gets its
//   conditions set to Unknown ("reef-agent stopped posting node status.") and the
//   taint node.kubernetes.io/unreachable:NoExecute; an agent that reports Ready=False
//   itself gets node.kubernetes.io/not-ready:NoExecute. When the lease renews, Ready
//   is True again and the taint goes. Nodes are written only on these transitions.
// - A node with no lease since the controller started gets one lease duration of
//   grace before going Unknown: the controller just restarted, its agents are
//   reconnecting.
// - Pods of a ReplicaSet on a node NotReady for longer than the eviction timeout are
//   deleted, so that replacements run elsewhere. A pod may set its own timeout, as in
//   Kubernetes, with a toleration of the taint and tolerationSeconds (one without
//   tolerationSeconds is never evicted). DaemonSet pods (which tolerate the taints)
//   and standalone pods stay: the box keeps running them (edge autonomy). The clock
//   starts no earlier than the controller's start plus the lease duration, so that a
//   controller restart does not evict pods of nodes that were down while it was.
// - ReplicaSet pods bound to a node that no longer exists are deleted at once.

#include <atomic>
#include <map>

#include "controller/reconcile/node_leases.h"
#include "controller/reconcile/reconciler.h"

namespace reef::reconcile {

struct NodeLifecycleOptions {
  absl::Duration lease_duration = absl::Seconds(40);
  absl::Duration pod_eviction_timeout = absl::Minutes(5);
  absl::Duration monitor_period = absl::Seconds(5);
};

struct NodeLifecyclePlan {
  std::vector<v1::Object> nodes;  // Nodes whose conditions or taints change
  std::vector<ObjectPtr> evict;   // pods to delete
  // When the next lease runs out or the next eviction is due.
  absl::Duration requeue_after = absl::ZeroDuration();
};

NodeLifecyclePlan PlanNodeLifecycle(const std::vector<ObjectPtr>& nodes, const std::vector<ObjectPtr>& pods,
                                    const std::map<std::string, absl::Time, std::less<>>& leases,
                                    absl::Time started, const NodeLifecycleOptions& options,
                                    absl::Time now);

class NodeLifecycleReconciler : public Reconciler {
 public:
  // `started`: when the controller started (leases before it are unknown).
  NodeLifecycleReconciler(store::Store* store, const State* state, const NodeLeases* leases,
                          const Clock* clock, const NodeLifecycleOptions& options)
      : store_(store), state_(state), leases_(leases), clock_(clock), options_(options),
        started_(clock->Now()) {}

  std::string_view name() const override { return "NodeLifecycle"; }
  void KeysFor(const store::Event& event, const State& state,
               std::vector<std::string>* keys) const override;
  void AllKeys(const State& state, std::vector<std::string>* keys) const override;
  absl::StatusOr<Result> Reconcile(const std::string& key) override;
  absl::Duration period() const override { return options_.monitor_period; }

  // Writes made so far (node transitions and evictions), for tests and logs: an
  // idle cluster should see none.
  int64_t writes() const { return writes_.load(); }

 private:
  store::Store* store_;
  const State* state_;
  const NodeLeases* leases_;
  const Clock* clock_;
  const NodeLifecycleOptions options_;
  const absl::Time started_;
  std::atomic<int64_t> writes_{0};
};

}  // namespace reef::reconcile
