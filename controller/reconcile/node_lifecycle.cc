#include "controller/reconcile/node_lifecycle.h"

#include <algorithm>
#include <optional>
#include <set>

#include "common/clock.h"
#include "common/log.h"
#include "controller/reconcile/owners.h"
#include "controller/reconcile/pods.h"
#include "controller/scheduler/predicates.h"

namespace reef::reconcile {
namespace {

using scheduler::FindNodeCondition;

constexpr char kStoppedPosting[] = "reef-agent stopped posting node status.";

v1::NodeCondition* MutableCondition(v1::NodeStatus* status, std::string_view type) {
  for (v1::NodeCondition& c : *status->mutable_conditions()) {
    if (c.type() == type) return &c;
  }
  v1::NodeCondition* c = status->add_conditions();
  c->set_type(std::string(type));
  return c;
}

// Lease says alive: Ready back to True if we had made it Unknown (or it was never
// set). A Ready=False from the agent itself stands.
bool MarkAlive(v1::Node* node, absl::Time now) {
  const v1::NodeCondition* ready = FindNodeCondition(node->status(), "Ready");
  if (ready != nullptr && ready->status() != "Unknown") return false;
  v1::NodeCondition* c = MutableCondition(node->mutable_status(), "Ready");
  c->set_status("True");
  c->set_reason("AgentReady");
  c->set_message("reef-agent is posting ready status");
  c->set_last_transition_time(FormatTimestamp(now));
  c->set_last_heartbeat_time(FormatTimestamp(now));
  return true;
}

// Lease ran out: every condition becomes Unknown (Ready first, added if missing).
bool MarkUnknown(v1::Node* node, absl::Time now) {
  bool changed = false;
  MutableCondition(node->mutable_status(), "Ready");
  for (v1::NodeCondition& c : *node->mutable_status()->mutable_conditions()) {
    if (c.status() == "Unknown") continue;
    c.set_status("Unknown");
    c.set_reason("NodeStatusUnknown");
    c.set_message(kStoppedPosting);
    c.set_last_transition_time(FormatTimestamp(now));
    changed = true;
  }
  return changed;
}

// The NoExecute taint that says why the node is not ready, or none.
std::optional<std::string> WantedTaint(const v1::Node& node) {
  const v1::NodeCondition* ready = FindNodeCondition(node.status(), "Ready");
  if (ready == nullptr || ready->status() == "Unknown") return scheduler::kTaintUnreachable;
  if (ready->status() == "False") return scheduler::kTaintNotReady;
  return std::nullopt;
}

bool IsLifecycleTaint(const v1::Taint& t) {
  return t.effect() == "NoExecute" && (t.key() == scheduler::kTaintUnreachable || t.key() == scheduler::kTaintNotReady);
}

bool SyncTaints(v1::Node* node, absl::Time now) {
  std::optional<std::string> want = WantedTaint(*node);
  auto* taints = node->mutable_spec()->mutable_taints();
  bool has_wanted = false, has_other = false;
  for (const v1::Taint& t : *taints) {
    if (!IsLifecycleTaint(t)) continue;
    if (want && t.key() == *want) {
      has_wanted = true;
    } else {
      has_other = true;
    }
  }
  if (has_wanted == want.has_value() && !has_other) return false;
  for (int i = taints->size() - 1; i >= 0; --i) {
    if (IsLifecycleTaint((*taints)[i]) && !(want && (*taints)[i].key() == *want)) taints->DeleteSubrange(i, 1);
  }
  if (want && !has_wanted) {
    v1::Taint* t = taints->Add();
    t->set_key(*want);
    t->set_effect("NoExecute");
    t->set_time_added(FormatTimestamp(now));
  }
  return true;
}

// How long `pod` stays on a node tainted `taint`: its tolerations' shortest
// tolerationSeconds; forever if it tolerates the taint with no limit; else the
// controller's default.
std::optional<absl::Duration> EvictionTimeout(const v1::Pod& pod, const std::string& taint_key,
                                              absl::Duration fallback) {
  v1::Taint taint;
  taint.set_key(taint_key);
  taint.set_effect("NoExecute");
  bool tolerated = false;
  std::optional<absl::Duration> shortest;
  for (const v1::Toleration& t : pod.spec().tolerations()) {
    if (!scheduler::Tolerates(t, taint)) continue;
    tolerated = true;
    if (t.has_toleration_seconds()) {
      absl::Duration d = absl::Seconds(std::max<int64_t>(0, t.toleration_seconds()));
      shortest = shortest ? std::min(*shortest, d) : d;
    }
  }
  if (!tolerated) return fallback;
  return shortest;  // nullopt: tolerated forever
}

bool OwnedByReplicaSet(const v1::Pod& pod) {
  const v1::OwnerReference* ref = ControllerRef(pod.metadata());
  return ref != nullptr && ref->kind() == "ReplicaSet";
}

void Sooner(absl::Duration* next, absl::Duration d) {
  if (d > absl::ZeroDuration() && (*next == absl::ZeroDuration() || d < *next)) *next = d;
}

}  // namespace

NodeLifecyclePlan PlanNodeLifecycle(const std::vector<ObjectPtr>& nodes, const std::vector<ObjectPtr>& pods,
                                    const std::map<std::string, absl::Time, std::less<>>& leases,
                                    absl::Time started, const NodeLifecycleOptions& options,
                                    absl::Time now) {
  NodeLifecyclePlan plan;
  const absl::Duration lease = options.lease_duration;
  // Not ready since when, per node that is not ready; nodes that are absent map to
  // nothing here and are handled below.
  std::map<std::string, std::pair<absl::Time, std::string>, std::less<>> not_ready;
  std::set<std::string, std::less<>> present;
  for (const ObjectPtr& o : nodes) {
    v1::Node node = o->node();
    const std::string& name = node.metadata().name();
    present.insert(name);
    auto renewed = leases.find(name);
    bool changed = false;
    if (renewed != leases.end() && now - renewed->second <= lease) {
      changed |= MarkAlive(&node, now);
      changed |= SyncTaints(&node, now);
      Sooner(&plan.requeue_after, renewed->second + lease - now + absl::Seconds(1));
    } else if (renewed == leases.end() && now - started < lease) {
      // Grace after a controller start: the node is left as its agent last said.
      Sooner(&plan.requeue_after, started + lease - now + absl::Seconds(1));
    } else {
      changed |= MarkUnknown(&node, now);
      changed |= SyncTaints(&node, now);
    }
    if (changed) {
      v1::Object updated = *o;
      *updated.mutable_node() = node;
      plan.nodes.push_back(std::move(updated));
    }
    if (std::optional<std::string> taint = WantedTaint(node)) {
      // Not ready since the Ready condition last changed; a node still in its grace
      // with no condition at all is not counted as not ready yet.
      const v1::NodeCondition* ready = FindNodeCondition(node.status(), "Ready");
      absl::StatusOr<absl::Time> since =
          ready != nullptr ? ParseTimestamp(ready->last_transition_time()) : absl::StatusOr<absl::Time>(now);
      absl::Time from = std::max(since.ok() ? *since : now, started + lease);
      not_ready[name] = {from, *taint};
    }
  }

  for (const ObjectPtr& p : pods) {
    const v1::Pod& pod = p->pod();
    const std::string& node = pod.spec().node_name();
    if (node.empty() || !OwnedByReplicaSet(pod) || !IsActive(pod)) continue;
    if (present.count(node) == 0) {
      plan.evict.push_back(p);
      continue;
    }
    auto it = not_ready.find(node);
    if (it == not_ready.end()) continue;
    std::optional<absl::Duration> timeout =
        EvictionTimeout(pod, it->second.second, options.pod_eviction_timeout);
    if (!timeout) continue;
    absl::Time due = it->second.first + *timeout;
    if (due <= now) {
      plan.evict.push_back(p);
    } else {
      Sooner(&plan.requeue_after, due - now);
    }
  }
  return plan;
}

void NodeLifecycleReconciler::KeysFor(const store::Event& event, const State&,
                                      std::vector<std::string>* keys) const {
  if (event.object.has_node()) keys->push_back("");
}

void NodeLifecycleReconciler::AllKeys(const State&, std::vector<std::string>* keys) const {
  keys->push_back("");
}

absl::StatusOr<Result> NodeLifecycleReconciler::Reconcile(const std::string&) {
  absl::Time now = clock_->Now();
  NodeLifecyclePlan plan = PlanNodeLifecycle(state_->List("Node"), state_->List("Pod"),
                                             leases_->Snapshot(), started_, options_, now);
  if (!plan.nodes.empty() || !plan.evict.empty()) {
    absl::Status written = store_->Update([&](store::Txn& txn) -> absl::Status {
      for (const v1::Object& node : plan.nodes) RETURN_IF_ERROR(txn.Update(node).status());
      for (const ObjectPtr& pod : plan.evict) {
        absl::Status s = txn.Delete(store::KeyOf(*pod), manifest::Meta(*pod).resource_version()).status();
        if (!s.ok() && !absl::IsNotFound(s)) return s;
      }
      return absl::OkStatus();
    }).status();
    RETURN_IF_ERROR(written);
    writes_ += static_cast<int64_t>(plan.nodes.size() + plan.evict.size());
    for (const v1::Object& node : plan.nodes) {
      const v1::NodeCondition* ready = scheduler::FindNodeCondition(node.node().status(), "Ready");
      REEF_LOG(Info) << "node " << node.node().metadata().name() << ": Ready "
                     << (ready ? ready->status() : "?");
    }
    for (const ObjectPtr& pod : plan.evict) {
      REEF_LOG(Info) << "evicted pod " << manifest::Meta(*pod).namespace_() << "/"
                     << manifest::Meta(*pod).name() << " from node " << pod->pod().spec().node_name();
    }
  }
  return Result{plan.requeue_after};
}

}  // namespace reef::reconcile
