#include "controller/reconcile/garbage_collector.h"

#include "api/manifest/kinds.h"
#include "common/clock.h"
#include "common/log.h"

namespace reef::reconcile {
namespace {

// Whether the owner a reference names exists (with that uid); an owner this view
// cannot see counts as existing.
bool OwnerExists(const State& state, const v1::OwnerReference& ref, const std::string& ns) {
  const manifest::KindInfo* kind = manifest::FindKind(ref.kind());
  if (kind == nullptr || !state.Holds(kind->kind)) return true;
  ObjectPtr owner = state.Get(store::Key{std::string(kind->kind), kind->namespaced ? ns : "", ref.name()});
  return owner != nullptr && manifest::Meta(*owner).uid() == ref.uid();
}

bool AllOwnersGone(const State& state, const v1::ObjectMeta& meta) {
  if (meta.owner_references().empty()) return false;
  for (const v1::OwnerReference& ref : meta.owner_references()) {
    if (OwnerExists(state, ref, meta.namespace_())) return false;
  }
  return true;
}

// The same test inside the deleting transaction, against the store itself.
absl::StatusOr<bool> StillOrphan(store::Txn& txn, const State& state, const ObjectPtr& object) {
  const v1::ObjectMeta& meta = manifest::Meta(*object);
  for (const v1::OwnerReference& ref : meta.owner_references()) {
    const manifest::KindInfo* kind = manifest::FindKind(ref.kind());
    if (kind == nullptr || !state.Holds(kind->kind)) return false;
    auto owner = txn.Get(store::Key{std::string(kind->kind), kind->namespaced ? meta.namespace_() : "", ref.name()});
    if (owner.ok() && manifest::Meta(*owner).uid() == ref.uid()) return false;
    if (!owner.ok() && !absl::IsNotFound(owner.status())) return owner.status();
  }
  return true;
}

}  // namespace

std::vector<ObjectPtr> FindOrphans(const State& state, const std::vector<std::string>& kinds) {
  std::vector<ObjectPtr> orphans;
  for (const std::string& kind : kinds) {
    for (ObjectPtr& o : state.List(kind)) {
      if (AllOwnersGone(state, manifest::Meta(*o))) orphans.push_back(std::move(o));
    }
  }
  return orphans;
}

void GarbageCollector::KeysFor(const store::Event& event, const State& state,
                               std::vector<std::string>* keys) const {
  const v1::ObjectMeta& meta = manifest::Meta(event.object);
  // An owner went (the API's cascade usually took its dependents already), or an
  // object arrived whose owner is not there.
  if (event.type == store::EventType::kDeleted || AllOwnersGone(state, meta)) keys->push_back("");
}

void GarbageCollector::AllKeys(const State&, std::vector<std::string>* keys) const { keys->push_back(""); }

absl::StatusOr<Result> GarbageCollector::Reconcile(const std::string&) {
  absl::Time now = clock_->Now();
  std::vector<ObjectPtr> orphans = FindOrphans(*state_, kinds_);
  if (!orphans.empty()) {
    std::vector<std::string> deleted;
    absl::Status written = store_->Update([&](store::Txn& txn) -> absl::Status {
      deleted.clear();
      for (const ObjectPtr& o : orphans) {
        ASSIGN_OR_RETURN(bool orphan, StillOrphan(txn, *state_, o));
        if (!orphan) continue;
        absl::Status s = txn.Delete(store::KeyOf(*o), manifest::Meta(*o).resource_version()).status();
        if (absl::IsNotFound(s)) continue;
        RETURN_IF_ERROR(s);
        deleted.push_back(manifest::DisplayName(*o));
      }
      return absl::OkStatus();
    }).status();
    RETURN_IF_ERROR(written);
    for (const std::string& name : deleted) REEF_LOG(Info) << "garbage collected " << name << ": its owner is gone";
  }
  if (now - last_event_sweep_ >= period()) {
    RETURN_IF_ERROR(DeleteOldEvents(now));
    last_event_sweep_ = now;
  }
  return Result{};
}

absl::Status GarbageCollector::DeleteOldEvents(absl::Time now) {
  ASSIGN_OR_RETURN(store::ListResult events, store_->List(store::ListOptions{"Event", "", {}}));
  std::vector<store::Key> expired;
  for (const v1::Object& o : events.items) {
    const v1::Event& e = o.event();
    const std::string& last = !e.last_timestamp().empty() ? e.last_timestamp() : e.metadata().creation_timestamp();
    auto t = ParseTimestamp(last);
    if (t.ok() && now - *t > event_ttl_) expired.push_back(store::KeyOf(o));
  }
  if (expired.empty()) return absl::OkStatus();
  return store_->Update([&](store::Txn& txn) -> absl::Status {
    for (const store::Key& key : expired) {
      absl::Status s = txn.Delete(key, "").status();
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
    return absl::OkStatus();
  }).status();
}

}  // namespace reef::reconcile
