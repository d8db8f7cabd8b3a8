#pragma once
// A container's bind mounts for its volumeMounts, with subPath resolved as the kubelet
// resolves it: inside the volume, never through a link that leads out of it.

#include <string>
#include <vector>

#include "agent/runtime/oci_spec.h"
#include "agent/volumes/volume_manager.h"
#include "common/status.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::volumes {

// One bind mount per volumeMount, in order:
//   source       the volume's host path, or the resolved subPath inside it
//   destination  mountPath, cleaned (must be absolute, without "..")
//   read_only    readOnly, and always for configMap and secret volumes
// A whole configMap/secret folder keeps showing updates in a running container (the
// writer swaps ..data inside it); a subPath mount pins the file it resolved to, as in
// Kubernetes. A missing subPath is created as a folder (with the volume's mode) in an
// emptyDir or hostPath volume, and NotFound in a configMap or secret one.
// InvalidArgument naming the container and the mount for an absolute subPath, one with
// "..", or one that resolves outside the volume; NotFound for an unknown volume.
absl::StatusOr<std::vector<runtime::BindMount>> ContainerMounts(const reef::v1::Container& c,
                                                                const PodVolumes& volumes);

// The host path of `sub_path` inside the folder `root`: every link resolved, each
// within `root` (an absolute link target must lie under root's real path; ".." may not
// climb above it), at most 40 links. With `create`, missing components become folders
// with root's mode. Errors carry no container context; ContainerMounts adds it.
absl::StatusOr<std::string> ResolveSubPath(const std::string& root, const std::string& sub_path,
                                           bool create);

}  // namespace reef::agent::volumes
