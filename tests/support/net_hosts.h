#pragma once
// "Hosts" for multi-node tests, as RECIPES.md sets them up: network namespaces on a
// private bridge, each with its own address; the root namespace holds the bridge's
// .1 address, where shared services (the controller) listen. Names and the subnet
// are picked per fixture, so that tests running in parallel do not collide.
// Everything is removed on destruction, also when a test fails.

#include <string>
#include <vector>

namespace reef::testing {

class NetHosts {
 public:
  // Creates `count` hosts. Throws with the failing command's message.
  explicit NetHosts(int count);
  ~NetHosts();
  NetHosts(const NetHosts&) = delete;
  NetHosts& operator=(const NetHosts&) = delete;

  // The bridge's address in the root namespace: 10.99.N.1.
  const std::string& gateway() const { return gateway_; }
  // Host i's address: 10.99.N.(11 + i).
  std::string address(int i) const;
  // The argv prefix that runs a program in host i's network namespace (and nothing
  // else of it: the mounts stay the machine's, as an agent needs).
  std::vector<std::string> Exec(int i) const;
  // Cuts host i off the network (its link goes down), and back.
  void Cut(int i) const;
  void Heal(int i) const;
  // Host i's network namespace, for setns(2).
  std::string netns_path(int i) const { return "/run/netns/" + netns(i); }

 private:
  std::string netns(int i) const;
  std::string veth(int i) const;

  std::string suffix_;  // unique per fixture
  std::string bridge_;
  std::string subnet_;  // "10.99.N"
  std::string gateway_;
  int count_ = 0;
};

// Removes what an agent with `data_dir` left on the machine: its runc containers
// (with their monitors), its overlay mounts and the cgroups under `cgroup_parent`
// ("/reef/<node>"). For test fixtures: containers outlive agents by design.
void CleanUpAgent(const std::string& data_dir, const std::string& cgroup_parent);

}  // namespace reef::testing
