#pragma once
// The bookkeeping a Deployment keeps on its ReplicaSets, as Kubernetes keeps it: a
// revision per pod template, the replica counts it last asked for, and the orderings
// its rollout walks in. Shared by the rollout planner and its status.

#include <cstdint>
#include <string>
#include <vector>

#include "api/manifest/well_known.h"
#include "reef/v1/api.pb.h"

namespace reef::reconcile {

using manifest::kChangeCauseAnnotation;
using manifest::kDesiredReplicasAnnotation;
using manifest::kMaxReplicasAnnotation;
using manifest::kRestartedAtAnnotation;
using manifest::kRevisionAnnotation;
using manifest::kRevisionHistoryAnnotation;

int32_t Replicas(const v1::Deployment& d);
int32_t Replicas(const v1::ReplicaSet& rs);
// 0 when the annotation is missing or unreadable.
int64_t Revision(const v1::ReplicaSet& rs);

// The rollout limits with the deployment's replicas: 0 for Recreate, maxUnavailable
// at most the replicas.
int32_t MaxSurge(const v1::Deployment& d);
int32_t MaxUnavailable(const v1::Deployment& d);
bool IsRollingUpdate(const v1::Deployment& d);

// Whether two pod templates are the same once the pod-template-hash label is left out
// (how a Deployment recognises the ReplicaSet of its current template).
bool EqualIgnoringHash(const v1::PodTemplateSpec& a, const v1::PodTemplateSpec& b);

// Sets the desired-/max-replicas annotations; returns whether they changed.
bool SetReplicasAnnotations(v1::ReplicaSet* rs, int32_t desired, int32_t max);
bool ReplicasAnnotationsNeedUpdate(const v1::ReplicaSet& rs, int32_t desired, int32_t max);
// The desired-replicas annotation, if readable.
bool DesiredReplicasAnnotation(const v1::ReplicaSet& rs, int32_t* out);

// Sums over ReplicaSets (null entries skipped): spec.replicas, status.replicas,
// status.readyReplicas, status.availableReplicas.
int32_t SpecReplicas(const std::vector<const v1::ReplicaSet*>& sets);
int32_t ActualReplicas(const std::vector<const v1::ReplicaSet*>& sets);
int32_t ReadyReplicas(const std::vector<const v1::ReplicaSet*>& sets);
int32_t AvailableReplicas(const std::vector<const v1::ReplicaSet*>& sets);

// Orderings (Kubernetes' ReplicaSetsByCreationTimestamp, BySizeNewer/Older, ByRevision).
bool CreatedBefore(const v1::ReplicaSet& a, const v1::ReplicaSet& b);
bool LargerThenNewer(const v1::ReplicaSet& a, const v1::ReplicaSet& b);
bool LargerThenOlder(const v1::ReplicaSet& a, const v1::ReplicaSet& b);
bool LowerRevision(const v1::ReplicaSet& a, const v1::ReplicaSet& b);

}  // namespace reef::reconcile
