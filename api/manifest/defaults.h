#pragma once
// Kubernetes' defaults, applied by the controller to every object it stores (and by
// reefctl before it validates, so that errors match what the server would say).
// Idempotent: defaulting a defaulted object changes nothing.

#include "api/manifest/object.h"

namespace reef::manifest {

void ApplyDefaults(Object* object);

// imagePullPolicy's default: Always for ":latest" or no tag, else IfNotPresent.
std::string DefaultPullPolicy(std::string_view image);

}  // namespace reef::manifest
