#pragma once
// The control loops' one work queue, shaped like client-go's workqueue.
//
// Invariants:
// - An item is held once however often it is added: the loops are level-triggered,
//   so what matters is that an item is looked at again, not how often it changed.
// - An item is never handed to two workers at once. Added while a worker has it, it
//   is queued again when that worker calls Done().
// - Items added "after" a delay wait on the clock (retries with backoff, timed
//   requeues); the earliest due time wins when one is added twice.
//
// Thread safety: every method may be called from any thread.

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace reef::reconcile {

class WorkQueue {
 public:
  explicit WorkQueue(const Clock* clock) : clock_(clock) {}
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& item);
  void AddAfter(const std::string& item, absl::Duration delay);

  // Blocks until an item is due, then hands it out; nullopt once ShutDown() was
  // called. Waits in real time: with a FakeClock use TryGet().
  std::optional<std::string> Get();
  // The next item due now by the clock, or nullopt.
  std::optional<std::string> TryGet();
  // The worker is done with `item` (from Get or TryGet).
  void Done(const std::string& item);

  // Failures in a row of `item`, for its retry delay; Forget() resets them.
  int Failures(const std::string& item) const;
  // 100 ms doubling per failure in a row, at most 5 minutes; counts this failure.
  absl::Duration NextBackoff(const std::string& item);
  void Forget(const std::string& item);

  // Wakes every Get(); later adds are ignored.
  void ShutDown();
  // Items ready now plus those waiting on a delay.
  size_t Size() const;

 private:
  void AddLocked(const std::string& item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the waiting items that are due into the ready queue.
  void PromoteDueLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<std::string> PopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* clock_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> dirty_ ABSL_GUARDED_BY(mu_);       // in ready_, or to requeue at Done
  std::set<std::string> processing_ ABSL_GUARDED_BY(mu_);  // handed out, not yet Done
  std::multimap<absl::Time, std::string> waiting_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> waiting_due_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> failures_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace reef::reconcile
