#pragma once
// The few host mount operations volumes need: tmpfs mounts on a folder, and finding
// and unmounting every mount under a folder before it is removed.

#include <string>
#include <vector>

#include "common/status.h"

namespace reef::agent::volumes {

// Mounts a tmpfs on `target` with mount(2) data `options` ("size=...,mode=...").
absl::Status MountTmpfs(const std::string& target, unsigned long flags, const std::string& options);

// The mount points at or under `dir` (absolute, no trailing slash) in
// /proc/self/mountinfo, octal escapes decoded, in mount order.
absl::StatusOr<std::vector<std::string>> MountsUnder(const std::string& dir);

// Unmounts everything at or under `dir`, deepest first, detaching lazily what is busy.
// OK when nothing is mounted there.
absl::Status UnmountAll(const std::string& dir);

}  // namespace reef::agent::volumes
