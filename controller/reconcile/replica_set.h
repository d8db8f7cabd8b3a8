#pragma once
// ReplicaSets: keep spec.replicas active pods of the template, and say in the status
// how many there are, ready and available.
//
// PlanReplicaSet is the whole decision, pure; ReplicaSetReconciler reads the cache,
// plans, and writes the plan in one transaction (creates, deletes and the status
// together, so the status never lags what was just done).

#include <memory>
#include <vector>

#include "controller/reconcile/reconciler.h"

namespace reef::reconcile {

struct ReplicaSetPlan {
  int32_t create = 0;             // new pods from the template
  std::vector<ObjectPtr> remove;  // pods to delete, least valuable first
  v1::ReplicaSetStatus status;    // as it is once the plan is written
  absl::Duration requeue_after = absl::ZeroDuration();  // a ready pod turns available
};

// `pods` are the pods the ReplicaSet controls, in any state. When there are too many,
// the least valuable go first, as Kubernetes ranks them: unscheduled, then pending,
// then not ready, then those doubled up on a node with more of this set, then the
// most recently ready, the most restarted, the newest.
ReplicaSetPlan PlanReplicaSet(const v1::ReplicaSet& rs, const std::vector<ObjectPtr>& pods,
                              absl::Time now);

// The pod a ReplicaSet creates, without its name.
v1::Object NewReplicaSetPod(const v1::Object& rs);

class ReplicaSetReconciler : public Reconciler {
 public:
  ReplicaSetReconciler(store::Store* store, const State* state, const Clock* clock)
      : store_(store), state_(state), clock_(clock) {}

  std::string_view name() const override { return "ReplicaSet"; }
  void KeysFor(const store::Event& event, const State& state,
               std::vector<std::string>* keys) const override;
  void AllKeys(const State& state, std::vector<std::string>* keys) const override;
  absl::StatusOr<Result> Reconcile(const std::string& key) override;

 private:
  store::Store* store_;
  const State* state_;
  const Clock* clock_;
};

}  // namespace reef::reconcile
