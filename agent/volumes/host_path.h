#pragma once
// hostPath volumes: the type checks the kubelet makes before a container starts.

#include <string>

#include "common/status.h"

namespace reef::agent::volumes {

// Checks `path` against a hostPath `type`, following links as the kubelet does:
//   ""                 no check (the path may not even exist)
//   DirectoryOrCreate  creates the folder (and its parents) 0755 when missing
//   FileOrCreate       creates an empty file 0644 when missing (its folder must exist)
//   Directory, File, Socket, CharDevice, BlockDevice: must exist with that type.
// Errors name the volume and the path:
//   volume "data": hostPath type check failed: /srv/data is not a directory
// FailedPrecondition for a wrong or missing path (the node must be fixed),
// InvalidArgument for an unknown type or a path that is not clean and absolute.
absl::Status CheckHostPath(const std::string& volume, const std::string& path,
                           const std::string& type);

// Whether `path` is absolute with no "." or ".." components, no empty ones and no
// trailing slash: the form runc is given.
bool IsCleanAbsolute(const std::string& path);

}  // namespace reef::agent::volumes
