#pragma once
// A Deployment's status as Kubernetes computes it: counts summed over its ReplicaSets,
// and the Available and Progressing conditions (with the progress deadline).

#include <optional>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "reef/v1/api.pb.h"

namespace reef::reconcile {

// Condition reasons, Kubernetes' words (kubectl and dashboards match on them).
inline constexpr char kNewReplicaSetReason[] = "NewReplicaSetCreated";
inline constexpr char kFoundNewReplicaSetReason[] = "FoundNewReplicaSet";
inline constexpr char kReplicaSetUpdatedReason[] = "ReplicaSetUpdated";
inline constexpr char kNewReplicaSetAvailableReason[] = "NewReplicaSetAvailable";
inline constexpr char kTimedOutReason[] = "ProgressDeadlineExceeded";
inline constexpr char kPausedReason[] = "DeploymentPaused";
inline constexpr char kResumedReason[] = "DeploymentResumed";

const v1::DeploymentCondition* FindCondition(const v1::DeploymentStatus& status, std::string_view type);
v1::DeploymentCondition NewCondition(std::string_view type, std::string_view status,
                                     std::string_view reason, std::string_view message, absl::Time now);
// Replaces the condition of that type unless status and reason are the same; keeps
// the transition time when only the reason changes.
void SetCondition(v1::DeploymentStatus* status, v1::DeploymentCondition condition);
void RemoveCondition(v1::DeploymentStatus* status, std::string_view type);

// The counts over `all` (null entries skipped) and the Available condition, on top of
// the conditions already in `current`.
v1::DeploymentStatus CalculateStatus(const v1::Deployment& d, const v1::DeploymentStatus& current,
                                     const std::vector<const v1::ReplicaSet*>& all,
                                     const v1::ReplicaSet* new_rs, absl::Time now);

// Every new-template replica is updated, there are no others, all are available, and
// the status is of the current generation.
bool DeploymentComplete(const v1::Deployment& d, const v1::DeploymentStatus& status);

// CalculateStatus plus the Progressing condition: complete, progressing (more
// updated, ready or available replicas, fewer old ones) or timed out past
// progressDeadlineSeconds since the last progress. `requeue_after` is set to when the
// deadline would pass, so that a stuck rollout is noticed without an event.
v1::DeploymentStatus RolloutStatus(const v1::Deployment& d, const v1::DeploymentStatus& current,
                                   const std::vector<const v1::ReplicaSet*>& all,
                                   const v1::ReplicaSet* new_rs, absl::Time now,
                                   absl::Duration* requeue_after);

}  // namespace reef::reconcile
