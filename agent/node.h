#pragma once
// Where one agent keeps its things. Every path and name derives from the data dir or
// the node name, so that several agents on one machine (tests, a lab box) never share
// a runc root, a cgroup parent or a mount point.

#include <string>

namespace reef::agent {

struct NodePaths {
  std::string data_dir;
  std::string node_name;

  std::string state_db() const { return data_dir + "/agent.db"; }
  std::string images() const { return data_dir + "/images"; }
  std::string snapshots() const { return data_dir + "/snapshots"; }
  std::string monitors() const { return data_dir + "/monitors"; }
  // Under /run, keyed by the data dir: runc's state (it means nothing after a
  // reboot) and memory_dir().
  std::string volatile_dir() const;
  std::string runc_root() const { return volatile_dir() + "/runc"; }
  // A tmpfs of the agent's (unless /run is one already): what must never reach the
  // flash. The Secrets the controller sent, and the containers' OCI bundles (their env
  // may hold Secrets' values).
  std::string memory_dir() const { return volatile_dir() + "/memory"; }
  std::string secrets_db() const { return memory_dir() + "/secrets.db"; }
  std::string bundles() const { return memory_dir() + "/bundles"; }
  // Pod networking: CNI state on disk, and the prefix of this agent's netns names.
  std::string network_state() const { return data_dir + "/network"; }
  std::string netns_prefix() const;
  // The pod CIDR the controller gave this node, kept for starts without a link.
  std::string pod_cidr_file() const { return data_dir + "/pod-cidr"; }
  std::string cgroup_parent() const { return "/reef/" + node_name; }
};

// The machine's hostname, lowercased: the default node name.
std::string DefaultNodeName();

}  // namespace reef::agent
