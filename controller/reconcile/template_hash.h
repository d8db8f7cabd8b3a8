#pragma once
// The pod-template hash of Deployments and DaemonSets: it names a Deployment's
// ReplicaSets (<deployment>-<hash>) and labels their pods, as in Kubernetes.

#include <cstdint>
#include <optional>
#include <string>

#include "reef/v1/core.pb.h"

namespace reef::reconcile {

// FNV-1a (32 bits) over the template's deterministic serialization and, when set,
// the collision count, spelled as Kubernetes spells it (the decimal digits mapped
// onto "bcdfghjklmnpqrstvwxz2456789"): a stable, label-safe string of up to 10
// characters. Templates are compared field by field, never by hash, so a hash that
// changes with a new protobuf version renames nothing that runs.
std::string TemplateHash(const v1::PodTemplateSpec& tmpl,
                         std::optional<int32_t> collision_count = std::nullopt);

}  // namespace reef::reconcile
