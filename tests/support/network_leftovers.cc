#include "tests/support/network_leftovers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/process.h"

namespace reef::testing {
namespace {

namespace fs = std::filesystem;

bool IsAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

std::string NetworkLeftovers::ToString() const {
  std::ostringstream out;
  out << "netns files " << netns_files << ", veth links " << veth_links << ", IPAM allocations "
      << ipam_allocations << ", iptables rules " << iptables_rules;
  if (!details.empty()) out << "\n" << details;
  return out.str();
}

NetworkLeftovers CountNetworkLeftovers(const std::string& netns_dir, const std::string& prefix,
                                       const std::string& state_dir, const std::string& bridge) {
  NetworkLeftovers n;
  std::ostringstream details;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(netns_dir, ec)) {
    std::string name = e.path().filename().string();
    if (!prefix.empty() && name.starts_with(prefix)) {
      ++n.netns_files;
      details << "netns file " << e.path().string() << "\n";
    }
  }
  if (!state_dir.empty() && fs::exists(state_dir, ec)) {
    for (const auto& e : fs::recursive_directory_iterator(state_dir, ec)) {
      if (e.is_regular_file(ec) && IsAddress(e.path().filename().string())) {
        ++n.ipam_allocations;
        details << "IPAM allocation " << e.path().string() << "\n";
      }
    }
  }

  RunResult links = Run({"ip", "-o", "link", "show", "type", "veth"});
  if (links.exit_code != 0) throw std::runtime_error("ip link show: " + links.err);
  for (const std::string& line : Lines(links.out)) {
    // "7: veth1234abcd@if2: <...> mtu 1500 master reef0 state UP ..."
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string name = line.substr(colon + 2, line.find_first_of("@:", colon + 2) - colon - 2);
    if (name.starts_with("veth") || line.find(" master " + bridge + " ") != std::string::npos) {
      ++n.veth_links;
      details << "veth link " << name << "\n";
    }
  }

  RunResult rules = Run({"iptables-save"});
  if (rules.exit_code != 0) throw std::runtime_error("iptables-save: " + rules.err);
  // The bridge plugin's masquerade chain is CNI-<24 hex>, portmap's DNAT chain
  // CNI-DN-<21 hex>; both hash the network name and the container id.
  static const std::regex kSandboxChain("CNI-(DN-)?[0-9a-f]{16,}");
  std::string our_id = "id: \\\"" + prefix;
  for (const std::string& line : Lines(rules.out)) {
    if (std::regex_search(line, kSandboxChain) ||
        (!prefix.empty() && line.find(our_id) != std::string::npos)) {
      ++n.iptables_rules;
      details << "iptables " << line << "\n";
    }
  }
  n.details = details.str();
  return n;
}

NetworkLeftovers CountNetworkLeftoversIn(const std::string& netns_path, const std::string& netns_dir,
                                         const std::string& prefix, const std::string& state_dir) {
  NetworkLeftovers counted;
  std::exception_ptr failed;
  std::thread in_host([&] {
    try {
      int fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("cannot enter " + netns_path);
      close(fd);
      counted = CountNetworkLeftovers(netns_dir, prefix, state_dir);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  in_host.join();
  if (failed) std::rethrow_exception(failed);
  return counted;
}

std::string AgentNetnsPrefix(const std::string& data_dir) {
  return "reef-" + std::to_string(std::hash<std::string>{}(data_dir) % 100000000) + "-";
}

}  // namespace reef::testing
