#include "controller/scheduler/scheduler_loop.h"

#include <algorithm>

#include "controller/reconcile/events.h"
#include "controller/reconcile/pods.h"
#include "controller/scheduler/scheduler.h"

namespace reef::scheduler {
namespace {

using reconcile::ObjectPtr;

// Bindings per transaction: large enough to coalesce a burst, small enough to keep
// the store's lock short.
constexpr size_t kWritesPerTransaction = 256;

struct Outcome {
  ObjectPtr pod;
  std::string node;     // bound here, or
  std::string message;  // unschedulable, because
};

// Writes one outcome on the pod as it is in the store now. A pod that was bound,
// deleted or changed (new generation) meanwhile is left for the next pass.
absl::Status Write(store::Txn& txn, const Outcome& o, absl::Time now) {
  const v1::ObjectMeta& seen = o.pod->pod().metadata();
  absl::StatusOr<v1::Object> current = txn.Get(store::KeyOf(*o.pod));
  if (absl::IsNotFound(current.status())) return absl::OkStatus();
  RETURN_IF_ERROR(current.status());
  v1::Pod* pod = current->mutable_pod();
  if (pod->metadata().uid() != seen.uid() || pod->metadata().generation() != seen.generation() ||
      !pod->spec().node_name().empty()) {
    return absl::OkStatus();
  }
  reconcile::EventSpec event;
  if (!o.node.empty()) {
    pod->mutable_spec()->set_node_name(o.node);
    reconcile::SetPodCondition(pod->mutable_status(), "PodScheduled", "True", "", "", now);
    event = {"Normal", "Scheduled",
             reef::StrCat("Successfully assigned ", seen.namespace_(), "/", seen.name(), " to ", o.node)};
  } else {
    if (!reconcile::SetPodCondition(pod->mutable_status(), "PodScheduled", "False", "Unschedulable",
                                    o.message, now)) {
      return absl::OkStatus();
    }
    event = {"Warning", "FailedScheduling", o.message};
  }
  RETURN_IF_ERROR(txn.Update(*current).status());
  return reconcile::RecordEvent(txn, *current, event, reconcile::kSchedulerComponent, now);
}

bool AlreadySaysUnschedulable(const v1::Pod& pod, const std::string& message) {
  const v1::PodCondition* c = reconcile::FindPodCondition(pod.status(), "PodScheduled");
  return c != nullptr && c->status() == "False" && c->reason() == "Unschedulable" && c->message() == message;
}

}  // namespace

bool NeedsScheduling(const v1::Pod& pod) {
  return pod.spec().node_name().empty() && reconcile::IsActive(pod);
}

void SchedulerLoop::KeysFor(const store::Event& event, const reconcile::State&,
                            std::vector<std::string>* keys) const {
  const v1::Object& o = event.object;
  bool wake = false;
  if (o.has_node()) {
    wake = true;  // a node came, went, or changed: pending pods may fit now
  } else if (o.has_pod()) {
    // A pod to place, or one that leaves room on its node (deleted or finished).
    const v1::Pod& pod = o.pod();
    bool bound = !pod.spec().node_name().empty();
    wake = event.type == store::EventType::kDeleted ? bound
                                                    : NeedsScheduling(pod) || (bound && !reconcile::IsActive(pod));
  }
  if (wake) keys->push_back("");
}

void SchedulerLoop::AllKeys(const reconcile::State&, std::vector<std::string>* keys) const {
  keys->push_back("");
}

absl::StatusOr<reconcile::Result> SchedulerLoop::Reconcile(const std::string&) {
  std::vector<ObjectPtr> pods = state_->List("Pod");
  std::vector<ObjectPtr> pending;
  for (const ObjectPtr& p : pods) {
    if (NeedsScheduling(p->pod())) pending.push_back(p);
  }
  if (pending.empty()) return reconcile::Result{};
  std::stable_sort(pending.begin(), pending.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
    return reconcile::CreationTime(a->pod().metadata()) < reconcile::CreationTime(b->pod().metadata());
  });

  Snapshot snapshot(state_->List("Node"), pods);
  std::vector<Outcome> outcomes;
  for (const ObjectPtr& p : pending) {
    PodInfo info = PodInfo::Of(p->pod());
    Decision d = Schedule(info, snapshot);
    if (d.node != nullptr) {
      snapshot.Add(d.node, info);
      outcomes.push_back({p, d.node->name(), ""});
    } else if (!AlreadySaysUnschedulable(p->pod(), d.message)) {
      outcomes.push_back({p, "", std::move(d.message)});
    }
  }
  absl::Time now = clock_->Now();
  for (size_t start = 0; start < outcomes.size(); start += kWritesPerTransaction) {
    size_t end = std::min(outcomes.size(), start + kWritesPerTransaction);
    absl::Status written = store_->Update([&](store::Txn& txn) -> absl::Status {
      for (size_t i = start; i < end; ++i) RETURN_IF_ERROR(Write(txn, outcomes[i], now));
      return absl::OkStatus();
    }).status();
    RETURN_IF_ERROR(written);
  }
  return reconcile::Result{};
}

}  // namespace reef::scheduler
