#pragma once
// The reef.v1.Node an agent reports in Hello: its name and labels, capacity and
// allocatable, conditions, addresses and system facts.
//
// Building the Node is pure: the machine's facts come in through MachineFacts, which
// ReadMachineFacts fills from uname, /proc, /etc, the agent's cgroup and statvfs of
// the data dir. Unit tests feed BuildNode fixture facts instead.
//
// Allocatable follows the kubelet: capacity minus --system-reserved minus the hard
// eviction thresholds (memory 100Mi, disk 10%), so that pods are never scheduled into
// the headroom the OS, the agent and the pressure conditions need.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/status.h"
#include "reef/v1/core.pb.h"

namespace reef::agent {

// What --system-reserved keeps away from pods: the OS and reef-agent itself.
struct SystemReserved {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t ephemeral_storage_bytes = 0;
};

// The --system-reserved default. Raspberry Pi OS Lite with reef-agent and a few
// container monitors uses about 100 MB of memory at idle. With the eviction threshold
// a 4 GB Pi 4 offers pods about 3.5Gi, a 512 MB Pi Zero 2 W about 200Mi.
inline constexpr std::string_view kDefaultSystemReserved = "cpu=100m,memory=128Mi";

// Conditions turn True below these, and allocatable leaves them out (kubelet's
// default hard eviction thresholds).
inline constexpr int64_t kMemoryPressureBytes = int64_t{100} << 20;  // memory.available<100Mi
inline constexpr int kDiskPressurePercent = 10;                      // nodefs.available<10%

// Pods per node, as the kubelet's default --max-pods.
inline constexpr int kMaxPods = 110;

// What the agent's flags say about its node.
struct NodeConfig {
  std::string name;                          // from NodeName()
  std::map<std::string, std::string> labels;  // from ParseNodeLabels()
  SystemReserved reserved;                   // from ParseSystemReserved()
  std::string container_runtime_version;     // from ContainerRuntimeVersion()
};

// What the machine says, as read (file contents unparsed) so that tests can feed
// fixtures. Empty strings are facts that could not be read.
struct MachineFacts {
  std::string hostname;
  std::string machine;         // uname -m: x86_64, aarch64, armv7l
  std::string kernel_release;  // uname -r
  std::string os_release;      // /etc/os-release
  std::string meminfo;         // /proc/meminfo
  std::string machine_id;      // /etc/machine-id
  std::string boot_id;         // /proc/sys/kernel/random/boot_id
  int online_cpus = 0;
  // cpu.max of the agent's cgroup and of each ancestor ("max 100000", "150000 100000");
  // cgroup v1 quotas are given in the same form.
  std::vector<std::string> cpu_max;
  uint64_t disk_bytes = 0;       // the filesystem that holds the data dir
  uint64_t disk_free_bytes = 0;  // of it, available to pods (statvfs f_bavail)
  std::string internal_ip;       // see SourceAddressFor(); empty when there is none
};

// The node name: `flag` (--node-name) or else the hostname, lowercased. It must be a
// DNS-1123 subdomain and, being the kubernetes.io/hostname label, at most 63
// characters; InvalidArgument otherwise, saying to set --node-name.
absl::StatusOr<std::string> NodeName(std::string_view flag, std::string_view hostname);

// --node-labels "k=v,k2=v2" (empty: none). Keys and values are validated as label
// keys and values; the labels the agent sets itself (kubernetes.io/hostname, os and
// arch) and duplicate keys are refused.
absl::StatusOr<std::map<std::string, std::string>> ParseNodeLabels(std::string_view text);

// --system-reserved "cpu=100m,memory=128Mi[,ephemeral-storage=1Gi]" (empty: nothing).
absl::StatusOr<SystemReserved> ParseSystemReserved(std::string_view text);

// "runc://1.1.5+ds1" from the output of `runc --version`; "runc://unknown" when it
// names no version.
std::string ContainerRuntimeVersion(std::string_view runc_version_output);

// The kubernetes.io/arch of a uname machine: x86_64 -> amd64, aarch64 -> arm64,
// armv7l/armv6l -> arm; i686 -> 386; anything else as it is (riscv64, s390x).
std::string KubernetesArch(std::string_view uname_machine);

// The Node to report, as of `now`. A condition whose status equals the one in
// `previous` (the Node built last time, or null) keeps its timestamps, so that an
// unchanged machine builds an identical Node and the agent can send node status only
// on change; liveness is the lease's job. Fails (InvalidArgument) when the facts lack
// what every node must report: MemTotal in meminfo, a CPU count.
absl::StatusOr<reef::v1::Node> BuildNode(const NodeConfig& config, const MachineFacts& facts,
                                         absl::Time now,
                                         const reef::v1::Node* previous = nullptr);

// The address the kernel would send from to reach `controller` ("HOST:PORT", a
// bracketed IPv6 host, or a bare host): a UDP socket connected there (which sends
// nothing) and getsockname(). When that is a loopback address (the controller runs
// on this box) or fails, the first non-loopback IPv4 address of an interface that is
// up; NotFound when there is none either.
absl::StatusOr<std::string> SourceAddressFor(std::string_view controller);

// Reads the machine's facts. Fails when the essentials cannot be read (uname,
// /proc/meminfo, statvfs of `data_dir`); the optional ones stay empty.
absl::StatusOr<MachineFacts> ReadMachineFacts(const std::string& data_dir,
                                              std::string_view controller);

}  // namespace reef::agent
