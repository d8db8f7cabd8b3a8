#pragma once
// Deployments: writes what PlanDeployment (deployment_plan.h) decides, in one
// transaction per pass: the new ReplicaSet, scaled ReplicaSets, deleted old ones, the
// status and the ScalingReplicaSet events.

#include "controller/reconcile/reconciler.h"

namespace reef::reconcile {

class DeploymentReconciler : public Reconciler {
 public:
  DeploymentReconciler(store::Store* store, const State* state, const Clock* clock)
      : store_(store), state_(state), clock_(clock) {}

  std::string_view name() const override { return "Deployment"; }
  void KeysFor(const store::Event& event, const State& state,
               std::vector<std::string>* keys) const override;
  void AllKeys(const State& state, std::vector<std::string>* keys) const override;
  absl::StatusOr<Result> Reconcile(const std::string& key) override;

 private:
  // The name <deployment>-<hash> is taken by a ReplicaSet with another template:
  // count the collision, which changes the hash on the next pass.
  absl::Status CountCollision(const v1::Object& deployment);

  store::Store* store_;
  const State* state_;
  const Clock* clock_;
};

}  // namespace reef::reconcile
