#include "agent/network/subnet.h"

#include <arpa/inet.h>

#include <charconv>

namespace reef::agent::network {
namespace {

uint32_t Mask(int prefix_length) {
  return prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
}

}  // namespace

absl::StatusOr<uint32_t> ParseIpv4(std::string_view text) {
  // inet_pton alone accepts nothing odd for AF_INET (no octal, no short forms), but it
  // needs a terminated string.
  in_addr addr{};
  if (text.size() > 15 || ::inet_pton(AF_INET, std::string(text).c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(reef::StrCat("\"", text, "\" is not an IPv4 address"));
  }
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t address) {
  return reef::StrCat(address >> 24, ".", (address >> 16) & 0xff, ".", (address >> 8) & 0xff, ".",
                      address & 0xff);
}

absl::StatusOr<Ipv4Subnet> ParseSubnet(std::string_view cidr) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(reef::StrCat("pod subnet \"", cidr, "\": ", why));
  };
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return bad("want ADDRESS/PREFIX, e.g. 10.88.0.0/24");
  absl::StatusOr<uint32_t> address = ParseIpv4(cidr.substr(0, slash));
  if (!address.ok()) return bad(ToStd(address.status().message()));
  std::string_view length_text = cidr.substr(slash + 1);
  int length = -1;
  auto [end, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (ec != std::errc() || end != length_text.data() + length_text.size() || length_text.empty()) {
    return bad("the prefix length is not a number");
  }
  if (length < 8 || length > 30) return bad("the prefix length must be between 8 and 30");
  Ipv4Subnet subnet{*address, length};
  if ((*address & ~Mask(length)) != 0) {
    return bad(reef::StrCat("host bits are set (did you mean ",
                            FormatIpv4(*address & Mask(length)), "/", length, "?)"));
  }
  return subnet;
}

std::string Ipv4Subnet::Cidr() const { return reef::StrCat(FormatIpv4(network), "/", prefix_length); }
std::string Ipv4Subnet::Gateway() const { return FormatIpv4(network + 1); }
bool Ipv4Subnet::Contains(uint32_t address) const {
  return (address & Mask(prefix_length)) == network;
}

}  // namespace reef::agent::network
