#pragma once
// The node's pod CIDR, parsed once: host-local allocates from it and the bridge takes
// its first host address as the pods' gateway.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace reef::agent::network {

struct Ipv4Subnet {
  uint32_t network = 0;  // host byte order, host bits cleared
  int prefix_length = 0;

  std::string Cidr() const;     // "10.88.0.0/24"
  std::string Gateway() const;  // "10.88.0.1": the first host address
  bool Contains(uint32_t address) const;
};

// Parses "10.88.0.0/24". The address must be the network itself (no host bits set) and
// leave room for a gateway and at least one pod (prefix length 8..30).
absl::StatusOr<Ipv4Subnet> ParseSubnet(std::string_view cidr);

// Dotted quad <-> host byte order. ParseIpv4 takes exactly four decimal octets.
absl::StatusOr<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t address);

}  // namespace reef::agent::network
