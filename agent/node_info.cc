#include "agent/node_info.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/manifest/names.h"
#include "api/manifest/quantity.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/unique_fd.h"
#include "common/version.h"

namespace reef::agent {
namespace {

using manifest::FormatQuantity;
using manifest::QuantityFormat;

constexpr uint64_t kMaxProcFile = 64 * 1024;

constexpr std::string_view kHostnameLabel = "kubernetes.io/hostname";
constexpr std::string_view kOsLabel = "kubernetes.io/os";
constexpr std::string_view kArchLabel = "kubernetes.io/arch";

// "k=v,k2=v2" -> pairs in order. Blanks around items are ignored, and so are empty
// items (a trailing comma).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SplitPairs(
    std::string_view text, std::string_view flag) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (absl::string_view item : absl::StrSplit(ToAbsl(text), ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          reef::StrCat(flag, ": \"", ToStd(item), "\": expected KEY=VALUE"));
    }
    pairs.emplace_back(std::string(absl::StripTrailingAsciiWhitespace(item.substr(0, eq))),
                       std::string(absl::StripLeadingAsciiWhitespace(item.substr(eq + 1))));
  }
  return pairs;
}

// ---- parsing the facts -------------------------------------------------------------

// The value of `key` in /etc/os-release, unquoted ("" when absent).
std::string OsReleaseField(std::string_view os_release, std::string_view key) {
  for (absl::string_view line : absl::StrSplit(ToAbsl(os_release), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, ToAbsl(key)) || !absl::ConsumePrefix(&line, "=")) continue;
    if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') &&
        line.back() == line.front()) {
      line = line.substr(1, line.size() - 2);
    }
    // Shell-style escapes inside double quotes: \" \\ \$ \`.
    std::string value;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      value += line[i];
    }
    return value;
  }
  return "";
}

// A "Name:   123 kB" line of /proc/meminfo, in bytes.
std::optional<int64_t> MeminfoBytes(std::string_view meminfo, std::string_view name) {
  for (absl::string_view line : absl::StrSplit(ToAbsl(meminfo), '\n')) {
    if (!absl::ConsumePrefix(&line, ToAbsl(name)) || !absl::ConsumePrefix(&line, ":")) continue;
    line = absl::StripAsciiWhitespace(line);
    int64_t multiplier = absl::ConsumeSuffix(&line, "kB") ? 1024 : 1;
    int64_t value = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &value)) return std::nullopt;
    return value * multiplier;
  }
  return std::nullopt;
}

// The CPUs the agent may use, in thousandths: the online CPUs, or less when its
// cgroup (or an ancestor) has a quota.
int64_t CpuMilli(int online_cpus, const std::vector<std::string>& cpu_max) {
  int64_t milli = int64_t{online_cpus} * 1000;
  for (const std::string& line : cpu_max) {
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    int64_t quota = 0, period = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &quota) ||
        !absl::SimpleAtoi(parts[1], &period) || quota <= 0 || period <= 0) {
      continue;  // "max": no limit at this level
    }
    milli = std::min(milli, quota * 1000 / period);
  }
  return milli;
}

std::string Bytes(int64_t bytes) {
  return FormatQuantity(std::max<int64_t>(bytes, 0) * 1000, QuantityFormat::kBinarySI);
}

std::string Cpu(int64_t milli) {
  return FormatQuantity(std::max<int64_t>(milli, 0), QuantityFormat::kDecimalSI);
}

// ---- conditions -------------------------------------------------------------------

struct Condition {
  std::string_view type;
  bool status;
  std::string_view reason;
  std::string_view message;
};

void AddCondition(reef::v1::NodeStatus* status, const Condition& c, absl::Time now,
                  const reef::v1::Node* previous) {
  reef::v1::NodeCondition* out = status->add_conditions();
  out->set_type(std::string(c.type));
  out->set_status(c.status ? "True" : "False");
  out->set_reason(std::string(c.reason));
  out->set_message(std::string(c.message));
  if (previous != nullptr) {
    for (const auto& old : previous->status().conditions()) {
      if (old.type() == out->type() && old.status() == out->status()) {
        out->set_last_heartbeat_time(old.last_heartbeat_time());
        out->set_last_transition_time(old.last_transition_time());
        return;
      }
    }
  }
  out->set_last_heartbeat_time(FormatTimestamp(now));
  out->set_last_transition_time(FormatTimestamp(now));
}

// ---- reading the machine -------------------------------------------------------------

std::string ReadOptional(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileLimited(path, kMaxProcFile);
  return text.ok() ? std::string(absl::StripAsciiWhitespace(*text)) : "";
}

// The agent's cgroup path in the hierarchy that holds the cpu controller, and the
// folder of that hierarchy: ("/system.slice/reef-agent.service", "/sys/fs/cgroup") on
// cgroup v2, ("/x", "/sys/fs/cgroup/cpu") on v1.
std::optional<std::pair<std::string, std::string>> CpuCgroup(const std::string& proc_self_cgroup) {
  for (absl::string_view line : absl::StrSplit(proc_self_cgroup, '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    if (f[0] == "0" && f[1].empty() && ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
      return std::make_pair(f[2], std::string("/sys/fs/cgroup"));
    }
    std::vector<absl::string_view> controllers = absl::StrSplit(f[1], ',');
    if (std::find(controllers.begin(), controllers.end(), "cpu") != controllers.end()) {
      return std::make_pair(f[2], std::string("/sys/fs/cgroup/cpu"));
    }
  }
  return std::nullopt;
}

// cpu.max (or the v1 quota and period, in that form) of the agent's cgroup and each
// ancestor. Levels that cannot be read (a cgroup namespace hides the path) are skipped.
std::vector<std::string> ReadCpuMax() {
  std::vector<std::string> out;
  auto cgroup = CpuCgroup(ReadOptional("/proc/self/cgroup"));
  if (!cgroup) return out;
  const auto& [path, root] = *cgroup;
  const bool v2 = root == "/sys/fs/cgroup";
  for (std::string dir = path;; dir = dir.substr(0, dir.rfind('/'))) {
    std::string folder = reef::StrCat(root, dir == "/" ? "" : dir);
    if (v2) {
      std::string max = ReadOptional(reef::StrCat(folder, "/cpu.max"));
      if (!max.empty()) out.push_back(max);
    } else {
      std::string quota = ReadOptional(reef::StrCat(folder, "/cpu.cfs_quota_us"));
      std::string period = ReadOptional(reef::StrCat(folder, "/cpu.cfs_period_us"));
      if (!quota.empty() && !period.empty()) {
        out.push_back(reef::StrCat(quota == "-1" ? "max" : quota, " ", period));
      }
    }
    if (dir.empty() || dir == "/") break;
  }
  return out;
}

bool IsLoopback(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
           (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
  }
  return false;
}

std::optional<std::string> AddressText(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = nullptr;
  if (addr->sa_family == AF_INET) {
    raw = &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr;
  } else {
    raw = &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
  }
  if (inet_ntop(addr->sa_family, raw, text, sizeof text) == nullptr) return std::nullopt;
  return std::string(text);
}

// "[::1]:7443" -> "::1", "pi.lan:7443" -> "pi.lan", "10.0.0.1" -> "10.0.0.1".
std::string HostOf(std::string_view address) {
  if (address.starts_with('[')) {
    size_t close = address.find(']');
    return std::string(address.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  size_t colon = address.find(':');
  if (colon != std::string_view::npos && address.find(':', colon + 1) == std::string_view::npos) {
    return std::string(address.substr(0, colon));  // one colon: HOST:PORT
  }
  return std::string(address);  // a bare host, or a bare IPv6 address
}

// The source address of a UDP socket connected to `host` (connect sends no packet).
absl::StatusOr<std::string> ConnectedSourceAddress(const std::string& host) {
  addrinfo hints = {};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  // Any port does: only routing matters.
  if (int rc = getaddrinfo(host.c_str(), "7443", &hints, &found); rc != 0) {
    return absl::UnavailableError(reef::StrCat("resolve ", host, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, &freeaddrinfo);
  absl::Status last = absl::UnavailableError(reef::StrCat("no route to ", host));
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd || connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last = ErrnoStatus(reef::StrCat("route to ", host), errno);
      continue;
    }
    sockaddr_storage local = {};
    socklen_t len = sizeof local;
    if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) {
      last = ErrnoStatus("getsockname", errno);
      continue;
    }
    const auto* addr = reinterpret_cast<const sockaddr*>(&local);
    if (IsLoopback(addr)) return absl::NotFoundError("the controller is on this box");
    if (auto text = AddressText(addr)) return *text;
  }
  return last;
}

std::optional<std::string> FirstInterfaceIPv4() {
  ifaddrs* found = nullptr;
  if (getifaddrs(&found) != 0) return std::nullopt;
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> list(found, &freeifaddrs);
  for (const ifaddrs* ifa = list.get(); ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr || ifa->ifa_addr->sa_family != AF_INET) continue;
    const bool usable = (ifa->ifa_flags & IFF_UP) && !(ifa->ifa_flags & IFF_LOOPBACK);
    if (!usable || IsLoopback(ifa->ifa_addr)) continue;
    if (auto text = AddressText(ifa->ifa_addr)) return text;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> NodeName(std::string_view flag, std::string_view hostname) {
  std::string name = absl::AsciiStrToLower(ToAbsl(flag.empty() ? hostname : flag));
  absl::Status valid = manifest::ValidateDns1123Subdomain(name);
  if (valid.ok()) valid = manifest::ValidateLabelValue(name);  // it is the hostname label too
  if (valid.ok()) return name;
  return absl::InvalidArgumentError(reef::StrCat(
      "node name ", valid.message(), flag.empty() ? " (it is the hostname; set --node-name)" : ""));
}

absl::StatusOr<std::map<std::string, std::string>> ParseNodeLabels(std::string_view text) {
  constexpr std::string_view kFlag = "--node-labels";
  ASSIGN_OR_RETURN(auto pairs, SplitPairs(text, kFlag));
  std::map<std::string, std::string> labels;
  for (auto& [key, value] : pairs) {
    absl::Status valid = manifest::ValidateLabelKey(key);
    if (valid.ok()) valid = manifest::ValidateLabelValue(value);
    if (!valid.ok()) return absl::InvalidArgumentError(reef::StrCat(kFlag, ": ", valid.message()));
    if (key == kHostnameLabel || key == kOsLabel || key == kArchLabel) {
      return absl::InvalidArgumentError(
          reef::StrCat(kFlag, ": \"", key, "\" is set by the agent itself"));
    }
    if (!labels.emplace(key, value).second) {
      return absl::InvalidArgumentError(reef::StrCat(kFlag, ": \"", key, "\" given twice"));
    }
  }
  return labels;
}

absl::StatusOr<SystemReserved> ParseSystemReserved(std::string_view text) {
  constexpr std::string_view kFlag = "--system-reserved";
  ASSIGN_OR_RETURN(auto pairs, SplitPairs(text, kFlag));
  SystemReserved reserved;
  for (const auto& [name, value] : pairs) {
    absl::StatusOr<manifest::Quantity> q = manifest::Quantity::Parse(value);
    if (!q.ok()) {
      return absl::InvalidArgumentError(
          reef::StrCat(kFlag, ": ", name, ": ", q.status().message()));
    }
    if (q->IsNegative()) {
      return absl::InvalidArgumentError(reef::StrCat(kFlag, ": ", name, ": must not be negative"));
    }
    if (name == "cpu") {
      reserved.cpu_milli = q->MilliValue();
    } else if (name == "memory") {
      reserved.memory_bytes = q->Value();
    } else if (name == "ephemeral-storage") {
      reserved.ephemeral_storage_bytes = q->Value();
    } else {
      return absl::InvalidArgumentError(reef::StrCat(
          kFlag, ": unknown resource \"", name, "\" (cpu, memory or ephemeral-storage)"));
    }
  }
  return reserved;
}

std::string ContainerRuntimeVersion(std::string_view runc_version_output) {
  // "runc version 1.1.5+ds1\ncommit: ...": the first line names the version.
  absl::string_view first = ToAbsl(runc_version_output.substr(0, runc_version_output.find('\n')));
  absl::string_view version = absl::StripAsciiWhitespace(first);
  if (!absl::ConsumePrefix(&version, "runc version ") || version.empty()) version = "unknown";
  return reef::StrCat("runc://", ToStd(absl::StripAsciiWhitespace(version)));
}

std::string KubernetesArch(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return "amd64";
  if (machine == "aarch64" || machine == "arm64" || machine == "aarch64_be") return "arm64";
  if (machine.starts_with("armv") || machine == "arm") return "arm";  // armv6l, armv7l, armv8l
  if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") {
    return "386";
  }
  return std::string(machine);
}

absl::StatusOr<reef::v1::Node> BuildNode(const NodeConfig& config, const MachineFacts& facts,
                                         absl::Time now, const reef::v1::Node* previous) {
  std::optional<int64_t> mem_total = MeminfoBytes(facts.meminfo, "MemTotal");
  if (!mem_total || *mem_total <= 0) {
    return absl::InvalidArgumentError("/proc/meminfo: no MemTotal line");
  }
  if (facts.online_cpus <= 0) return absl::InvalidArgumentError("no online CPUs counted");
  // Kernels before 3.14 have no MemAvailable; free memory is a pessimistic stand-in.
  std::optional<int64_t> mem_available = MeminfoBytes(facts.meminfo, "MemAvailable");
  if (!mem_available) mem_available = MeminfoBytes(facts.meminfo, "MemFree");

  reef::v1::Node node;
  reef::v1::ObjectMeta* meta = node.mutable_metadata();
  meta->set_name(config.name);
  const std::string arch = KubernetesArch(facts.machine);
  auto& labels = *meta->mutable_labels();
  for (const auto& [key, value] : config.labels) labels[key] = value;
  labels[std::string(kHostnameLabel)] = config.name;
  labels[std::string(kOsLabel)] = "linux";
  labels[std::string(kArchLabel)] = arch;

  reef::v1::NodeStatus* status = node.mutable_status();
  const int64_t cpu = CpuMilli(facts.online_cpus, facts.cpu_max);
  const int64_t disk = static_cast<int64_t>(facts.disk_bytes);
  auto& capacity = *status->mutable_capacity();
  capacity["cpu"] = Cpu(cpu);
  capacity["memory"] = Bytes(*mem_total);
  capacity["ephemeral-storage"] = Bytes(disk);
  capacity["pods"] = std::to_string(kMaxPods);
  const SystemReserved& r = config.reserved;
  auto& allocatable = *status->mutable_allocatable();
  allocatable["cpu"] = Cpu(cpu - r.cpu_milli);
  allocatable["memory"] = Bytes(*mem_total - r.memory_bytes - kMemoryPressureBytes);
  allocatable["ephemeral-storage"] =
      Bytes(disk - r.ephemeral_storage_bytes - disk * kDiskPressurePercent / 100);
  allocatable["pods"] = std::to_string(kMaxPods);

  // Kubelet's order: the pressures, then Ready.
  const bool memory_pressure = mem_available.value_or(0) < kMemoryPressureBytes;
  AddCondition(status,
               memory_pressure
                   ? Condition{"MemoryPressure", true, "AgentHasInsufficientMemory",
                               "reef-agent has insufficient memory available"}
                   : Condition{"MemoryPressure", false, "AgentHasSufficientMemory",
                               "reef-agent has sufficient memory available"},
               now, previous);
  const bool disk_pressure =
      facts.disk_free_bytes * 100 < facts.disk_bytes * static_cast<uint64_t>(kDiskPressurePercent);
  AddCondition(status,
               disk_pressure ? Condition{"DiskPressure", true, "AgentHasDiskPressure",
                                         "reef-agent has disk pressure"}
                             : Condition{"DiskPressure", false, "AgentHasNoDiskPressure",
                                         "reef-agent has no disk pressure"},
               now, previous);
  AddCondition(status,
               Condition{"Ready", true, "AgentReady", "reef-agent is posting ready status"}, now,
               previous);

  if (!facts.internal_ip.empty()) {
    reef::v1::NodeAddress* a = status->add_addresses();
    a->set_type("InternalIP");
    a->set_address(facts.internal_ip);
  }
  if (!facts.hostname.empty()) {
    reef::v1::NodeAddress* a = status->add_addresses();
    a->set_type("Hostname");
    a->set_address(facts.hostname);
  }

  reef::v1::NodeSystemInfo* info = status->mutable_node_info();
  info->set_machine_id(facts.machine_id);
  info->set_boot_id(facts.boot_id);
  info->set_kernel_version(facts.kernel_release);
  std::string os_image = OsReleaseField(facts.os_release, "PRETTY_NAME");
  info->set_os_image(os_image.empty() ? "Linux" : os_image);
  info->set_operating_system("linux");
  info->set_architecture(arch);
  info->set_container_runtime_version(config.container_runtime_version);
  info->set_kubelet_version(kVersion);
  return node;
}

absl::StatusOr<std::string> SourceAddressFor(std::string_view controller) {
  absl::StatusOr<std::string> routed = ConnectedSourceAddress(HostOf(controller));
  if (routed.ok()) return routed;
  if (std::optional<std::string> ip = FirstInterfaceIPv4()) return *ip;
  return absl::NotFoundError(reef::StrCat("no address to reach ", controller, " from (",
                                          routed.status().message(),
                                          ") and no non-loopback IPv4 interface"));
}

absl::StatusOr<MachineFacts> ReadMachineFacts(const std::string& data_dir,
                                              std::string_view controller) {
  MachineFacts facts;
  utsname uts = {};
  if (uname(&uts) != 0) return ErrnoStatus("uname", errno);
  facts.hostname = uts.nodename;
  facts.machine = uts.machine;
  facts.kernel_release = uts.release;
  ASSIGN_OR_RETURN(facts.meminfo, ReadFileLimited("/proc/meminfo", kMaxProcFile));
  facts.os_release = ReadOptional("/etc/os-release");
  if (facts.os_release.empty()) facts.os_release = ReadOptional("/usr/lib/os-release");
  facts.machine_id = ReadOptional("/etc/machine-id");
  facts.boot_id = ReadOptional("/proc/sys/kernel/random/boot_id");
  facts.online_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  facts.cpu_max = ReadCpuMax();
  struct statvfs fs = {};
  if (statvfs(data_dir.c_str(), &fs) != 0) {
    return ErrnoStatus(reef::StrCat("statvfs ", data_dir), errno);
  }
  facts.disk_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  facts.disk_free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  absl::StatusOr<std::string> ip = SourceAddressFor(controller);
  if (ip.ok()) facts.internal_ip = *ip;
  return facts;
}

}  // namespace reef::agent
