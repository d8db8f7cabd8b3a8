#pragma once
// What pod networking (agent/network) leaves on a node, counted so that a test can
// assert that tearing pods down, or killing an agent and garbage-collecting after it,
// leaves nothing. Counts what is visible from the current network namespace.

#include <string>

namespace reef::testing {

struct NetworkLeftovers {
  int netns_files = 0;       // files in netns_dir whose name starts with the prefix
  int veth_links = 0;        // veth links on `bridge`, or named veth* (CNI's host ends)
  int ipam_allocations = 0;  // host-local address files anywhere under state_dir
  int iptables_rules = 0;    // iptables-save lines of per-sandbox CNI chains or our ids

  int total() const { return netns_files + veth_links + ipam_allocations + iptables_rules; }
  // "netns files 0, veth links 1, IPAM allocations 0, iptables rules 3", then the
  // offending names and lines (for a failure message).
  std::string ToString() const;
  std::string details;
};

// iptables rules count when they name a per-sandbox chain (CNI-<hash>, CNI-DN-<hash>;
// these are hashed, so any sandbox's in this namespace) or mention a container id
// starting with `prefix` in a comment. The chains portmap shares between sandboxes
// (CNI-HOSTPORT-*) and their rules stay after the last sandbox and do not count.
// Throws if `ip` or `iptables-save` cannot be run.
NetworkLeftovers CountNetworkLeftovers(const std::string& netns_dir, const std::string& prefix,
                                       const std::string& state_dir,
                                       const std::string& bridge = "reef0");

// The same, counted from inside the network namespace at `netns_path` (an agent's
// host), by a thread of its own: the caller's namespace does not change.
NetworkLeftovers CountNetworkLeftoversIn(const std::string& netns_path, const std::string& netns_dir,
                                         const std::string& prefix, const std::string& state_dir);

// The netns prefix of the agent with this data dir (agent/node.h: NodePaths).
std::string AgentNetnsPrefix(const std::string& data_dir);

}  // namespace reef::testing
