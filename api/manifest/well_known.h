#pragma once
// Label and annotation names with a meaning to Reef's controllers and to reefctl, as
// Kubernetes spells them (so that tools that know Kubernetes read them right).

namespace reef::manifest {

// On a Deployment's ReplicaSets (in their selector and template too) and their pods:
// the hash of the pod template.
inline constexpr char kPodTemplateHashLabel[] = "pod-template-hash";
// On a DaemonSet's pods: the hash of the template they were made from.
inline constexpr char kControllerRevisionHashLabel[] = "controller-revision-hash";

// On a Deployment's ReplicaSets: the rollout revision of their template (read by
// `reefctl rollout history|undo`), the revisions they had before an undo brought them
// back, and the replica counts the Deployment last asked for.
inline constexpr char kRevisionAnnotation[] = "deployment.kubernetes.io/revision";
inline constexpr char kRevisionHistoryAnnotation[] = "deployment.kubernetes.io/revision-history";
inline constexpr char kDesiredReplicasAnnotation[] = "deployment.kubernetes.io/desired-replicas";
inline constexpr char kMaxReplicasAnnotation[] = "deployment.kubernetes.io/max-replicas";
// On a pod template, set by `rollout restart`: a new value makes a new template.
inline constexpr char kRestartedAtAnnotation[] = "kubectl.kubernetes.io/restartedAt";
// Why a revision was made; `rollout history` shows it.
inline constexpr char kChangeCauseAnnotation[] = "kubernetes.io/change-cause";
inline constexpr char kLastAppliedAnnotation[] = "kubectl.kubernetes.io/last-applied-configuration";

}  // namespace reef::manifest
