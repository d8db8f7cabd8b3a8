#pragma once
// Whether a pod may go on a node, one rule at a time, as kube-scheduler's filter
// plugins and the DaemonSet controller judge it. Pure functions over the protos.

#include <functional>
#include <string>

#include "google/protobuf/repeated_field.h"
#include "reef/v1/api.pb.h"

namespace reef::scheduler {

// Taint keys the node lifecycle sets, as Kubernetes names them.
inline constexpr char kTaintUnreachable[] = "node.kubernetes.io/unreachable";
inline constexpr char kTaintNotReady[] = "node.kubernetes.io/not-ready";
inline constexpr char kTaintUnschedulable[] = "node.kubernetes.io/unschedulable";

// The node's Ready condition is True.
bool IsNodeReady(const v1::Node& node);
// The node's Ready condition ("" when it has none).
const v1::NodeCondition* FindNodeCondition(const v1::NodeStatus& status, std::string_view type);

// Every nodeSelector entry is a label of the node with that value.
bool MatchesNodeSelector(const v1::PodSpec& spec, const v1::Node& node);

bool Tolerates(const v1::Toleration& toleration, const v1::Taint& taint);

// The first taint of `node` with an effect that `applies` accepts and that no
// toleration tolerates; nullptr when there is none.
const v1::Taint* FindUntoleratedTaint(const v1::Node& node,
                                      const google::protobuf::RepeatedPtrField<v1::Toleration>& tolerations,
                                      const std::function<bool(const v1::Taint&)>& applies);
// NoSchedule and NoExecute keep new pods away; NoExecute also removes running ones.
bool IsSchedulingEffect(const v1::Taint& taint);
bool IsExecuteEffect(const v1::Taint& taint);

// `spec.unschedulable` (a cordon) keeps pods away unless they tolerate
// node.kubernetes.io/unschedulable:NoSchedule.
bool BlockedByCordon(const v1::PodSpec& spec, const v1::Node& node);

}  // namespace reef::scheduler
