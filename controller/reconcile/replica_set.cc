#include "controller/reconcile/replica_set.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <map>

#include "controller/reconcile/owners.h"
#include "controller/reconcile/pods.h"

namespace reef::reconcile {
namespace {

// More pods than this are created over several passes (Kubernetes' burstReplicas):
// one transaction stays small, and the pods' own events bring the set back.
constexpr int32_t kMaxCreatesPerPass = 500;

int PhaseOrdinal(const std::string& phase) {
  if (phase == "Running") return 2;
  if (phase == "Unknown") return 1;
  return 0;  // Pending, or not said yet
}

int MaxRestarts(const v1::Pod& pod) {
  int n = 0;
  for (const auto& cs : pod.status().container_statuses()) n = std::max(n, cs.restart_count());
  return n;
}

struct Ranked {
  ObjectPtr object;
  const v1::Pod* pod;
  int colocated;  // active pods of this set on the same node, itself included
};

// Whether `a` should be deleted before `b` (Kubernetes' ActivePodsWithRanks).
bool DeleteFirst(const Ranked& a, const Ranked& b) {
  const v1::Pod& pa = *a.pod;
  const v1::Pod& pb = *b.pod;
  bool assigned_a = !pa.spec().node_name().empty(), assigned_b = !pb.spec().node_name().empty();
  if (assigned_a != assigned_b) return !assigned_a;
  int phase_a = PhaseOrdinal(pa.status().phase()), phase_b = PhaseOrdinal(pb.status().phase());
  if (phase_a != phase_b) return phase_a < phase_b;
  bool ready_a = IsReady(pa), ready_b = IsReady(pb);
  if (ready_a != ready_b) return !ready_a;
  if (a.colocated != b.colocated) return a.colocated > b.colocated;
  if (ready_a && ready_b) {
    // Ready more recently first; an unknown time counts as the most recent.
    absl::Time ta = ReadySince(pa).value_or(absl::InfiniteFuture());
    absl::Time tb = ReadySince(pb).value_or(absl::InfiniteFuture());
    if (ta != tb) return ta > tb;
  }
  int restarts_a = MaxRestarts(pa), restarts_b = MaxRestarts(pb);
  if (restarts_a != restarts_b) return restarts_a > restarts_b;
  absl::Time ca = CreationTime(pa.metadata()), cb = CreationTime(pb.metadata());
  if (ca != cb) return ca > cb;
  return pa.metadata().name() > pb.metadata().name();
}

bool HasLabels(const v1::ObjectMeta& meta, const google::protobuf::Map<std::string, std::string>& want) {
  for (const auto& [k, v] : want) {
    auto it = meta.labels().find(k);
    if (it == meta.labels().end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

ReplicaSetPlan PlanReplicaSet(const v1::ReplicaSet& rs, const std::vector<ObjectPtr>& pods,
                              absl::Time now) {
  std::vector<Ranked> active;
  std::map<std::string, int> per_node;
  for (const ObjectPtr& o : pods) {
    if (!o->has_pod() || !IsActive(o->pod())) continue;
    active.push_back({o, &o->pod(), 0});
    if (!o->pod().spec().node_name().empty()) ++per_node[o->pod().spec().node_name()];
  }
  for (Ranked& r : active) {
    const std::string& node = r.pod->spec().node_name();
    r.colocated = node.empty() ? 0 : per_node[node];
  }

  ReplicaSetPlan plan;
  int32_t want = rs.spec().has_replicas() ? rs.spec().replicas() : 1;
  int32_t have = static_cast<int32_t>(active.size());
  if (have < want) {
    plan.create = std::min(want - have, kMaxCreatesPerPass);
  } else if (have > want) {
    std::sort(active.begin(), active.end(), DeleteFirst);
    for (int32_t i = 0; i < have - want; ++i) plan.remove.push_back(active[i].object);
    active.erase(active.begin(), active.begin() + (have - want));
  }

  // The status once the plan is written: new pods exist but are not ready.
  const auto& template_labels = rs.spec().template_().metadata().labels();
  int32_t min_ready = rs.spec().min_ready_seconds();
  v1::ReplicaSetStatus& st = plan.status;
  st = rs.status();
  st.set_replicas(static_cast<int32_t>(active.size()) + plan.create);
  int32_t labeled = plan.create, ready = 0, available = 0;
  absl::Duration next = absl::InfiniteDuration();
  for (const Ranked& r : active) {
    labeled += HasLabels(r.pod->metadata(), template_labels);
    if (!IsReady(*r.pod)) continue;
    ++ready;
    if (IsAvailable(*r.pod, min_ready, now)) {
      ++available;
    } else if (absl::Duration wait = UntilAvailable(*r.pod, min_ready, now); wait > absl::ZeroDuration()) {
      next = std::min(next, wait);
    }
  }
  st.set_fully_labeled_replicas(labeled);
  st.set_ready_replicas(ready);
  st.set_available_replicas(available);
  st.set_observed_generation(rs.metadata().generation());
  if (next != absl::InfiniteDuration()) plan.requeue_after = next;
  return plan;
}

v1::Object NewReplicaSetPod(const v1::Object& rs) {
  const v1::PodTemplateSpec& tmpl = rs.replica_set().spec().template_();
  v1::Object o;
  v1::Pod* pod = o.mutable_pod();
  v1::ObjectMeta* meta = pod->mutable_metadata();
  meta->set_namespace_(rs.replica_set().metadata().namespace_());
  *meta->mutable_labels() = tmpl.metadata().labels();
  *meta->mutable_annotations() = tmpl.metadata().annotations();
  *meta->add_owner_references() = NewControllerRef(rs);
  *pod->mutable_spec() = tmpl.spec();
  pod->mutable_status()->set_phase("Pending");
  return o;
}

void ReplicaSetReconciler::KeysFor(const store::Event& event, const State&,
                                   std::vector<std::string>* keys) const {
  const v1::Object& o = event.object;
  if (o.has_replica_set()) {
    keys->push_back(NamespacedKey(o.replica_set().metadata()));
  } else if (o.has_pod()) {
    const v1::OwnerReference* ref = ControllerRef(o.pod().metadata());
    if (ref != nullptr && ref->kind() == "ReplicaSet") {
      keys->push_back(reef::StrCat(o.pod().metadata().namespace_(), "/", ref->name()));
    }
  }
}

void ReplicaSetReconciler::AllKeys(const State& state, std::vector<std::string>* keys) const {
  for (const ObjectPtr& o : state.List("ReplicaSet")) keys->push_back(NamespacedKey(manifest::Meta(*o)));
}

absl::StatusOr<Result> ReplicaSetReconciler::Reconcile(const std::string& key) {
  ObjectPtr rs = state_->Get(KeyFromString("ReplicaSet", key));
  if (rs == nullptr) return Result{};  // gone: the garbage collector takes its pods
  const v1::ObjectMeta& meta = rs->replica_set().metadata();
  ReplicaSetPlan plan = PlanReplicaSet(rs->replica_set(), state_->ControlledBy(meta.uid()), clock_->Now());
  bool status_changed = !google::protobuf::util::MessageDifferencer::Equals(plan.status, rs->replica_set().status());
  if (plan.create == 0 && plan.remove.empty() && !status_changed) return Result{plan.requeue_after};

  thread_local absl::BitGen rng;
  absl::Status written = store_->Update([&](store::Txn& txn) -> absl::Status {
    for (int32_t i = 0; i < plan.create; ++i) {
      v1::Object pod = NewReplicaSetPod(*rs);
      absl::StatusOr<v1::Object> created;
      for (int attempt = 0; attempt < 5; ++attempt) {  // a random name may be taken
        pod.mutable_pod()->mutable_metadata()->set_name(GenerateName(meta.name(), rng));
        created = txn.Create(pod);
        if (!absl::IsAlreadyExists(created.status())) break;
      }
      RETURN_IF_ERROR(created.status());
    }
    for (const ObjectPtr& pod : plan.remove) {
      absl::Status s = txn.Delete(store::KeyOf(*pod), manifest::Meta(*pod).resource_version()).status();
      if (!s.ok() && !absl::IsNotFound(s)) return s;  // a pod that is already gone is fine
    }
    if (status_changed) {
      v1::Object updated = *rs;
      *updated.mutable_replica_set()->mutable_status() = plan.status;
      RETURN_IF_ERROR(txn.Update(std::move(updated)).status());
    }
    return absl::OkStatus();
  }).status();
  RETURN_IF_ERROR(written);
  return Result{plan.requeue_after};
}

}  // namespace reef::reconcile
