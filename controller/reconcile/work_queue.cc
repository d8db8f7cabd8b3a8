#include "controller/reconcile/work_queue.h"

#include <algorithm>

namespace reef::reconcile {

void WorkQueue::Add(const std::string& item) {
  absl::MutexLock lock(&mu_);
  AddLocked(item);
}

void WorkQueue::AddLocked(const std::string& item) {
  if (shut_down_ || !dirty_.insert(item).second) return;
  if (processing_.count(item)) return;  // Done() queues it again
  ready_.push_back(item);
  cv_.Signal();
}

void WorkQueue::AddAfter(const std::string& item, absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  if (delay <= absl::ZeroDuration()) {
    AddLocked(item);
    return;
  }
  absl::Time due = clock_->Now() + delay;
  auto it = waiting_due_.find(item);
  if (it != waiting_due_.end()) {
    if (it->second <= due) return;
    // An earlier time replaces the later one.
    auto range = waiting_.equal_range(it->second);
    for (auto w = range.first; w != range.second; ++w) {
      if (w->second == item) {
        waiting_.erase(w);
        break;
      }
    }
  }
  waiting_due_[item] = due;
  waiting_.emplace(due, item);
  cv_.Signal();  // a sleeping Get() may need to wake earlier
}

void WorkQueue::PromoteDueLocked(absl::Time now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string item = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    waiting_due_.erase(item);
    AddLocked(item);
  }
}

std::optional<std::string> WorkQueue::PopLocked() {
  if (ready_.empty()) return std::nullopt;
  std::string item = std::move(ready_.front());
  ready_.pop_front();
  dirty_.erase(item);
  processing_.insert(item);
  return item;
}

std::optional<std::string> WorkQueue::Get() {
  absl::MutexLock lock(&mu_);
  while (!shut_down_) {
    absl::Time now = clock_->Now();
    PromoteDueLocked(now);
    if (auto item = PopLocked()) return item;
    if (waiting_.empty()) {
      cv_.Wait(&mu_);
    } else {
      cv_.WaitWithTimeout(&mu_, std::max(waiting_.begin()->first - now, absl::Milliseconds(1)));
    }
  }
  return std::nullopt;
}

std::optional<std::string> WorkQueue::TryGet() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return std::nullopt;
  PromoteDueLocked(clock_->Now());
  return PopLocked();
}

void WorkQueue::Done(const std::string& item) {
  absl::MutexLock lock(&mu_);
  processing_.erase(item);
  if (dirty_.count(item) && !shut_down_) {
    ready_.push_back(item);
    cv_.Signal();
  }
}

int WorkQueue::Failures(const std::string& item) const {
  absl::MutexLock lock(&mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

absl::Duration WorkQueue::NextBackoff(const std::string& item) {
  absl::MutexLock lock(&mu_);
  int n = failures_[item]++;
  absl::Duration d = absl::Milliseconds(100);
  for (int i = 0; i < n && d < absl::Minutes(5); ++i) d *= 2;
  return std::min(d, absl::Minutes(5));
}

void WorkQueue::Forget(const std::string& item) {
  absl::MutexLock lock(&mu_);
  failures_.erase(item);
}

void WorkQueue::ShutDown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  cv_.SignalAll();
}

size_t WorkQueue::Size() const {
  absl::MutexLock lock(&mu_);
  return ready_.size() + waiting_.size();
}

}  // namespace reef::reconcile
