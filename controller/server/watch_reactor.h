#pragma once
// One server-streaming Watch call. The store's watch sink (called with the store's
// lock held) only queues events; the reactor writes them one at a time as gRPC
// finishes the previous write, so a slow client never blocks a store write. A client
// that falls too far behind is ended with RESOURCE_EXHAUSTED and
// resumes from the revision it last saw.
//
// The limit is in bytes (each queued event holds a copy of its object), so a watcher
// that stops reading costs the controller at most kMaxQueuedBytes.

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "controller/store/store.h"
#include "reef/v1/api.grpc.pb.h"

namespace reef::controller {

class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchEvent> {
 public:
  static constexpr size_t kMaxQueuedBytes = 64 << 20;

  // Creates the reactor and starts sending; gRPC owns it from here (OnDone deletes it).
  static WatchReactor* Start(store::Store* store, const v1::WatchRequest& request);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  WatchReactor() = default;
  absl::Status Begin(store::Store* store, const v1::WatchRequest& request);
  // Queues an event, starting a write if none is in flight.
  void Enqueue(v1::WatchEvent event);
  // Starts writing what is queued; until then events only queue up, so that the
  // initial list can go in front of them.
  void Release();
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::deque<v1::WatchEvent> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // of the events in queue_
  v1::WatchEvent in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<store::WatchHandle> handle_;
};

}  // namespace reef::controller
