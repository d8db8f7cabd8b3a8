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
  // runc's state belongs on tmpfs: it means nothing after a reboot.
  std::string runc_root() const;
  std::string cgroup_parent() const { return "/reef/" + node_name; }
};

// The machine's hostname, lowercased: the default node name.
std::string DefaultNodeName();

}  // namespace reef::agent
