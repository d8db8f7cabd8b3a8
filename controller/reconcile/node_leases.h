#pragma once
// When each node's agent was last heard from. Heartbeats arrive every few seconds
// from every node, so they live here, in memory, and never touch the database: the
// node lifecycle loop (node_lifecycle.h) turns a lease that ran out into a write,
// once, on the transition.
//
// Thread safety: every method may be called from any thread.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace reef::reconcile {

class NodeLeases {
 public:
  // A node is "back" when a renewal comes more than `lease_duration` after the one
  // before it (or is its first since the controller started).
  explicit NodeLeases(absl::Duration lease_duration = absl::Seconds(40))
      : lease_duration_(lease_duration) {}
  NodeLeases(const NodeLeases&) = delete;
  NodeLeases& operator=(const NodeLeases&) = delete;

  // The agent of `node` is alive at `now` (its stream's Hello and every heartbeat).
  void Renew(std::string_view node, absl::Time now);
  // The last renewal since the controller started; nullopt when there was none.
  std::optional<absl::Time> LastRenew(std::string_view node) const;
  // Every node's last renewal.
  std::map<std::string, absl::Time, std::less<>> Snapshot() const;
  // Drops a node that was deleted.
  void Forget(std::string_view node);

  // Called (outside the lock, on the renewing thread) when a node comes back, so
  // that its Ready condition returns without waiting for the next lifecycle pass.
  void SetOnBack(std::function<void(const std::string& node)> on_back);

  absl::Duration lease_duration() const { return lease_duration_; }

 private:
  const absl::Duration lease_duration_;
  mutable absl::Mutex mu_;
  std::map<std::string, absl::Time, std::less<>> last_ ABSL_GUARDED_BY(mu_);
  std::function<void(const std::string&)> on_back_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reef::reconcile
