#pragma once
// What a Deployment needs done to its ReplicaSets, decided the way Kubernetes'
// deployment controller decides it (pkg/controller/deployment), as one pure function:
//
// - The ReplicaSet whose template equals the Deployment's (the pod-template-hash label
//   aside) is the new one; it gets the next revision. None: one is created, named
//   <deployment>-<template hash>.
// - RollingUpdate: the new set grows while the total stays within replicas + maxSurge;
//   old sets shrink while the available pods stay at least replicas - maxUnavailable
//   (unhealthy old pods go first). Recreate: old sets go to zero, and only once their
//   pods are gone does the new set grow.
// - A change of replicas alone scales the active sets proportionally; a paused
//   Deployment only scales.
// - Old sets past revisionHistoryLimit are deleted once empty.
// - The status (counts, Available, Progressing) follows.
//
// One pass takes one step (scale up or scale down), as Kubernetes does: the next
// step waits for the ReplicaSets' status to show the effect of this one.

#include <optional>
#include <vector>

#include "controller/reconcile/events.h"
#include "controller/reconcile/state.h"

namespace reef::reconcile {

struct DeploymentPlan {
  std::optional<v1::Object> create;            // the new ReplicaSet, not yet stored
  std::vector<v1::Object> update;              // ReplicaSets to write, with their resourceVersion
  std::vector<v1::Object> remove;              // old ReplicaSets to delete
  std::optional<v1::DeploymentStatus> status;  // when it changed
  std::vector<EventSpec> events;               // ScalingReplicaSet, on the Deployment
  absl::Duration requeue_after = absl::ZeroDuration();

  bool empty() const { return !create && update.empty() && remove.empty() && !status; }
};

// `deployment` is a Deployment object; `replica_sets` are the ReplicaSets it controls.
DeploymentPlan PlanDeployment(const v1::Object& deployment, const std::vector<ObjectPtr>& replica_sets,
                              absl::Time now);

}  // namespace reef::reconcile
