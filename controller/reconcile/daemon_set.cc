#include "controller/reconcile/daemon_set.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/random/random.h"
#include "common/clock.h"
#include "controller/reconcile/int_or_percent.h"
#include "controller/reconcile/owners.h"
#include "controller/reconcile/pods.h"
#include "controller/reconcile/template_hash.h"
#include "controller/scheduler/predicates.h"

namespace reef::reconcile {
namespace {

using scheduler::FindUntoleratedTaint;

bool IsUpdated(const v1::Pod& pod, const std::string& hash) {
  auto it = pod.metadata().labels().find(kControllerRevisionHashLabel);
  return it != pod.metadata().labels().end() && it->second == hash;
}

// What a node ends up with: the pod kept there, or a new one.
struct Slot {
  const v1::Node* node;
  NodeFit fit;
  ObjectPtr pod;        // the pod kept on the node, if any
  bool creating = false;
};

}  // namespace

NodeFit DaemonSetFits(const v1::PodSpec& spec, const v1::Node& node) {
  if (!spec.node_name().empty() && spec.node_name() != node.metadata().name()) return {};
  if (!scheduler::MatchesNodeSelector(spec, node)) return {};
  if (FindUntoleratedTaint(node, spec.tolerations(), scheduler::IsSchedulingEffect) == nullptr) {
    return {true, true};
  }
  return {false, FindUntoleratedTaint(node, spec.tolerations(), scheduler::IsExecuteEffect) == nullptr};
}

v1::PodSpec DaemonPodSpec(const v1::DaemonSet& ds) {
  v1::PodSpec spec = ds.spec().template_().spec();
  auto add = [&spec](const char* key, const char* effect) {
    for (const v1::Toleration& t : spec.tolerations()) {
      if (t.key() == key && t.operator_() == "Exists" && t.effect() == effect) return;
    }
    v1::Toleration* t = spec.add_tolerations();
    t->set_key(key);
    t->set_operator_("Exists");
    t->set_effect(effect);
  };
  add(scheduler::kTaintNotReady, "NoExecute");
  add(scheduler::kTaintUnreachable, "NoExecute");
  add("node.kubernetes.io/disk-pressure", "NoSchedule");
  add("node.kubernetes.io/memory-pressure", "NoSchedule");
  add("node.kubernetes.io/pid-pressure", "NoSchedule");
  add(scheduler::kTaintUnschedulable, "NoSchedule");
  if (spec.host_network()) add("node.kubernetes.io/network-unavailable", "NoSchedule");
  return spec;
}

v1::Object NewDaemonPod(const v1::Object& ds, const std::string& hash, const std::string& node) {
  const v1::PodTemplateSpec& tmpl = ds.daemon_set().spec().template_();
  v1::Object o;
  v1::Pod* pod = o.mutable_pod();
  v1::ObjectMeta* meta = pod->mutable_metadata();
  meta->set_namespace_(ds.daemon_set().metadata().namespace_());
  *meta->mutable_labels() = tmpl.metadata().labels();
  (*meta->mutable_labels())[kControllerRevisionHashLabel] = hash;
  *meta->mutable_annotations() = tmpl.metadata().annotations();
  *meta->add_owner_references() = NewControllerRef(ds);
  *pod->mutable_spec() = DaemonPodSpec(ds.daemon_set());
  pod->mutable_spec()->set_node_name(node);
  pod->mutable_status()->set_phase("Pending");
  return o;
}

DaemonSetPlan PlanDaemonSet(const v1::DaemonSet& ds, const std::string& hash,
                            const std::vector<ObjectPtr>& nodes, const std::vector<ObjectPtr>& pods,
                            absl::Time now) {
  DaemonSetPlan plan;
  const v1::PodSpec spec = DaemonPodSpec(ds);
  const int32_t min_ready = ds.spec().min_ready_seconds();

  std::map<std::string, std::vector<ObjectPtr>> by_node;
  for (const ObjectPtr& p : pods) {
    if (p->has_pod()) by_node[p->pod().spec().node_name()].push_back(p);
  }

  std::vector<Slot> slots;
  std::set<std::string> known;
  for (const ObjectPtr& n : nodes) {
    const v1::Node& node = n->node();
    known.insert(node.metadata().name());
    Slot slot{&node, DaemonSetFits(spec, node), nullptr};
    std::vector<ObjectPtr> here;
    for (const ObjectPtr& p : by_node[node.metadata().name()]) {
      // A failed pod goes; the next pass puts a fresh one in its place.
      if (IsActive(p->pod()) && slot.fit.should_continue) {
        here.push_back(p);
      } else {
        plan.remove.push_back(p);
      }
    }
    if (slot.fit.should_run && here.empty() && by_node[node.metadata().name()].empty()) {
      slot.creating = true;
      plan.create_on.push_back(node.metadata().name());
    }
    if (!here.empty()) {
      // One pod per node: keep an up-to-date one if there is, else the oldest.
      std::stable_sort(here.begin(), here.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
        bool ua = IsUpdated(a->pod(), hash), ub = IsUpdated(b->pod(), hash);
        if (ua != ub) return ua;
        return CreationTime(a->pod().metadata()) < CreationTime(b->pod().metadata());
      });
      slot.pod = here[0];
      for (size_t i = 1; i < here.size(); ++i) plan.remove.push_back(here[i]);
    }
    slots.push_back(slot);
  }
  // Pods on nodes that are gone (or on none).
  for (const auto& [node, list] : by_node) {
    if (known.count(node) == 0) plan.remove.insert(plan.remove.end(), list.begin(), list.end());
  }

  int32_t desired = 0;
  for (const Slot& s : slots) desired += s.fit.should_run;

  // Rolling update: old pods are replaced (deleted; the next pass creates the new
  // one) while at most maxUnavailable nodes lack an available pod.
  if (ds.spec().update_strategy().type() != "OnDelete") {
    const auto& ru = ds.spec().update_strategy().rolling_update();
    int32_t max_unavailable = ScaledValue(ru.max_unavailable(), desired, /*round_up=*/true);
    if (max_unavailable == 0 && ScaledValue(ru.max_surge(), desired, true) == 0) max_unavailable = 1;
    int32_t unavailable = 0;
    std::vector<Slot*> broken_old, candidates;
    for (Slot& s : slots) {
      if (!s.fit.should_continue) continue;
      if (s.pod == nullptr) {
        unavailable += s.fit.should_run;
      } else if (IsUpdated(s.pod->pod(), hash)) {
        unavailable += !IsAvailable(s.pod->pod(), min_ready, now);
      } else if (!IsAvailable(s.pod->pod(), min_ready, now)) {
        broken_old.push_back(&s);  // costs no availability to replace
      } else if (unavailable < max_unavailable) {
        candidates.push_back(&s);
      }
    }
    size_t take = static_cast<size_t>(std::clamp<int32_t>(max_unavailable - unavailable, 0,
                                                          static_cast<int32_t>(candidates.size())));
    broken_old.insert(broken_old.end(), candidates.begin(), candidates.begin() + take);
    for (Slot* s : broken_old) {
      plan.remove.push_back(s->pod);
      s->pod = nullptr;
    }
  }

  v1::DaemonSetStatus& st = plan.status;
  st.set_observed_generation(ds.metadata().generation());
  int32_t current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  absl::Duration next = absl::InfiniteDuration();
  for (const Slot& s : slots) {
    bool has_pod = s.pod != nullptr || s.creating;
    if (!has_pod) continue;
    if (!s.fit.should_run) {
      ++misscheduled;
      continue;
    }
    ++current;
    if (s.creating) {
      ++updated;
      continue;
    }
    const v1::Pod& pod = s.pod->pod();
    updated += IsUpdated(pod, hash);
    ready += IsReady(pod);
    if (IsAvailable(pod, min_ready, now)) {
      ++available;
    } else if (absl::Duration wait = UntilAvailable(pod, min_ready, now); wait > absl::ZeroDuration()) {
      next = std::min(next, wait);
    }
  }
  st.set_desired_number_scheduled(desired);
  st.set_current_number_scheduled(current);
  st.set_number_misscheduled(misscheduled);
  st.set_number_ready(ready);
  st.set_updated_number_scheduled(updated);
  st.set_number_available(available);
  st.set_number_unavailable(desired - available);
  if (next != absl::InfiniteDuration()) plan.requeue_after = next;
  return plan;
}

void DaemonSetReconciler::KeysFor(const store::Event& event, const State& state,
                                  std::vector<std::string>* keys) const {
  const v1::Object& o = event.object;
  if (o.has_daemon_set()) {
    keys->push_back(NamespacedKey(o.daemon_set().metadata()));
  } else if (o.has_pod()) {
    const v1::OwnerReference* ref = ControllerRef(o.pod().metadata());
    if (ref != nullptr && ref->kind() == "DaemonSet") {
      keys->push_back(reef::StrCat(o.pod().metadata().namespace_(), "/", ref->name()));
    }
  } else if (o.has_node()) {
    AllKeys(state, keys);  // a node came, went, or changed labels or taints
  }
}

void DaemonSetReconciler::AllKeys(const State& state, std::vector<std::string>* keys) const {
  for (const ObjectPtr& o : state.List("DaemonSet")) keys->push_back(NamespacedKey(manifest::Meta(*o)));
}

absl::StatusOr<Result> DaemonSetReconciler::Reconcile(const std::string& key) {
  ObjectPtr ds = state_->Get(KeyFromString("DaemonSet", key));
  if (ds == nullptr) return Result{};
  const v1::ObjectMeta& meta = ds->daemon_set().metadata();
  std::vector<ObjectPtr> pods;
  for (ObjectPtr& o : state_->ControlledBy(meta.uid())) {
    if (o->has_pod()) pods.push_back(std::move(o));
  }
  std::string hash = TemplateHash(ds->daemon_set().spec().template_());
  DaemonSetPlan plan = PlanDaemonSet(ds->daemon_set(), hash, state_->List("Node"), pods, clock_->Now());
  bool status_changed =
      !google::protobuf::util::MessageDifferencer::Equals(plan.status, ds->daemon_set().status());
  if (plan.create_on.empty() && plan.remove.empty() && !status_changed) return Result{plan.requeue_after};

  thread_local absl::BitGen rng;
  absl::Status written = store_->Update([&](store::Txn& txn) -> absl::Status {
    for (const std::string& node : plan.create_on) {
      v1::Object pod = NewDaemonPod(*ds, hash, node);
      absl::StatusOr<v1::Object> created;
      for (int attempt = 0; attempt < 5; ++attempt) {
        pod.mutable_pod()->mutable_metadata()->set_name(GenerateName(meta.name(), rng));
        created = txn.Create(pod);
        if (!absl::IsAlreadyExists(created.status())) break;
      }
      RETURN_IF_ERROR(created.status());
    }
    for (const ObjectPtr& pod : plan.remove) {
      absl::Status s = txn.Delete(store::KeyOf(*pod), manifest::Meta(*pod).resource_version()).status();
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
    if (status_changed) {
      v1::Object updated = *ds;
      *updated.mutable_daemon_set()->mutable_status() = plan.status;
      RETURN_IF_ERROR(txn.Update(std::move(updated)).status());
    }
    return absl::OkStatus();
  }).status();
  RETURN_IF_ERROR(written);
  return Result{plan.requeue_after};
}

}  // namespace reef::reconcile
