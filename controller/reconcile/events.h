#pragma once
// Events the control loops record (ScalingReplicaSet, Scheduled, FailedScheduling),
// written in the same transaction as the change they tell about.
//
// Deduplicated as Kubernetes' event correlator does: one Event object per (object,
// type, reason, message), whose count and lastTimestamp go up when it happens again.
// Events older than the TTL are removed by the garbage collector.

#include <string_view>

#include "absl/time/time.h"
#include "controller/store/store.h"

namespace reef::reconcile {

// The component name events carry in source.component, as kubectl describe shows it.
inline constexpr char kControllerComponent[] = "reef-controller";
inline constexpr char kSchedulerComponent[] = "reef-scheduler";

struct EventSpec {
  std::string type;  // Normal, Warning
  std::string reason;
  std::string message;
};

absl::Status RecordEvent(store::Txn& txn, const v1::Object& involved, const EventSpec& event,
                         std::string_view component, absl::Time now);

}  // namespace reef::reconcile
