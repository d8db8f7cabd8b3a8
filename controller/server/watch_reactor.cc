#include "controller/server/watch_reactor.h"

#include <map>

#include "common/grpc_status.h"
#include "controller/server/api_service.h"

namespace reef::controller {
namespace {

v1::WatchEvent::Type ToWire(store::EventType t) {
  switch (t) {
    case store::EventType::kAdded: return v1::WatchEvent::ADDED;
    case store::EventType::kModified: return v1::WatchEvent::MODIFIED;
    case store::EventType::kDeleted: return v1::WatchEvent::DELETED;
  }
  return v1::WatchEvent::TYPE_UNSPECIFIED;
}

v1::WatchEvent MakeEvent(v1::WatchEvent::Type type, int64_t revision, const v1::Object* object) {
  v1::WatchEvent e;
  e.set_type(type);
  e.set_revision(revision);
  if (object) *e.mutable_object() = *object;
  return e;
}

}  // namespace

WatchReactor* WatchReactor::Start(store::Store* store, const v1::WatchRequest& request) {
  auto* reactor = new WatchReactor();
  absl::Status s = reactor->Begin(store, request);
  if (!s.ok()) {
    absl::MutexLock lock(&reactor->mu_);
    reactor->FinishLocked(ToGrpcStatus(s));
  }
  return reactor;
}

absl::Status WatchReactor::Begin(store::Store* store, const v1::WatchRequest& request) {
  if (!request.kind().empty()) RETURN_IF_ERROR(RequestKind(request.kind()).status());
  ASSIGN_OR_RETURN(manifest::Selector selector, manifest::Selector::Parse(request.label_selector()));
  auto sink = [this](const store::Event& e) { Enqueue(MakeEvent(ToWire(e.type), e.revision, &e.object)); };
  store::WatchOptions options{request.kind(), request.namespace_(), selector, request.from_revision()};
  bool reset = false;
  if (options.from_revision > 0) {
    auto handle = store->Watch(options, sink);
    if (handle.ok()) {
      handle_ = std::move(*handle);
      Release();
      return absl::OkStatus();
    }
    if (!absl::IsOutOfRange(handle.status())) return handle.status();
    // The client is behind the compacted change log: tell it to drop its cache and
    // send the current state instead.
    reset = true;
  }
  // Current objects as ADDED, a BOOKMARK at the list's revision, then the changes
  // after it. A compaction racing in between is retried.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<std::string> kinds;
    if (!options.kind.empty()) kinds.push_back(options.kind);
    else for (const auto& k : manifest::AllKinds()) kinds.emplace_back(k.kind);
    // Each kind is listed at its own revision; the watch starts from the oldest, and
    // replayed changes a kind's list already shows are dropped below.
    std::map<std::string, int64_t> listed_at;
    int64_t oldest = INT64_MAX, newest = 0;
    std::vector<v1::Object> items;
    for (const std::string& kind : kinds) {
      ASSIGN_OR_RETURN(store::ListResult list, store->List({kind, options.ns, selector}));
      listed_at[kind] = list.revision;
      oldest = std::min(oldest, list.revision);
      newest = std::max(newest, list.revision);
      for (auto& o : list.items) items.push_back(std::move(o));
    }
    options.from_revision = oldest;
    auto handle = store->Watch(options, sink);
    if (absl::IsOutOfRange(handle.status())) continue;
    RETURN_IF_ERROR(handle.status());
    // Live events that arrived since the watch began wait in queue_ (nothing is
    // written before Release()); the list and its bookmark go in front of them.
    {
      absl::MutexLock lock(&mu_);
      std::deque<v1::WatchEvent> after;
      for (auto& e : queue_) {
        const manifest::KindInfo* k = manifest::KindOf(e.object());
        if (k != nullptr && e.revision() <= listed_at[std::string(k->kind)]) continue;
        after.push_back(std::move(e));
      }
      queue_.swap(after);
      queued_bytes_ = 0;
      for (const auto& e : queue_) queued_bytes_ += e.ByteSizeLong();
      queue_.push_front(MakeEvent(v1::WatchEvent::BOOKMARK, newest, nullptr));
      for (auto it = items.rbegin(); it != items.rend(); ++it) {
        queue_.push_front(MakeEvent(v1::WatchEvent::ADDED,
                                    std::stoll(manifest::Meta(*it).resource_version()), &*it));
      }
      if (reset) queue_.push_front(MakeEvent(v1::WatchEvent::RESET, 0, nullptr));
    }
    handle_ = std::move(*handle);
    Release();
    return absl::OkStatus();
  }
  return absl::UnavailableError("the store is compacting too fast to start a watch; retry");
}

void WatchReactor::Enqueue(v1::WatchEvent event) {
  absl::MutexLock lock(&mu_);
  if (finished_ || overflowed_) return;
  size_t bytes = event.ByteSizeLong();
  if (queued_bytes_ + bytes > kMaxQueuedBytes) {
    // Finish from OnWriteDone (a write is in flight when the queue grows), never
    // from here: this runs under the store's lock.
    overflowed_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    return;
  }
  queued_bytes_ += bytes;
  queue_.push_back(std::move(event));
  if (released_ && !writing_) WriteNextLocked();
}

void WatchReactor::Release() {
  absl::MutexLock lock(&mu_);
  released_ = true;
  if (!writing_) WriteNextLocked();
}

void WatchReactor::WriteNextLocked() {
  if (finished_) return;
  if (overflowed_) {
    FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "watch fell too far behind; resume from the last revision seen"));
    return;
  }
  if (queue_.empty()) {
    writing_ = false;
    return;
  }
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= std::min(queued_bytes_, in_flight_.ByteSizeLong());
  writing_ = true;
  StartWrite(&in_flight_);
}

void WatchReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "watch stream broken"));
    return;
  }
  WriteNextLocked();
}

void WatchReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void WatchReactor::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  queue_.clear();
  Finish(status);
}

void WatchReactor::OnDone() {
  // Unregister from the store before the sink's `this` goes away.
  handle_.reset();
  delete this;
}

}  // namespace reef::controller
