#include "agent/runtime/capabilities.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace reef::agent::runtime {
namespace {

// Index = capability number.
const char* const kAllCapabilities[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int kCapabilityCount = sizeof kAllCapabilities / sizeof kAllCapabilities[0];

// containerd's pkg/oci defaultUnixCaps (the same as Docker's default).
const char* const kDefaultCapabilities[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

int Number(std::string_view name) {
  for (int i = 0; i < kCapabilityCount; ++i) {
    if (name == kAllCapabilities[i]) return i;
  }
  return -1;
}

std::vector<std::string> Names(const std::set<int>& numbers) {
  std::vector<std::string> out;
  for (int n : numbers) out.emplace_back(kAllCapabilities[n]);
  return out;
}

// "net_admin" -> "CAP_NET_ADMIN"; "all" -> "ALL".
std::string Normalize(const std::string& name) {
  std::string upper = absl::AsciiStrToUpper(name);
  if (upper == "ALL" || upper.starts_with("CAP_")) return upper;
  return "CAP_" + upper;
}

// The capability numbers of a list, "ALL" aside; sets *all when it is there.
absl::StatusOr<std::set<int>> Parse(const std::vector<std::string>& names, std::string_view field,
                                    bool* all) {
  std::set<int> out;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string name = Normalize(names[i]);
    if (name == "ALL") {
      *all = true;
      continue;
    }
    int n = Number(name);
    if (n < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "securityContext.capabilities.%s[%d]: unknown capability \"%s\"", field, i, names[i]));
    }
    out.insert(n);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& AllCapabilities() {
  static const auto* all =
      new std::vector<std::string>(kAllCapabilities, kAllCapabilities + kCapabilityCount);
  return *all;
}

const std::vector<std::string>& DefaultCapabilities() {
  static const auto* defaults = new std::vector<std::string>(std::begin(kDefaultCapabilities),
                                                             std::end(kDefaultCapabilities));
  return *defaults;
}

absl::StatusOr<std::vector<std::string>> ApplyCapabilityChanges(
    const std::vector<std::string>& add, const std::vector<std::string>& drop) {
  bool add_all = false, drop_all = false;
  ASSIGN_OR_RETURN(std::set<int> added, Parse(add, "add", &add_all));
  ASSIGN_OR_RETURN(std::set<int> dropped, Parse(drop, "drop", &drop_all));

  std::set<int> caps;
  if (add_all) {
    for (int i = 0; i < kCapabilityCount; ++i) caps.insert(i);
  } else if (!drop_all) {
    for (const char* name : kDefaultCapabilities) caps.insert(Number(name));
  }
  if (!add_all) caps.insert(added.begin(), added.end());
  for (int n : dropped) {
    // An explicit addition wins over a drop of the same capability.
    if (add_all || !added.contains(n)) caps.erase(n);
  }
  return Names(caps);
}

}  // namespace reef::agent::runtime
