#pragma once
// Pod networking for reef-agent: one network namespace per pod sandbox, wired by the
// standard CNI plugins (containernetworking-plugins): loopback, bridge with host-local
// IPAM, and portmap for hostPorts.
//
// Everything the agent holds is findable from what is on the node, so that a restarted
// agent can finish or undo what a crashed one started:
//   <netns_dir>/<netns_prefix><sandbox id>    the namespace, bind-mounted (ip netns list)
//   <state_dir>/sandboxes/<sandbox id>.json   the configs given to ADD, then its result
//   <state_dir>/ipam/<network name>/<ip>      host-local's allocations
// and the plugins' iptables chains, named after the CNI container id, which is
// <netns_prefix><sandbox id> too.
//
// Thread safety: none. Calls come from one thread at a time (the agent's sync loop).
// Two agents on one machine need distinct state_dirs and netns_prefixes, neither prefix
// a prefix of the other (an agent owns every netns file starting with its prefix): use
// a fixed-length one such as "reef-<8 hex digits>-".

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agent/network/cni_config.h"
#include "common/status.h"

namespace reef::agent::network {

struct SandboxRecord;

struct NetworkOptions {
  std::string cni_bin_dir = "/usr/lib/cni";
  // Holds host-local's dataDir and one record per sandbox (see above). Required.
  std::string state_dir;
  // Named namespaces are bind-mounted here, as `ip netns add` does.
  std::string netns_dir = "/run/netns";
  // Unique per agent on one machine, e.g. "reef-1a2b3c4d-"; [A-Za-z0-9_.-]. Required:
  // an empty one would claim every namespace in netns_dir.
  std::string netns_prefix;
  std::string bridge = "reef0";
  // The node's pod CIDR, e.g. "10.88.0.0/24"; the gateway is its first host address.
  std::string subnet;
  std::string network_name = "reef";
  // Per plugin call; a plugin waiting on the xtables lock may take a while.
  absl::Duration plugin_timeout = absl::Seconds(60);
};

struct Attachment {
  std::string netns_path;  // join it: runc's linux.namespaces {"type":"network","path":...}
  std::string ip;          // the pod IP, without prefix length
};

class PodNetwork {
 public:
  // Checks that the plugins exist (an error naming the missing one and the Debian
  // package containernetworking-plugins), that subnet parses and that the names are
  // usable. Touches nothing on the node.
  static absl::StatusOr<std::unique_ptr<PodNetwork>> Open(NetworkOptions options);

  PodNetwork(const PodNetwork&) = delete;
  PodNetwork& operator=(const PodNetwork&) = delete;
  ~PodNetwork() = default;

  // Creates the sandbox's namespace and wires it: lo up, a veth on the bridge with an
  // address from host-local, and portmap for `ports` (only when there are some).
  // Idempotent: a complete earlier attachment, also one made by a previous agent, is
  // returned as is (its ports are not compared). Leftovers of an incomplete one are
  // torn down first. On failure it undoes what it did and returns an error naming the
  // step and the plugin's message: "set up web-1: bridge ADD: <plugin message>".
  // InvalidArgument for a bad sandbox id or port mapping.
  absl::StatusOr<Attachment> Setup(const std::string& sandbox_id,
                                   const std::vector<PortMapping>& ports);

  // The complete attachment set up earlier (by this or a previous process); NotFound
  // otherwise (never set up, torn down, incomplete, or its namespace is gone).
  absl::StatusOr<Attachment> Get(const std::string& sandbox_id);

  // CNI DEL for portmap and bridge (releases the IP, removes the veth and the iptables
  // rules), then unmounts and removes the namespace and the record. Idempotent, and
  // works for a sandbox whose Setup was interrupted at any point. On failure the record
  // is kept, so that a later call can retry.
  absl::Status Teardown(const std::string& sandbox_id);

  // Every sandbox this agent holds anything of: records, namespace files with our
  // prefix, host-local allocations for our container ids. Sorted.
  absl::StatusOr<std::vector<std::string>> List();

  // Tears down every sandbox not in `keep` (the agent calls this at start, after a
  // crash). Goes on past a failure; returns the first one, with the count of failures.
  absl::Status GarbageCollect(const std::set<std::string>& keep);

  const NetworkOptions& options() const { return options_; }

 private:
  PodNetwork(NetworkOptions options, CniNetwork network);

  std::string NetnsPath(const std::string& sandbox_id) const;
  std::string ContainerId(const std::string& sandbox_id) const;
  absl::Status SetupSteps(const std::string& sandbox_id, const std::vector<PortMapping>& ports,
                          SandboxRecord* record);
  // Sandbox ids owning a host-local allocation of ours.
  std::vector<std::string> IpamOwners() const;

  NetworkOptions options_;
  CniNetwork network_;
  bool netns_dir_ready_ = false;
};

}  // namespace reef::agent::network
