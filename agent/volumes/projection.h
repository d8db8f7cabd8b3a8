#pragma once
// The files of configMap and secret volumes, as the kubelet projects them: every key
// as a file named after it, or only `items` (key -> path, with their own mode);
// defaultMode 0644.

#include <optional>
#include <string>

#include "agent/volumes/atomic_writer.h"
#include "common/status.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::volumes {

// `object` is the looked-up ConfigMap (nullopt: not found). A missing object that is
// not optional, or an item naming a key the object lacks, is NotFound naming the
// volume and what is missing:
//   volume "config": configmap "sensor-config" not found
//   volume "config": configmap "sensor-config" references non-existent config key: mode
// An optional missing object gives an empty payload; an optional object's missing
// items are skipped. InvalidArgument for an item path the writer refuses.
absl::StatusOr<Payload> ConfigMapPayload(const std::string& volume,
                                         const reef::v1::ConfigMapVolumeSource& source,
                                         const std::optional<reef::v1::ConfigMap>& object);

absl::StatusOr<Payload> SecretPayload(const std::string& volume,
                                      const reef::v1::SecretVolumeSource& source,
                                      const std::optional<reef::v1::Secret>& object);

}  // namespace reef::agent::volumes
