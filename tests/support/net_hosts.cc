#include "tests/support/net_hosts.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <random>
#include <stdexcept>

#include "tests/support/process.h"

namespace reef::testing {
namespace {

void Must(const std::vector<std::string>& argv) {
  RunResult r = Run(argv);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("net hosts: " + cmd + "failed: " + r.err);
  }
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

NetHosts::NetHosts(int count) : count_(count) {
  if (geteuid() != 0) throw std::runtime_error("multi-host tests need root (network namespaces, bridges)");
  std::random_device rd;
  std::mt19937 rng(rd() ^ static_cast<unsigned>(getpid()));
  std::string in_use = Run({"ip", "-4", "-br", "addr"}).out;
  for (int attempt = 0; attempt < 50 && subnet_.empty(); ++attempt) {
    std::string candidate = "10.99." + std::to_string(100 + rng() % 150);
    if (!Contains(in_use, candidate + ".")) subnet_ = candidate;
  }
  if (subnet_.empty()) throw std::runtime_error("net hosts: no free 10.99.N.0/24 subnet");
  char hex[8];
  snprintf(hex, sizeof hex, "%04x", static_cast<unsigned>(rng() & 0xffff));
  suffix_ = hex;
  bridge_ = "rfbr" + suffix_;
  gateway_ = subnet_ + ".1";
  Must({"ip", "link", "add", bridge_, "type", "bridge"});
  Must({"ip", "addr", "add", gateway_ + "/24", "dev", bridge_});
  Must({"ip", "link", "set", bridge_, "up"});
  for (int i = 0; i < count_; ++i) {
    Must({"ip", "netns", "add", netns(i)});
    Must({"ip", "link", "add", veth(i), "type", "veth", "peer", "name", "eth0", "netns", netns(i)});
    Must({"ip", "link", "set", veth(i), "master", bridge_, "up"});
    Must({"ip", "-n", netns(i), "addr", "add", address(i) + "/24", "dev", "eth0"});
    Must({"ip", "-n", netns(i), "link", "set", "eth0", "up"});
    Must({"ip", "-n", netns(i), "link", "set", "lo", "up"});
  }
}

NetHosts::~NetHosts() {
  for (int i = 0; i < count_; ++i) {
    Run({"ip", "link", "del", veth(i)});
    Run({"ip", "netns", "del", netns(i)});
  }
  Run({"ip", "link", "del", bridge_});
}

std::string NetHosts::address(int i) const { return subnet_ + "." + std::to_string(11 + i); }
std::string NetHosts::netns(int i) const { return "reef-" + suffix_ + "-" + std::to_string(i); }
std::string NetHosts::veth(int i) const { return "rfv" + suffix_ + std::to_string(i); }

std::vector<std::string> NetHosts::Exec(int i) const {
  return {"nsenter", "--net=/var/run/netns/" + netns(i)};
}

void NetHosts::Cut(int i) const { Must({"ip", "link", "set", veth(i), "down"}); }
void NetHosts::Heal(int i) const { Must({"ip", "link", "set", veth(i), "up"}); }

void CleanUpAgent(const std::string& data_dir, const std::string& cgroup_parent) {
  std::error_code ec;
  // The agent's names on the machine derive from a hash of its data dir (agent/node.h):
  // its pods' network namespaces in /run/netns and its tmpfs in /run/reef (memory/).
  const std::string key = std::to_string(std::hash<std::string>{}(data_dir) % 100000000);
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    if (e.path().filename().string().rfind("reef-" + key + "-", 0) != 0) continue;
    Run({"umount", "-l", e.path().string()});
    std::filesystem::remove(e.path(), ec);
  }
  Run({"umount", "-l", "/run/reef/" + key + "/memory"});
  std::filesystem::remove_all("/run/reef/" + key + "/memory", ec);
  for (const auto& e : std::filesystem::directory_iterator("/run/reef", ec)) {
    std::string root = e.path().string() + "/runc";
    RunResult list = Run({"runc", "--root", root, "list", "-q"});
    for (size_t pos = 0; pos < list.out.size();) {
      size_t nl = list.out.find('\n', pos);
      std::string id = list.out.substr(pos, nl - pos);
      pos = nl == std::string::npos ? list.out.size() : nl + 1;
      RunResult state = Run({"runc", "--root", root, "state", id});
      if (Contains(state.out, data_dir)) Run({"runc", "--root", root, "delete", "-f", id});
    }
    // The agent's runc root, once empty (another agent's stays).
    std::filesystem::remove(root, ec);
    std::filesystem::remove(e.path(), ec);
  }
  RunResult mounts = Run({"/bin/sh", "-c", "grep -o ' " + data_dir + "/[^ ]*' /proc/self/mounts"});
  for (size_t pos = 0; pos < mounts.out.size();) {
    size_t nl = mounts.out.find('\n', pos);
    std::string m = mounts.out.substr(pos + 1, nl - pos - 1);
    pos = nl == std::string::npos ? mounts.out.size() : nl + 1;
    Run({"umount", "-l", m});
  }
  // Deepest first: a cgroup folder goes only once it has no children.
  std::string root = "/sys/fs/cgroup" + cgroup_parent;
  if (!cgroup_parent.empty() && std::filesystem::exists(root, ec)) {
    Run({"/bin/sh", "-c", "find '" + root + "' -depth -type d -exec rmdir {} + 2>/dev/null; true"});
  }
}

}  // namespace reef::testing
