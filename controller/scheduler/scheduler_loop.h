#pragma once
// The scheduler as a control loop: one key (""), woken by pods that need a node and
// by node changes. A pass takes every pending pod, oldest first, decides them all
// against one Snapshot (scheduler.h) and writes the outcome in a few transactions:
// spec.nodeName with PodScheduled=True and a Scheduled event, or PodScheduled=False
// (Unschedulable, with kube-scheduler's message) and a FailedScheduling warning.
// A pod whose unschedulable message has not changed costs no write at all.

#include "controller/reconcile/reconciler.h"

namespace reef::scheduler {

class SchedulerLoop : public reconcile::Reconciler {
 public:
  SchedulerLoop(store::Store* store, const reconcile::State* state, const Clock* clock)
      : store_(store), state_(state), clock_(clock) {}

  std::string_view name() const override { return "Scheduler"; }
  void KeysFor(const store::Event& event, const reconcile::State& state,
               std::vector<std::string>* keys) const override;
  void AllKeys(const reconcile::State& state, std::vector<std::string>* keys) const override;
  absl::StatusOr<reconcile::Result> Reconcile(const std::string& key) override;
  // Unschedulable pods are tried again this often, in case what they wait for came
  // without a node event (a pod elsewhere finished).
  absl::Duration period() const override { return absl::Seconds(30); }

 private:
  store::Store* store_;
  const reconcile::State* state_;
  const Clock* clock_;
};

// Pods waiting for a node: active, not bound.
bool NeedsScheduling(const v1::Pod& pod);

}  // namespace reef::scheduler
