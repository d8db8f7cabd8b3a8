#pragma once
// The Node sections of `reefctl describe node`. Internal to reefctl.

#include <vector>

#include "absl/time/time.h"
#include "cli/describe_writer.h"
#include "reef/v1/api.pb.h"

namespace reef::cli::describe {

// Everything kubectl prints for a Node after its metadata: Taints, Unschedulable,
// Conditions, Addresses, Capacity, Allocatable, System Info, PodCIDR. With `pods`
// (any pods; those not bound to this node are ignored) also the Non-terminated Pods
// table with each pod's cpu and memory requests and limits as a share of allocatable,
// and their totals under Allocated resources; `now` gives the pods' ages.
void NodeBody(DescribeWriter& w, const reef::v1::Node& node,
              const std::vector<reef::v1::Object>* pods, absl::Time now);

}  // namespace reef::cli::describe
