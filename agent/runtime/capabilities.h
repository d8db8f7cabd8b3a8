#pragma once
// Linux capabilities for a container's process, named as the OCI spec names them
// ("CAP_NET_RAW"). Manifests may write them with or without the CAP_ prefix, in any
// case, as Kubernetes accepts.

#include <string>
#include <vector>

#include "common/status.h"

namespace reef::agent::runtime {

// Every capability up to CAP_CHECKPOINT_RESTORE (Linux 5.9), in kernel order: what a
// privileged container gets. runc skips, with a warning, those an older kernel lacks.
const std::vector<std::string>& AllCapabilities();

// The set Docker and containerd give a container by default.
const std::vector<std::string>& DefaultCapabilities();

// The default set changed by a securityContext's capabilities, as Docker does: "ALL"
// in drop empties the set before the additions, "ALL" in add grants everything but
// the other drops; otherwise drops are taken out of the default set and additions
// join it. Kernel order. InvalidArgument naming the field for an unknown name.
absl::StatusOr<std::vector<std::string>> ApplyCapabilityChanges(
    const std::vector<std::string>& add, const std::vector<std::string>& drop);

}  // namespace reef::agent::runtime
