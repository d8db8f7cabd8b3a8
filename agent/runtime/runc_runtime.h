#pragma once
// The Runtime over the runc CLI (crun takes the same commands and flags). Each
// container runs under its own reef-monitor (see monitor.h); runc's state lives under
// a --root folder of this agent's own, so several agents on one box never see each
// other's containers.

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "agent/runtime/runtime.h"

namespace reef::agent::runtime {

struct RuncOptions {
  std::string binary = "runc";  // looked up in PATH unless it contains a '/'
  // runc --root. Best on tmpfs (/run/reef/<agent>/runc): runc's state means nothing
  // after a reboot.
  std::string root;
  // Each container's monitor folder is <monitor_dir>/<id>; keep it where the agent
  // finds it again after its own restart.
  std::string monitor_dir;
  // Empty: reef-monitor beside the running executable (the agent's install folder).
  std::string monitor_binary;
  absl::Duration command_timeout = absl::Seconds(30);  // state, kill, delete, list
  absl::Duration start_timeout = absl::Minutes(2);     // Run, up to the container's start
  // Put before `<binary> run`, e.g. to run it in another mount namespace.
  std::vector<std::string> run_prefix;
};

// Checks that runc and reef-monitor can be run and creates the folders.
absl::StatusOr<std::unique_ptr<Runtime>> OpenRuncRuntime(const RuncOptions& options);

// The same over crun (`binary` defaults to "crun"). crun 1.8 refuses cgroup v1 when
// the v2 hierarchy at /sys/fs/cgroup/unified carries a controller ("cgroups in hybrid
// mode not supported", as on Debian 12 with hugetlb there): then `crun run` runs in a
// private mount namespace without that mount, and crun sees plain v1.
absl::StatusOr<std::unique_ptr<Runtime>> OpenCrunRuntime(const RuncOptions& options);

}  // namespace reef::agent::runtime
