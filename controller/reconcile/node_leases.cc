#include "controller/reconcile/node_leases.h"

namespace reef::reconcile {

void NodeLeases::Renew(std::string_view node, absl::Time now) {
  std::function<void(const std::string&)> notify;
  {
    absl::MutexLock lock(&mu_);
    auto it = last_.find(node);
    bool back = it == last_.end() || now - it->second > lease_duration_;
    if (it == last_.end()) {
      last_.emplace(std::string(node), now);
    } else {
      it->second = std::max(it->second, now);
    }
    if (back) notify = on_back_;
  }
  if (notify) notify(std::string(node));
}

std::optional<absl::Time> NodeLeases::LastRenew(std::string_view node) const {
  absl::MutexLock lock(&mu_);
  auto it = last_.find(node);
  if (it == last_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, absl::Time, std::less<>> NodeLeases::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

void NodeLeases::Forget(std::string_view node) {
  absl::MutexLock lock(&mu_);
  auto it = last_.find(node);
  if (it != last_.end()) last_.erase(it);
}

void NodeLeases::SetOnBack(std::function<void(const std::string& node)> on_back) {
  absl::MutexLock lock(&mu_);
  on_back_ = std::move(on_back);
}

}  // namespace reef::reconcile
