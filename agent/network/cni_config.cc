#include "agent/network/cni_config.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

namespace reef::agent::network {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

nlohmann::json Base(const CniNetwork& network, std::string_view type) {
  return {{"cniVersion", kCniVersion}, {"name", network.name}, {"type", type}};
}

}  // namespace

absl::Status ValidatePortMappings(const std::vector<PortMapping>& ports) {
  std::set<std::tuple<std::string, std::string, int>> seen;
  for (size_t i = 0; i < ports.size(); ++i) {
    const PortMapping& p = ports[i];
    std::string where = reef::StrCat("port mapping ", i, " (hostPort ", p.host_port, ")");
    if (p.host_port < 1 || p.host_port > 65535) {
      return absl::InvalidArgumentError(reef::StrCat(where, ": hostPort must be 1..65535"));
    }
    if (p.container_port < 1 || p.container_port > 65535) {
      return absl::InvalidArgumentError(
          reef::StrCat(where, ": containerPort ", p.container_port, " must be 1..65535"));
    }
    std::string protocol = Lower(p.protocol);
    if (protocol != "tcp" && protocol != "udp") {
      return absl::InvalidArgumentError(
          reef::StrCat(where, ": protocol \"", p.protocol, "\" is not tcp or udp"));
    }
    if (!p.host_ip.empty()) {
      absl::Status ip = ParseIpv4(p.host_ip).status();
      if (!ip.ok()) return absl::InvalidArgumentError(reef::StrCat(where, ": hostIP: ", ip.message()));
    }
    if (!seen.emplace(protocol, p.host_ip, p.host_port).second) {
      return absl::InvalidArgumentError(reef::StrCat(where, ": ", protocol, " port ", p.host_port,
                                                     " is mapped twice"));
    }
  }
  return absl::OkStatus();
}

nlohmann::json LoopbackConfig(const CniNetwork& network) { return Base(network, "loopback"); }

nlohmann::json BridgeConfig(const CniNetwork& network) {
  nlohmann::json config = Base(network, "bridge");
  config["bridge"] = network.bridge;
  config["isGateway"] = true;
  config["ipMasq"] = true;
  config["hairpinMode"] = true;
  // Built step by step: nested braces in nlohmann's initializer lists are ambiguous
  // between arrays and objects.
  nlohmann::json range = {{"subnet", network.subnet.Cidr()}, {"gateway", network.subnet.Gateway()}};
  nlohmann::json default_route = {{"dst", "0.0.0.0/0"}};
  nlohmann::json ipam;
  ipam["type"] = "host-local";
  ipam["ranges"] = nlohmann::json::array({nlohmann::json::array({range})});
  ipam["routes"] = nlohmann::json::array({default_route});
  ipam["dataDir"] = network.ipam_data_dir;
  config["ipam"] = std::move(ipam);
  return config;
}

nlohmann::json PortmapConfig(const CniNetwork& network, const std::vector<PortMapping>& ports,
                             const nlohmann::json& prev_result) {
  nlohmann::json config = Base(network, "portmap");
  config["capabilities"] = {{"portMappings", true}};
  config["snat"] = true;
  nlohmann::json mappings = nlohmann::json::array();
  for (const PortMapping& p : ports) {
    nlohmann::json m = {{"hostPort", p.host_port},
                        {"containerPort", p.container_port},
                        {"protocol", Lower(p.protocol)}};
    if (!p.host_ip.empty()) m["hostIP"] = p.host_ip;
    mappings.push_back(std::move(m));
  }
  config["runtimeConfig"] = {{"portMappings", std::move(mappings)}};
  if (!prev_result.is_null()) config["prevResult"] = prev_result;
  return config;
}

absl::StatusOr<BridgeResult> ParseBridgeResult(const nlohmann::json& result,
                                               const std::string& bridge) {
  BridgeResult out;
  try {
    for (const nlohmann::json& ip : result.value("ips", nlohmann::json::array())) {
      std::string address = ip.at("address").get<std::string>();
      std::string bare = address.substr(0, address.find('/'));
      if (ParseIpv4(bare).ok()) {
        out.ip = bare;
        break;
      }
    }
    for (const nlohmann::json& iface : result.value("interfaces", nlohmann::json::array())) {
      std::string name = iface.value("name", "");
      if (!iface.contains("sandbox") && name != bridge) out.host_veth = name;
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(reef::StrCat("bridge result: ", e.what()));
  }
  if (out.ip.empty()) {
    return absl::InvalidArgumentError(
        reef::StrCat("bridge result has no IPv4 address: ", result.dump()));
  }
  return out;
}

}  // namespace reef::agent::network
