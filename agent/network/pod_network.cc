#include "agent/network/pod_network.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "agent/network/cni_plugin.h"
#include "agent/network/netns.h"
#include "agent/network/sandbox_record.h"
#include "common/log.h"

namespace reef::agent::network {
namespace {

namespace fs = std::filesystem;

constexpr char kPodIfname[] = "eth0";
constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxIfnameLength = 15;  // IFNAMSIZ - 1

// Names that end up in file names, CNI container ids (which allow [A-Za-z0-9_.-],
// starting alphanumeric) and iptables comments.
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

bool IsAlnum(char c) { return IsNameChar(c) && c != '-' && c != '_' && c != '.'; }

absl::Status CheckName(std::string_view what, std::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length || !IsAlnum(name.front()) ||
      !std::all_of(name.begin(), name.end(), IsNameChar)) {
    return absl::InvalidArgumentError(
        reef::StrCat(what, " \"", name, "\": want 1 to ", max_length,
                     " characters of [A-Za-z0-9_.-], starting with a letter or digit"));
  }
  return absl::OkStatus();
}

absl::Status CheckSandboxId(const std::string& id) { return CheckName("sandbox id", id, kMaxIdLength); }

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PodNetwork>> PodNetwork::Open(NetworkOptions options) {
  if (options.state_dir.empty()) return absl::InvalidArgumentError("pod network: no state dir");
  RETURN_IF_ERROR(CheckName("netns prefix", options.netns_prefix, 32));
  RETURN_IF_ERROR(CheckName("bridge name", options.bridge, kMaxIfnameLength));
  RETURN_IF_ERROR(CheckName("network name", options.network_name, kMaxIdLength));
  ASSIGN_OR_RETURN(Ipv4Subnet subnet, ParseSubnet(options.subnet));
  RETURN_IF_ERROR(CheckPlugins(options.cni_bin_dir, {"loopback", "bridge", "host-local", "portmap"}));
  CniNetwork network{options.network_name, options.bridge, subnet, options.state_dir + "/ipam"};
  return std::unique_ptr<PodNetwork>(new PodNetwork(std::move(options), std::move(network)));
}

PodNetwork::PodNetwork(NetworkOptions options, CniNetwork network)
    : options_(std::move(options)), network_(std::move(network)) {}

std::string PodNetwork::NetnsPath(const std::string& sandbox_id) const {
  return reef::StrCat(options_.netns_dir, "/", options_.netns_prefix, sandbox_id);
}

// The prefix makes the id unique per agent, and the plugins name their iptables chains
// after it: two agents on one machine must not share chains.
std::string PodNetwork::ContainerId(const std::string& sandbox_id) const {
  return options_.netns_prefix + sandbox_id;
}

absl::StatusOr<Attachment> PodNetwork::Get(const std::string& sandbox_id) {
  RETURN_IF_ERROR(CheckSandboxId(sandbox_id));
  SandboxRecords records(options_.state_dir);
  absl::StatusOr<SandboxRecord> record = records.Read(sandbox_id);
  if (!record.ok()) return record.status();
  if (!record->complete) {
    return absl::NotFoundError(reef::StrCat("sandbox ", sandbox_id, ": network setup did not finish"));
  }
  if (!IsNetnsMount(record->netns_path)) {
    return absl::NotFoundError(
        reef::StrCat("sandbox ", sandbox_id, ": network namespace ", record->netns_path, " is gone"));
  }
  return Attachment{record->netns_path, record->ip};
}

absl::StatusOr<Attachment> PodNetwork::Setup(const std::string& sandbox_id,
                                             const std::vector<PortMapping>& ports) {
  RETURN_IF_ERROR(CheckSandboxId(sandbox_id));
  RETURN_IF_ERROR(Annotate(ValidatePortMappings(ports), reef::StrCat("set up ", sandbox_id)));
  absl::StatusOr<Attachment> existing = Get(sandbox_id);
  if (existing.ok()) return existing;

  // Whatever an interrupted attempt left (a record, a namespace, an address) goes first,
  // so that the new attempt starts from nothing.
  SandboxRecords records(options_.state_dir);
  RETURN_IF_ERROR(Annotate(Teardown(sandbox_id),
                           reef::StrCat("set up ", sandbox_id, ": undo an earlier attempt")));

  if (!netns_dir_ready_) {
    RETURN_IF_ERROR(Annotate(MakeSharedMountDir(options_.netns_dir), "pod network"));
    netns_dir_ready_ = true;
  }
  SandboxRecord record;
  record.sandbox_id = sandbox_id;
  record.container_id = ContainerId(sandbox_id);
  record.netns_path = NetnsPath(sandbox_id);
  record.loopback_config = LoopbackConfig(network_);
  record.bridge_config = BridgeConfig(network_);
  if (!ports.empty()) record.portmap_config = PortmapConfig(network_, ports, nullptr);
  absl::Status status = records.Write(record);
  if (status.ok()) status = SetupSteps(sandbox_id, ports, &record);
  if (!status.ok()) {
    absl::Status undo = Teardown(sandbox_id);
    if (!undo.ok()) REEF_LOG(Warning) << "pod network: undo failed set up: " << undo.message();
    return Annotate(status, reef::StrCat("set up ", sandbox_id));
  }
  return Attachment{record.netns_path, record.ip};
}

absl::Status PodNetwork::SetupSteps(const std::string& sandbox_id,
                                    const std::vector<PortMapping>& ports, SandboxRecord* record) {
  SandboxRecords records(options_.state_dir);
  const std::string& bin = options_.cni_bin_dir;
  const absl::Duration timeout = options_.plugin_timeout;
  absl::Time start = absl::Now();
  RETURN_IF_ERROR(Annotate(CreateNetns(record->netns_path), "create network namespace"));
  RETURN_IF_ERROR(RunCniPlugin(bin, {"ADD", record->container_id, record->netns_path, "lo"},
                               record->loopback_config, timeout)
                      .status());
  ASSIGN_OR_RETURN(nlohmann::json result,
                   RunCniPlugin(bin, {"ADD", record->container_id, record->netns_path, kPodIfname},
                                record->bridge_config, timeout));
  ASSIGN_OR_RETURN(BridgeResult bridge, ParseBridgeResult(result, options_.bridge));
  if (!ports.empty()) {
    // Recorded as given to ADD, prevResult included, before portmap runs.
    record->portmap_config = PortmapConfig(network_, ports, result);
    RETURN_IF_ERROR(records.Write(*record));
    RETURN_IF_ERROR(RunCniPlugin(bin, {"ADD", record->container_id, record->netns_path, kPodIfname},
                                 record->portmap_config, timeout)
                        .status());
  }
  record->complete = true;
  record->result = std::move(result);
  record->ip = bridge.ip;
  record->host_veth = bridge.host_veth;
  RETURN_IF_ERROR(records.Write(*record));
  REEF_LOG(Info) << "pod network: " << sandbox_id << " has " << bridge.ip << " ("
                 << ports.size() << " host ports) in " << absl::FormatDuration(absl::Now() - start);
  return absl::OkStatus();
}

absl::Status PodNetwork::Teardown(const std::string& sandbox_id) {
  RETURN_IF_ERROR(CheckSandboxId(sandbox_id));
  SandboxRecords records(options_.state_dir);
  std::string what = reef::StrCat("tear down ", sandbox_id);
  absl::StatusOr<SandboxRecord> found = records.Read(sandbox_id);
  SandboxRecord record;
  if (found.ok()) {
    record = *std::move(found);
  } else {
    if (absl::IsNotFound(found.status())) {
      std::vector<std::string> owners = IpamOwners();
      bool owns_ip = std::find(owners.begin(), owners.end(), sandbox_id) != owners.end();
      std::error_code ec;
      if (!owns_ip && !fs::exists(NetnsPath(sandbox_id), ec)) return absl::OkStatus();
    } else {
      REEF_LOG(Warning) << "pod network: " << found.status().message()
                        << "; tearing down with the current configs";
    }
    // No usable record (it was lost, or never written by an older agent): the current
    // configs name the same chains and the same IPAM store. portmap removes nothing
    // when given no mapping, but the chain it removes is named after the network and
    // the container id only, so any mapping will do.
    record.sandbox_id = sandbox_id;
    record.container_id = ContainerId(sandbox_id);
    record.netns_path = NetnsPath(sandbox_id);
    record.bridge_config = BridgeConfig(network_);
    record.portmap_config = PortmapConfig(network_, {{1, 1, "tcp", ""}}, nullptr);
  }

  const std::string& bin = options_.cni_bin_dir;
  const absl::Duration timeout = options_.plugin_timeout;
  absl::Time start = absl::Now();
  // A namespace file that is not mounted (a crash between creating and mounting it) is
  // not passed: the bridge plugin would fail on it instead of skipping the veth.
  std::string netns = IsNetnsMount(record.netns_path) ? record.netns_path : "";
  if (!record.portmap_config.is_null()) {
    RETURN_IF_ERROR(Annotate(RunCniPlugin(bin, {"DEL", record.container_id, netns, kPodIfname},
                                          record.portmap_config, timeout)
                                 .status(),
                             what));
  }
  // While the namespace still exists: the bridge plugin finds the addresses whose
  // masquerade rules it removes on the veth inside it. No loopback DEL: lo goes with the
  // namespace.
  RETURN_IF_ERROR(Annotate(RunCniPlugin(bin, {"DEL", record.container_id, netns, kPodIfname},
                                        record.bridge_config, timeout)
                               .status(),
                           what));
  RETURN_IF_ERROR(Annotate(RemoveNetns(record.netns_path), what));
  if (record.netns_path != NetnsPath(sandbox_id)) {
    RETURN_IF_ERROR(Annotate(RemoveNetns(NetnsPath(sandbox_id)), what));
  }
  RETURN_IF_ERROR(Annotate(records.Remove(sandbox_id), what));
  REEF_LOG(Info) << "pod network: " << sandbox_id << " torn down in "
                 << absl::FormatDuration(absl::Now() - start);
  return absl::OkStatus();
}

std::vector<std::string> PodNetwork::IpamOwners() const {
  std::vector<std::string> owners;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(network_.ipam_data_dir + "/" + network_.name, ec)) {
    // host-local keeps one file per address, named after it, holding the container id
    // (then the interface name); beside them a lock and last_reserved_ip.N.
    if (!ParseIpv4(entry.path().filename().string()).ok()) continue;
    std::string owner = FirstLine(entry.path().string());
    if (owner.starts_with(options_.netns_prefix)) {
      owners.push_back(owner.substr(options_.netns_prefix.size()));
    }
  }
  return owners;
}

absl::StatusOr<std::vector<std::string>> PodNetwork::List() {
  std::set<std::string> ids;
  for (std::string& id : SandboxRecords(options_.state_dir).Ids()) ids.insert(std::move(id));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.netns_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(options_.netns_prefix)) ids.insert(name.substr(options_.netns_prefix.size()));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::InternalError(reef::StrCat("list ", options_.netns_dir, ": ", ec.message()));
  }
  for (std::string& id : IpamOwners()) ids.insert(std::move(id));
  std::vector<std::string> out;
  for (const std::string& id : ids) {
    // Anything that could not be ours (a stray file) is left alone.
    if (CheckSandboxId(id).ok()) out.push_back(id);
  }
  return out;
}

absl::Status PodNetwork::GarbageCollect(const std::set<std::string>& keep) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, List());
  absl::Status first;
  int failures = 0;
  for (const std::string& id : ids) {
    if (keep.contains(id)) continue;
    absl::Status status = Teardown(id);
    if (!status.ok()) {
      REEF_LOG(Warning) << "pod network: " << status.message();
      if (failures++ == 0) first = status;
    }
  }
  if (failures > 1) {
    return Annotate(first, reef::StrCat("garbage collection (", failures, " sandboxes failed)"));
  }
  return first;
}

}  // namespace reef::agent::network
