#include "controller/reconcile/deployment.h"

#include "common/log.h"
#include "controller/reconcile/deployment_plan.h"
#include "controller/reconcile/deployment_util.h"
#include "controller/reconcile/events.h"
#include "controller/reconcile/owners.h"

namespace reef::reconcile {
namespace {

// A distinct status for the one failure that is not retried as is.
absl::Status CollisionError(const std::string& name) {
  return absl::AlreadyExistsError(reef::StrCat("replica set name ", name, " is taken"));
}

}  // namespace

void DeploymentReconciler::KeysFor(const store::Event& event, const State&,
                                   std::vector<std::string>* keys) const {
  const v1::Object& o = event.object;
  if (o.has_deployment()) {
    keys->push_back(NamespacedKey(o.deployment().metadata()));
  } else if (o.has_replica_set()) {
    const v1::OwnerReference* ref = ControllerRef(o.replica_set().metadata());
    if (ref != nullptr && ref->kind() == "Deployment") {
      keys->push_back(reef::StrCat(o.replica_set().metadata().namespace_(), "/", ref->name()));
    }
  }
}

void DeploymentReconciler::AllKeys(const State& state, std::vector<std::string>* keys) const {
  for (const ObjectPtr& o : state.List("Deployment")) keys->push_back(NamespacedKey(manifest::Meta(*o)));
}

absl::StatusOr<Result> DeploymentReconciler::Reconcile(const std::string& key) {
  ObjectPtr d = state_->Get(KeyFromString("Deployment", key));
  if (d == nullptr) return Result{};  // gone, and its ReplicaSets with it
  std::vector<ObjectPtr> sets;
  for (ObjectPtr& o : state_->ControlledBy(d->deployment().metadata().uid())) {
    if (o->has_replica_set()) sets.push_back(std::move(o));
  }
  absl::Time now = clock_->Now();
  DeploymentPlan plan = PlanDeployment(*d, sets, now);
  if (plan.empty()) return Result{plan.requeue_after};

  absl::Status written = store_->Update([&](store::Txn& txn) -> absl::Status {
    if (plan.create) {
      absl::StatusOr<v1::Object> created = txn.Create(*plan.create);
      if (absl::IsAlreadyExists(created.status())) {
        return CollisionError(plan.create->replica_set().metadata().name());
      }
      RETURN_IF_ERROR(created.status());
    }
    for (const v1::Object& rs : plan.update) RETURN_IF_ERROR(txn.Update(rs).status());
    for (const v1::Object& rs : plan.remove) {
      absl::Status s = txn.Delete(store::KeyOf(rs), rs.replica_set().metadata().resource_version()).status();
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
    if (plan.status) {
      v1::Object updated = *d;
      *updated.mutable_deployment()->mutable_status() = *plan.status;
      RETURN_IF_ERROR(txn.Update(std::move(updated)).status());
    }
    for (const EventSpec& e : plan.events) {
      RETURN_IF_ERROR(RecordEvent(txn, *d, e, kControllerComponent, now));
    }
    return absl::OkStatus();
  }).status();
  if (absl::IsAlreadyExists(written)) {
    RETURN_IF_ERROR(CountCollision(*d));
    return absl::AbortedError(written.message());  // again at once, with the new hash
  }
  RETURN_IF_ERROR(written);
  return Result{plan.requeue_after};
}

absl::Status DeploymentReconciler::CountCollision(const v1::Object& deployment) {
  v1::Object updated = deployment;
  v1::DeploymentStatus* status = updated.mutable_deployment()->mutable_status();
  status->set_collision_count(status->collision_count() + 1);
  REEF_LOG(Info) << manifest::DisplayName(deployment) << ": replica set name taken, collision count "
                 << status->collision_count();
  return store_->Update([&](store::Txn& txn) { return txn.Update(updated).status(); }).status();
}

}  // namespace reef::reconcile
