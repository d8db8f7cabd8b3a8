#include "agent/runtime/oci_spec.h"

#include <sys/resource.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "agent/runtime/capabilities.h"
#include "agent/runtime/env.h"
#include "api/manifest/quantity.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

using nlohmann::json;
using reef::v1::Container;
using reef::v1::Pod;

constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kMaxHostname = 63;
// The kubelet's bounds for cpu.shares and the smallest quota the kernel takes (1 ms).
constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262144;
constexpr int64_t kMinQuotaUs = 1000;

// containerd's pkg/oci defaults.
const char* const kMaskedPaths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
const char* const kReadonlyPaths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

json MountEntry(std::string_view destination, std::string_view type, std::string_view source,
                std::vector<std::string> options) {
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

std::vector<json> DefaultMounts(bool privileged) {
  std::string ro = privileged ? "rw" : "ro";
  return {
      MountEntry("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MountEntry("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      MountEntry("/dev/pts", "devpts", "devpts",
                 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      MountEntry("/dev/shm", "tmpfs", "shm",
                 {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      MountEntry("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      MountEntry("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", ro}),
      MountEntry("/sys/fs/cgroup", "cgroup", "cgroup",
                 {"nosuid", "noexec", "nodev", "relatime", ro}),
  };
}

bool IsCleanAbsolute(std::string_view path) {
  if (!path.starts_with('/')) return false;
  for (size_t pos = 0; pos != std::string_view::npos;) {
    size_t next = path.find('/', pos + 1);
    std::string_view part =
        path.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    if (part == "..") return false;
    pos = next;
  }
  return true;
}

size_t Depth(std::string_view path) { return std::count(path.begin(), path.end(), '/'); }

absl::StatusOr<std::vector<json>> Mounts(const SpecOptions& options, bool privileged) {
  std::vector<BindMount> binds = options.mounts;
  for (size_t i = 0; i < binds.size(); ++i) {
    if (!IsCleanAbsolute(binds[i].destination) || !IsCleanAbsolute(binds[i].source)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("mount %s -> %s: source and destination must be absolute, without ..",
                          binds[i].source, binds[i].destination));
    }
  }
  // A folder must be mounted before what is mounted inside it.
  std::stable_sort(binds.begin(), binds.end(), [](const BindMount& a, const BindMount& b) {
    return Depth(a.destination) < Depth(b.destination);
  });
  std::vector<json> out;
  for (json& m : DefaultMounts(privileged)) {
    bool replaced = std::any_of(binds.begin(), binds.end(), [&](const BindMount& b) {
      return b.destination == m["destination"].get<std::string>();
    });
    if (!replaced) out.push_back(std::move(m));
  }
  for (const BindMount& b : binds) {
    std::vector<std::string> opts = {"rbind", "rprivate"};
    if (b.read_only) opts.push_back("ro");
    out.push_back(MountEntry(b.destination, "bind", b.source, opts));
  }
  return out;
}

// The variables the container itself defines: envFrom, then env with $(VAR) expanded
// from those before it, as the kubelet builds them.
absl::StatusOr<EnvList> ContainerEnv(const Container& c, const SpecOptions& options) {
  EnvList env;
  for (const auto& [name, value] : options.env_from) env.Set(name, value);
  for (int i = 0; i < c.env_size(); ++i) {
    const reef::v1::EnvVar& var = c.env(i);
    if (var.name().empty() || var.name().find('=') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrFormat("env[%d]: bad name \"%s\"", i, var.name()));
    }
    if (!var.has_value_from()) {
      env.Set(var.name(), ExpandVars(var.value(), env));
      continue;
    }
    auto it = options.value_from.find(var.name());
    if (it != options.value_from.end()) {
      env.Set(var.name(), it->second);
      continue;
    }
    const reef::v1::EnvVarSource& from = var.value_from();
    bool optional = (from.has_config_map_key_ref() && from.config_map_key_ref().optional()) ||
                    (from.has_secret_key_ref() && from.secret_key_ref().optional());
    if (!optional) {
      return absl::InvalidArgumentError(
          absl::StrFormat("env[%d] (%s): valueFrom has no value", i, var.name()));
    }
  }
  return env;
}

std::vector<std::string> Expand(const google::protobuf::RepeatedPtrField<std::string>& in,
                                const EnvList& env) {
  std::vector<std::string> out;
  for (const std::string& s : in) out.push_back(ExpandVars(s, env));
  return out;
}

absl::StatusOr<std::vector<std::string>> ProcessArgs(const Container& c, const ImageConfig& image,
                                                     const EnvList& env) {
  std::vector<std::string> args;
  if (c.command_size() > 0) {
    args = Expand(c.command(), env);  // the image's Cmd goes too
    for (std::string& a : Expand(c.args(), env)) args.push_back(std::move(a));
  } else {
    args = image.entrypoint;
    if (c.args_size() > 0) {
      for (std::string& a : Expand(c.args(), env)) args.push_back(std::move(a));
    } else {
      args.insert(args.end(), image.cmd.begin(), image.cmd.end());
    }
  }
  if (args.empty()) {
    return absl::InvalidArgumentError(
        "no command: the container sets neither command nor args and the image has no "
        "Entrypoint or Cmd");
  }
  return args;
}

absl::StatusOr<ProcessUser> User(const Container& c, const SpecOptions& options) {
  const reef::v1::SecurityContext& sc = c.security_context();
  ProcessUser user;
  if (sc.has_run_as_user()) {
    if (sc.run_as_user() < 0 || sc.run_as_user() > 0xfffffffe) {
      return absl::InvalidArgumentError(
          absl::StrFormat("securityContext.runAsUser: %d is not a uid", sc.run_as_user()));
    }
    user = UserForUid(static_cast<uint32_t>(sc.run_as_user()), options.users);
  } else {
    absl::StatusOr<ProcessUser> resolved = ResolveUser(options.image.user, options.users);
    if (!resolved.ok()) return Annotate(resolved.status(), "image User");
    user = *resolved;
  }
  if (sc.has_run_as_group()) {
    if (sc.run_as_group() < 0 || sc.run_as_group() > 0xfffffffe) {
      return absl::InvalidArgumentError(
          absl::StrFormat("securityContext.runAsGroup: %d is not a gid", sc.run_as_group()));
    }
    user.gid = static_cast<uint32_t>(sc.run_as_group());
  }
  if (sc.run_as_non_root() && user.uid == 0) {
    return absl::FailedPreconditionError(
        "securityContext.runAsNonRoot: the container would run as root (uid 0)");
  }
  return user;
}

// The value of resources.<section>.<name>, if set.
absl::StatusOr<std::optional<manifest::Quantity>> ResourceValue(
    const google::protobuf::Map<std::string, std::string>& section, std::string_view section_name,
    const std::string& name) {
  auto it = section.find(name);
  if (it == section.end()) return std::nullopt;
  absl::StatusOr<manifest::Quantity> q = manifest::Quantity::Parse(it->second);
  std::string field = reef::StrCat("resources.", section_name, ".", name);
  if (!q.ok()) return Annotate(q.status(), field);
  if (q->IsNegative()) {
    return absl::InvalidArgumentError(reef::StrCat(field, ": must not be negative"));
  }
  return *q;
}

absl::StatusOr<json> Resources(const Container& c, const SpecOptions& options, bool privileged) {
  const reef::v1::ResourceRequirements& r = c.resources();
  ASSIGN_OR_RETURN(auto memory, ResourceValue(r.limits(), "limits", "memory"));
  ASSIGN_OR_RETURN(auto cpu_limit, ResourceValue(r.limits(), "limits", "cpu"));
  ASSIGN_OR_RETURN(auto cpu_request, ResourceValue(r.requests(), "requests", "cpu"));
  // As Kubernetes defaults it: a limit without a request requests the limit.
  if (!cpu_request) cpu_request = cpu_limit;

  json res = {{"devices", json::array({{{"allow", privileged}, {"access", "rwm"}}})}};
  if (memory && !memory->IsZero()) res["memory"] = {{"limit", memory->Value()}};
  int64_t request_milli = cpu_request ? cpu_request->MilliValue() : 0;
  json cpu = {{"shares", std::clamp(request_milli * 1024 / 1000, kMinShares, kMaxShares)}};
  if (cpu_limit && !cpu_limit->IsZero()) {
    cpu["quota"] = std::max(cpu_limit->MilliValue() * kCpuPeriodUs / 1000, kMinQuotaUs);
    cpu["period"] = kCpuPeriodUs;
  }
  res["cpu"] = cpu;
  if (options.pids_limit > 0) res["pids"] = {{"limit", options.pids_limit}};
  return res;
}

// The kubelet's rule: a pod's hostname is its name, cut to 63 characters without a
// trailing '-' or '.'.
std::string PodHostname(std::string_view name) {
  std::string out(name.substr(0, kMaxHostname));
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  return out;
}

// The process section: argv, env, cwd, user, capabilities, rlimits.
absl::StatusOr<json> Process(const Container& c, const SpecOptions& options,
                             const std::string& hostname) {
  const reef::v1::SecurityContext& sc = c.security_context();
  const bool privileged = sc.privileged();
  ASSIGN_OR_RETURN(EnvList container_env, ContainerEnv(c, options));
  ASSIGN_OR_RETURN(std::vector<std::string> args, ProcessArgs(c, options.image, container_env));
  EnvList env;
  env.Set("PATH", kDefaultPath);
  if (!hostname.empty()) env.Set("HOSTNAME", hostname);
  for (const std::string& e : options.image.env) env.SetEntry(e);
  for (const std::string& e : container_env.Entries()) env.SetEntry(e);

  std::string cwd = !c.working_dir().empty()             ? c.working_dir()
                    : !options.image.working_dir.empty() ? options.image.working_dir
                                                         : "/";
  if (!IsCleanAbsolute(cwd)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("workingDir \"%s\": must be an absolute path", cwd));
  }
  ASSIGN_OR_RETURN(ProcessUser user, User(c, options));

  std::vector<std::string> caps;
  if (privileged) {
    caps = AllCapabilities();
  } else {
    std::vector<std::string> add(sc.capabilities().add().begin(), sc.capabilities().add().end());
    std::vector<std::string> drop(sc.capabilities().drop().begin(), sc.capabilities().drop().end());
    ASSIGN_OR_RETURN(caps, ApplyCapabilityChanges(add, drop));
  }
  const bool escalation =
      privileged || (sc.has_allow_privilege_escalation() && sc.allow_privilege_escalation());

  json process = {
      {"terminal", false},
      {"user", {{"uid", user.uid}, {"gid", user.gid}}},
      {"args", args},
      {"env", env.Entries()},
      {"cwd", cwd},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"noNewPrivileges", !escalation},
  };
  if (!user.additional_gids.empty()) process["user"]["additionalGids"] = user.additional_gids;
  if (options.nofile > 0) {
    process["rlimits"] = json::array(
        {{{"type", "RLIMIT_NOFILE"}, {"hard", options.nofile}, {"soft", options.nofile}}});
  }
  return process;
}

absl::StatusOr<json> Build(const Pod& pod, const Container& c, const SpecOptions& options) {
  if (options.cgroups_path.empty() || !options.cgroups_path.starts_with('/')) {
    return absl::InvalidArgumentError("cgroups_path: an absolute cgroup path is required");
  }
  if (options.rootfs.empty()) return absl::InvalidArgumentError("rootfs: no path given");
  const reef::v1::SecurityContext& sc = c.security_context();
  const bool privileged = sc.privileged();
  if (privileged && sc.has_allow_privilege_escalation() && !sc.allow_privilege_escalation()) {
    return absl::InvalidArgumentError(
        "securityContext: allowPrivilegeEscalation cannot be false when privileged is true");
  }
  const bool host_network = pod.spec().host_network();
  const std::string hostname = !options.hostname.empty() ? options.hostname
                               : host_network            ? ""
                                                         : PodHostname(pod.metadata().name());

  ASSIGN_OR_RETURN(json process, Process(c, options, hostname));

  json namespaces = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "mount"}}});
  if (!host_network) {
    namespaces.push_back({{"type", "uts"}});
    json net = {{"type", "network"}};
    if (!options.netns_path.empty()) net["path"] = options.netns_path;
    namespaces.push_back(net);
  }

  ASSIGN_OR_RETURN(std::vector<json> mounts, Mounts(options, privileged));
  ASSIGN_OR_RETURN(json resources, Resources(c, options, privileged));
  json linux_section = {
      {"cgroupsPath", options.cgroups_path},
      {"namespaces", namespaces},
      {"resources", resources},
  };
  if (!privileged) {
    linux_section["maskedPaths"] =
        std::vector<std::string>(std::begin(kMaskedPaths), std::end(kMaskedPaths));
    linux_section["readonlyPaths"] =
        std::vector<std::string>(std::begin(kReadonlyPaths), std::end(kReadonlyPaths));
  }

  std::map<std::string, std::string> annotations = options.annotations;
  annotations["io.kubernetes.pod.name"] = pod.metadata().name();
  annotations["io.kubernetes.pod.namespace"] =
      pod.metadata().namespace_().empty() ? "default" : pod.metadata().namespace_();
  annotations["io.kubernetes.pod.uid"] = pod.metadata().uid();
  annotations["io.kubernetes.container.name"] = c.name();

  json spec = {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", options.rootfs}, {"readonly", sc.read_only_root_filesystem()}}},
      {"mounts", mounts},
      {"linux", linux_section},
      {"annotations", annotations},
  };
  if (!host_network) spec["hostname"] = hostname;
  return spec;
}

}  // namespace

absl::StatusOr<nlohmann::json> BuildSpec(const Pod& pod, const Container& container,
                                         const SpecOptions& options) {
  absl::StatusOr<json> spec = Build(pod, container, options);
  if (!spec.ok()) return Annotate(spec.status(), reef::StrCat("container ", container.name()));
  return spec;
}

uint64_t DefaultNofile() {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max == RLIM_INFINITY) return kMaxNofile;
  return std::min<uint64_t>(limit.rlim_max, kMaxNofile);
}

absl::Status WriteSpec(const std::string& bundle, const nlohmann::json& spec) {
  return WriteFileAtomic(bundle + "/config.json",
                         spec.dump(2, ' ', false, json::error_handler_t::replace), 0644);
}

}  // namespace reef::agent::runtime
