#pragma once
// Garbage collection through ownerReferences: an object all of whose owners are gone
// (no object of that kind and name, or one with another uid) is deleted, as
// Kubernetes' garbage collector does in the background. Deleting through the API
// already cascades in one transaction; this catches what that cannot: an object
// applied with an owner that does not exist, or whose owner went while the
// controller was down. Objects whose dependents become orphans by this go in the
// next pass (their owner's deletion wakes it).
//
// Owners of a kind the cache does not hold (a ConfigMap) cannot be judged here and
// are taken as present.
//
// It also deletes Events older than the event TTL (Kubernetes keeps them an hour).

#include "controller/reconcile/reconciler.h"

namespace reef::reconcile {

// The objects of `kinds` in `state` whose owners are all gone.
std::vector<ObjectPtr> FindOrphans(const State& state, const std::vector<std::string>& kinds);

class GarbageCollector : public Reconciler {
 public:
  GarbageCollector(store::Store* store, const State* state, const Clock* clock,
                   std::vector<std::string> kinds, absl::Duration event_ttl)
      : store_(store), state_(state), clock_(clock), kinds_(std::move(kinds)), event_ttl_(event_ttl) {}

  std::string_view name() const override { return "GarbageCollector"; }
  void KeysFor(const store::Event& event, const State& state,
               std::vector<std::string>* keys) const override;
  void AllKeys(const State& state, std::vector<std::string>* keys) const override;
  absl::StatusOr<Result> Reconcile(const std::string& key) override;
  absl::Duration period() const override { return absl::Minutes(1); }

 private:
  absl::Status DeleteOldEvents(absl::Time now);

  store::Store* store_;
  const State* state_;
  const Clock* clock_;
  const std::vector<std::string> kinds_;
  const absl::Duration event_ttl_;
  absl::Time last_event_sweep_ = absl::InfinitePast();  // only the worker holding "" touches it
};

}  // namespace reef::reconcile
