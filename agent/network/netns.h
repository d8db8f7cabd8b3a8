#pragma once
// Named network namespaces, as `ip netns add` makes them: an empty file in a folder of
// the node (/run/netns) with the namespace bind-mounted on it, so that the namespace
// outlives every process in it and anyone (runc, nsenter, a restarted agent) can join
// it by path.

#include <string>

#include "common/status.h"

namespace reef::agent::network {

// Creates `dir` if needed and makes it a shared mount point (bind-mounting it onto
// itself first if it is not a mount point), as iproute2 does: a namespace mounted
// there later then shows in mount namespaces cloned earlier (a container's), and its
// unmount propagates to them, so that no stale copy keeps the namespace alive.
absl::Status MakeSharedMountDir(const std::string& dir);

// Creates a new network namespace and mounts it on `path`, which must not exist.
// The namespace is made on a short-lived thread of ours, so no other thread (and no
// child process) ever runs in it.
absl::Status CreateNetns(const std::string& path);

// True when `path` is a mounted network namespace (nsfs), false for a plain file
// (a creation interrupted between the file and the mount) or nothing.
bool IsNetnsMount(const std::string& path);

// Unmounts and removes `path`. Idempotent: nothing there is success.
absl::Status RemoveNetns(const std::string& path);

}  // namespace reef::agent::network
