#include "controller/reconcile/object_cache.h"

#include <algorithm>

#include "controller/reconcile/owners.h"

namespace reef::reconcile {

absl::StatusOr<std::unique_ptr<ObjectCache>> ObjectCache::Open(store::Store* store,
                                                               std::vector<std::string> kinds,
                                                               Listener listener) {
  std::unique_ptr<ObjectCache> cache(new ObjectCache(std::move(kinds), std::move(listener)));
  // A watch can fail with OutOfRange only if the change log was compacted past the
  // lists between them (10,000 writes in that instant): list again.
  absl::Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    status = cache->Load(store);
    if (!absl::IsOutOfRange(status)) break;
  }
  RETURN_IF_ERROR(Annotate(status, "load the control loops' cache"));
  return cache;
}

ObjectCache::~ObjectCache() { watch_.reset(); }

absl::Status ObjectCache::Load(store::Store* store) {
  int64_t from = -1;
  {
    absl::MutexLock lock(&mu_);
    tables_.clear();
    controlled_by_.clear();
  }
  for (const std::string& kind : kinds_) {
    ASSIGN_OR_RETURN(store::ListResult list, store->List(store::ListOptions{kind, "", {}}));
    absl::MutexLock lock(&mu_);
    Table& table = tables_[kind];
    table.listed_at = list.revision;
    for (v1::Object& o : list.items) {
      auto ptr = std::make_shared<const v1::Object>(std::move(o));
      const v1::ObjectMeta& meta = manifest::Meta(*ptr);
      Index(ObjectId{kind, meta.namespace_(), meta.name()}, nullptr, ptr.get());
      table.objects[{meta.namespace_(), meta.name()}] = std::move(ptr);
    }
    from = from < 0 ? list.revision : std::min(from, list.revision);
  }
  // Lists taken one kind at a time: replay from the oldest, and let each table skip
  // what its own list already had.
  store::WatchOptions options;
  options.from_revision = std::max<int64_t>(from, 0);
  ASSIGN_OR_RETURN(watch_, store->Watch(options, [this](const store::Event& e) { Apply(e); }));
  return absl::OkStatus();
}

void ObjectCache::Apply(const store::Event& event) {
  store::Key key = store::KeyOf(event.object);
  {
    absl::MutexLock lock(&mu_);
    auto table_it = tables_.find(key.kind);
    if (table_it == tables_.end()) return;  // a kind the loops don't read
    Table& table = table_it->second;
    if (event.revision <= table.listed_at) return;
    ObjectId id{key.kind, key.ns, key.name};
    auto it = table.objects.find(NsName{key.ns, key.name});
    const v1::Object* before = it == table.objects.end() ? nullptr : it->second.get();
    if (event.type == store::EventType::kDeleted) {
      Index(id, before, nullptr);
      if (it != table.objects.end()) table.objects.erase(it);
    } else {
      auto ptr = std::make_shared<const v1::Object>(event.object);
      Index(id, before, ptr.get());
      table.objects[NsName{key.ns, key.name}] = std::move(ptr);
    }
  }
  if (listener_) listener_(event);
}

void ObjectCache::Index(const ObjectId& id, const v1::Object* before, const v1::Object* after) {
  const v1::OwnerReference* old_ref = before ? ControllerRef(manifest::Meta(*before)) : nullptr;
  const v1::OwnerReference* new_ref = after ? ControllerRef(manifest::Meta(*after)) : nullptr;
  if (old_ref && (!new_ref || old_ref->uid() != new_ref->uid())) {
    auto it = controlled_by_.find(old_ref->uid());
    if (it != controlled_by_.end()) {
      it->second.erase(id);
      if (it->second.empty()) controlled_by_.erase(it);
    }
  }
  if (new_ref) controlled_by_[new_ref->uid()].insert(id);
}

ObjectPtr ObjectCache::Get(const store::Key& key) const {
  absl::MutexLock lock(&mu_);
  auto table = tables_.find(key.kind);
  if (table == tables_.end()) return nullptr;
  auto it = table->second.objects.find(NsName{key.ns, key.name});
  return it == table->second.objects.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> ObjectCache::List(std::string_view kind, std::string_view ns) const {
  std::vector<ObjectPtr> out;
  absl::MutexLock lock(&mu_);
  auto table = tables_.find(kind);
  if (table == tables_.end()) return out;
  const auto& objects = table->second.objects;
  if (ns.empty()) {
    out.reserve(objects.size());
    for (const auto& [key, ptr] : objects) out.push_back(ptr);
    return out;
  }
  for (auto it = objects.lower_bound(NsName{std::string(ns), ""});
       it != objects.end() && it->first.first == ns; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> ObjectCache::ControlledBy(std::string_view uid) const {
  std::vector<ObjectPtr> out;
  absl::MutexLock lock(&mu_);
  auto it = controlled_by_.find(uid);
  if (it == controlled_by_.end()) return out;
  for (const auto& [kind, ns, name] : it->second) {
    auto table = tables_.find(kind);
    if (table == tables_.end()) continue;
    auto obj = table->second.objects.find(NsName{ns, name});
    if (obj != table->second.objects.end()) out.push_back(obj->second);
  }
  return out;
}

bool ObjectCache::Holds(std::string_view kind) const {
  absl::MutexLock lock(&mu_);
  return tables_.count(kind) > 0;
}

}  // namespace reef::reconcile
