#pragma once
// The few things the runtime reads from or does to a container's cgroup, on cgroup v1
// (one hierarchy per controller, as on this machine and Raspberry Pi OS before
// bookworm) and v2 (unified). Paths are OCI `linux.cgroupsPath` values such as
// "/reef/<agent>/<pod-uid>/<container>", relative to each hierarchy's root.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace reef::agent::runtime {

inline constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";

// How many processes the kernel's OOM killer has killed in the cgroup: `oom_kill` of
// memory.oom_control (v1) or memory.events (v2). memory.failcnt is no use: it stays 0
// when the limit is hit and the OOM killer acts. NotFound when the cgroup is gone.
absl::StatusOr<int64_t> ReadOomKillCount(std::string_view cgroups_path,
                                         std::string_view root = kCgroupRoot);

// Removes the (empty) cgroup folder at cgroups_path from every hierarchy, as runc
// delete does for a container's own cgroup; the agent needs it for the pod-level
// parents runc leaves behind. A folder already gone is fine; one with processes in it
// fails (FailedPrecondition, from EBUSY).
absl::Status RemoveCgroup(std::string_view cgroups_path, std::string_view root = kCgroupRoot);

}  // namespace reef::agent::runtime
