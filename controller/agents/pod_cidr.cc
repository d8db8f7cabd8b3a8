#include "controller/agents/pod_cidr.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "common/strings.h"

namespace reef::controller {
namespace {

struct Network {
  uint32_t base = 0;  // host order
  int prefix = 0;
};

absl::StatusOr<Network> ParseCidr(const std::string& cidr) {
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(reef::StrCat("cluster CIDR \"", cidr, "\": ", why));
  };
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) return bad("want an IPv4 network like 10.42.0.0/16");
  in_addr addr{};
  if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &addr) != 1) return bad("not an IPv4 address");
  int prefix = 0;
  if (!absl::SimpleAtoi(cidr.substr(slash + 1), &prefix) || prefix < 1 || prefix > 30) {
    return bad("the prefix length must be 1 to 30");
  }
  Network n{ntohl(addr.s_addr), prefix};
  uint32_t host_mask = prefix == 32 ? 0 : (~uint32_t{0} >> prefix);
  if ((n.base & host_mask) != 0) return bad("host bits are set");
  return n;
}

std::string Format(uint32_t base, int prefix) {
  in_addr addr{htonl(base)};
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr, text, sizeof text);
  return reef::StrCat(text, "/", prefix);
}

}  // namespace

absl::Status ValidateClusterCidr(const std::string& cidr) { return ParseCidr(cidr).status(); }

absl::StatusOr<std::string> NextPodCidr(const std::string& cluster_cidr, int mask_size,
                                        const std::set<std::string>& taken) {
  ASSIGN_OR_RETURN(Network cluster, ParseCidr(cluster_cidr));
  if (mask_size < cluster.prefix || mask_size > 30) {
    return absl::InvalidArgumentError(reef::StrCat("node CIDR mask /", mask_size,
                                                   " does not fit in the cluster CIDR ", cluster_cidr));
  }
  const uint64_t blocks = uint64_t{1} << (mask_size - cluster.prefix);
  const uint32_t block_size = uint32_t{1} << (32 - mask_size);
  for (uint64_t i = 0; i < blocks; ++i) {
    std::string candidate = Format(cluster.base + static_cast<uint32_t>(i) * block_size, mask_size);
    if (!taken.count(candidate)) return candidate;
  }
  return absl::ResourceExhaustedError(reef::StrCat("every /", mask_size, " of the cluster CIDR ", cluster_cidr,
                                                   " is taken by a node: no pod CIDR left"));
}

}  // namespace reef::controller
