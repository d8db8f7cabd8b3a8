#pragma once
// The network configs Reef hands the CNI plugins (spec 1.0.0) and what it reads back
// from their results. Pure functions: no files, no processes.
//
// One sandbox is three plugin calls: loopback (lo up), bridge (a veth on the node's
// bridge, an address from host-local, masquerade for traffic leaving the node) and,
// only when the pod asks for host ports, portmap chained after the bridge.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/network/subnet.h"
#include "common/status.h"

namespace reef::agent::network {

inline constexpr char kCniVersion[] = "1.0.0";

struct PortMapping {
  int host_port = 0;
  int container_port = 0;
  std::string protocol = "tcp";  // "tcp" or "udp"
  std::string host_ip;           // "" = every address of the node
};

// What every config of one agent shares.
struct CniNetwork {
  std::string name;           // the CNI network name; host-local keeps allocations per name
  std::string bridge;         // the Linux bridge, created by the bridge plugin on first use
  Ipv4Subnet subnet;          // the node's pod CIDR
  std::string ipam_data_dir;  // host-local's dataDir
};

// Ports 1..65535, protocol tcp or udp (any case), host_ip empty or an IPv4 address, and
// no host port claimed twice for one protocol and address.
absl::Status ValidatePortMappings(const std::vector<PortMapping>& ports);

nlohmann::json LoopbackConfig(const CniNetwork& network);

// bridge + host-local: isGateway (the bridge holds the gateway address), ipMasq,
// hairpinMode (a pod reaching its own host port gets its packets back through the
// bridge), a default route.
nlohmann::json BridgeConfig(const CniNetwork& network);

// portmap chained after the bridge: runtimeConfig.portMappings as a runtime fills them
// in for the portMappings capability, prevResult = the bridge's result (null when it is
// not known: DEL does not need it). snat stays on: it masquerades connections from
// 127.0.0.1 and from the pod subnet (hairpin) to a host port; the node's own traffic to
// its addresses is DNATed in OUTPUT.
nlohmann::json PortmapConfig(const CniNetwork& network, const std::vector<PortMapping>& ports,
                             const nlohmann::json& prev_result);

// What Reef keeps from the bridge's result.
struct BridgeResult {
  std::string ip;         // the pod's IPv4 address, without prefix length
  std::string host_veth;  // the host end of the veth pair ("" if the result omits it)
};

// Reads a CNI 1.0.0 result: the first IPv4 entry of "ips", and the interface without a
// "sandbox" that is not the bridge.
absl::StatusOr<BridgeResult> ParseBridgeResult(const nlohmann::json& result,
                                               const std::string& bridge);

}  // namespace reef::agent::network
