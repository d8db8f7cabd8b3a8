#pragma once
// Where one pod goes: the pure core of the scheduler.
//
// Filter, in this order, the first failing rule being the node's reason:
//   the node is Ready; not cordoned (spec.unschedulable), unless the pod tolerates
//   it; its NoSchedule/NoExecute taints are tolerated; its labels match the pod's
//   nodeSelector (kubernetes.io/arch, kubernetes.io/os, kubernetes.io/hostname come
//   from the agent); the pod's host ports are free; its cpu and memory requests fit
//   in allocatable minus what the node's pods request, and the pod count fits.
// Score, lowest wins: pods of the same workload (controller) on the node, then in the
//   node's zone, then the share of cpu and memory allocated, then the node's name,
//   so that equal nodes are chosen the same way every time.
//
// When nothing fits, the message is kube-scheduler's: "0/3 nodes are available:
// 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."

#include <string>

#include "controller/scheduler/snapshot.h"

namespace reef::scheduler {

struct Decision {
  NodeInfo* node = nullptr;  // nullptr: the pod does not fit anywhere
  std::string message;       // why not, when it does not
};

// Chooses a node for `pod` among `snapshot`'s, without changing the snapshot (the
// caller Add()s the pod once the binding is decided).
Decision Schedule(const PodInfo& pod, Snapshot& snapshot);

}  // namespace reef::scheduler
