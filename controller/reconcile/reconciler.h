#pragma once
// One control loop: it looks at one key at a time and makes the store match what the
// key's object asks for. Level-triggered: Reconcile() reads the current state, never
// the event that woke it, so a missed or merged event costs nothing.

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "controller/reconcile/state.h"

namespace reef::reconcile {

struct Result {
  // Look at the key again after this long even if nothing changes (a pod becoming
  // available after minReadySeconds, a progress deadline). Zero: only on change.
  absl::Duration requeue_after = absl::ZeroDuration();
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;

  // The kind of work, and the prefix of its queue items: "ReplicaSet".
  virtual std::string_view name() const = 0;

  // The keys (usually "namespace/name"; "" for a loop with one key) that `event` may
  // have put out of date. Runs under the store's lock: look only at the event and at
  // `state`.
  virtual void KeysFor(const store::Event& event, const State& state,
                       std::vector<std::string>* keys) const = 0;
  // Every key there is, for the periodic resync.
  virtual void AllKeys(const State& state, std::vector<std::string>* keys) const = 0;

  // Makes the store match for `key`. An error is retried with backoff; Aborted (a
  // write conflict: someone else wrote first) is retried at once.
  virtual absl::StatusOr<Result> Reconcile(const std::string& key) = 0;

  // Looks at every key this often with no event at all (leases age without writes).
  // Zero: never.
  virtual absl::Duration period() const { return absl::ZeroDuration(); }
};

// "namespace/name" <-> store key of `kind`.
std::string NamespacedKey(const v1::ObjectMeta& meta);
store::Key KeyFromString(std::string_view kind, std::string_view key);

}  // namespace reef::reconcile
