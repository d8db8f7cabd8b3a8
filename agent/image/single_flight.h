#pragma once
// Collapses concurrent calls for the same key into one: the first caller runs the
// function, the others wait for it and get a copy of its result. Once it finishes the
// key is free again (results are not cached). Used so that two pods pulling the same
// image, or two images sharing a layer, download it once.
//
// Thread safety: Do() may be called from any thread.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace reef::agent::image {

template <typename Result>
class SingleFlight {
 public:
  Result Do(const std::string& key, const std::function<Result()>& fn) {
    std::shared_ptr<Call> call;
    bool leader = false;
    {
      absl::MutexLock lock(&mu_);
      auto& slot = calls_[key];
      if (slot == nullptr) {
        slot = std::make_shared<Call>();
        leader = true;
      }
      call = slot;
      ++call->waiters;
    }
    if (leader) {
      call->result.emplace(fn());
      {
        absl::MutexLock lock(&mu_);
        calls_.erase(key);
      }
      call->done.Notify();
    } else {
      call->done.WaitForNotification();
    }
    return *call->result;
  }

  // How many callers (the running one included) share the call in flight for `key`.
  int CallersForTest(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(key);
    return it == calls_.end() ? 0 : it->second->waiters;
  }

 private:
  struct Call {
    absl::Notification done;
    std::optional<Result> result;  // written by the leader before done is notified
    int waiters = 0;               // guarded by mu_
  };

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Call>> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reef::agent::image
