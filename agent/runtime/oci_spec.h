#pragma once
// The OCI runtime spec (a bundle's config.json) for one container of a pod, merged with
// its image's config as Kubernetes and containerd merge them:
//
//   process   command replaces the image's Entrypoint and drops its Cmd; args alone
//             replace Cmd. Env: PATH (default unless the image sets it), HOSTNAME, the
//             image's, then the container's envFrom and env, a later name replacing an
//             earlier value in place; $(VAR) in env, command and args expanded from
//             the container's own variables. cwd: workingDir, the image's WorkingDir,
//             "/". User: the image's User resolved in its /etc/passwd and /etc/group,
//             replaced by runAsUser / runAsGroup.
//   security  Docker's default capabilities changed by securityContext.capabilities
//             (all of them when privileged), no_new_privileges unless
//             allowPrivilegeEscalation is true (Kubernetes defaults it to true; Reef,
//             to be safe at the edge, does not), containerd's masked and read-only
//             /proc and /sys paths (none when privileged), RLIMIT_NOFILE when given.
//   mounts    proc, /dev tmpfs, devpts, /dev/shm, mqueue, sysfs and cgroup read-only
//             (read-write when privileged), then the caller's bind mounts, shallowest
//             first; a bind mount on a default's destination replaces it.
//   linux     new pid, ipc, uts, mount and network namespaces; the network one may be a
//             given path (a CNI-wired netns) or, with hostNetwork, the host's (and then
//             the host's UTS namespace too, as Kubernetes does). An explicit
//             cgroupsPath. Resources from resources.limits / requests: memory limit,
//             CPU quota over a 100 ms period, CPU shares from the request (2 without
//             one, as the kubelet), a pids limit; devices cgroup deny-all (runc adds
//             the standard /dev nodes).
//
// Everything here is pure; reading the image's user database is LoadUserDb's job.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "agent/runtime/user_db.h"
#include "common/status.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::runtime {

// The parts of an image's config (OCI image-spec `config`) that shape the process.
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "NAME=VALUE"
  std::string working_dir;
  std::string user;  // "", "uid", "name", optionally ":gid" or ":group"
};

struct BindMount {
  std::string source;       // on the host
  std::string destination;  // in the container, absolute
  bool read_only = false;
};

inline constexpr int64_t kDefaultPidsLimit = 4096;
inline constexpr uint64_t kMaxNofile = 1048576;
inline constexpr int64_t kCpuPeriodUs = 100000;

struct SpecOptions {
  ImageConfig image;
  // root.path: absolute, or relative to the bundle folder.
  std::string rootfs;
  // The image's users and groups (LoadUserDb of the rootfs); empty resolves numeric
  // users only.
  UserDb users;
  // Values the caller looked up in ConfigMaps and Secrets: the variables of the
  // container's envFrom sources, in order, and the value of each env entry that has
  // valueFrom, by its name.
  std::vector<std::pair<std::string, std::string>> env_from;
  std::map<std::string, std::string> value_from;
  std::vector<BindMount> mounts;
  // The network namespace to join (e.g. /var/run/netns/<pod>); empty: a new one.
  // Ignored with hostNetwork.
  std::string netns_path;
  // Empty: the pod's name. With hostNetwork no hostname is set (the container sees the
  // node's) and this only fills $HOSTNAME.
  std::string hostname;
  // Required, e.g. /reef/<agent-id>/<pod-uid>/<container>.
  std::string cgroups_path;
  int64_t pids_limit = kDefaultPidsLimit;
  // RLIMIT_NOFILE, soft and hard; 0 sets none, and the container inherits runc's (the
  // agent's). See DefaultNofile.
  uint64_t nofile = 0;
  // Added to the io.kubernetes.* annotations naming the pod and container.
  std::map<std::string, std::string> annotations;
};

// InvalidArgument, FailedPrecondition (runAsNonRoot with root) or NotFound (an
// unknown user name), each naming the container and the field.
absl::StatusOr<nlohmann::json> BuildSpec(const reef::v1::Pod& pod,
                                         const reef::v1::Container& container,
                                         const SpecOptions& options);

// The NOFILE limit to give containers: 1048576, or the agent's own hard limit when
// that is lower (without CAP_SYS_RESOURCE runc cannot raise it, and the container
// would fail to start).
uint64_t DefaultNofile();

// Writes <bundle>/config.json atomically.
absl::Status WriteSpec(const std::string& bundle, const nlohmann::json& spec);

}  // namespace reef::agent::runtime
