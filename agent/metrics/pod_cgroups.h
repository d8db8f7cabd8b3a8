#pragma once
// What the collector needs to know of the agent's pods, from what the agent stores.

#include <functional>
#include <string>
#include <vector>

#include "agent/metrics/collector.h"
#include "agent/state/agent_state.h"

namespace reef::agent::metrics {

// One PodCgroups per pod of `pods`, in that order. A pod's containers are the
// records of `containers` with its key that have not finished, their cgroups
// `pod_cgroup(pod key) + "/" + container id` (runc's cgroupsPath as the pod manager
// makes it); when several attempts of one container are live, the latest is used.
// `pod_cgroup` gives a pod's cgroup from its key ("namespace/name").
std::vector<PodCgroups> PodCgroupsFor(const std::vector<PodRecord>& pods,
                                      const std::vector<ContainerRecord>& containers,
                                      const std::function<std::string(const std::string& pod_key)>& pod_cgroup);

}  // namespace reef::agent::metrics
