#pragma once
// What a node is sent: its pods (spec.nodeName), and the ConfigMaps and Secrets those
// pods reference. Nothing else about the cluster reaches an agent.

#include <string>
#include <vector>

#include "controller/store/store.h"
#include "reef/v1/core.pb.h"

namespace reef::controller {

// The ConfigMaps and Secrets a pod refers to (volumes, env valueFrom, envFrom, image
// pull secrets), in the pod's namespace, each once.
std::vector<store::Key> ReferencedConfig(const v1::Pod& pod);

// Whether an agent must hear of the change from `before` to `after`: anything but
// the status and the bookkeeping in metadata (resourceVersion, managed times). The
// status an agent reports comes back as a new resourceVersion; echoing it to the
// agent would double the traffic for nothing.
bool ChangedForAgent(const v1::Pod& before, const v1::Pod& after);

}  // namespace reef::controller
