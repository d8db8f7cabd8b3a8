#include "agent/image/platform.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace reef::agent::image {

Platform Platform::Host() {
#if defined(__x86_64__)
  return Platform{"linux", "amd64", ""};
#elif defined(__aarch64__)
  return Platform{"linux", "arm64", "v8"};
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
  return Platform{"linux", "arm", "v7"};
#elif defined(__arm__)
  return Platform{"linux", "arm", "v6"};
#elif defined(__riscv) && __riscv_xlen == 64
  return Platform{"linux", "riscv64", ""};
#else
#error "unknown platform: add it to Platform::Host()"
#endif
}

absl::StatusOr<Platform> Platform::Parse(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::string_view rest = text;;) {
    const size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
      (parts.size() == 3 && parts[2].empty())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("platform \"%s\": expected OS/ARCH or OS/ARCH/VARIANT", text));
  }
  Platform p;
  p.os = absl::AsciiStrToLower(ToAbsl(parts[0]));
  p.architecture = absl::AsciiStrToLower(ToAbsl(parts[1]));
  if (parts.size() == 3) p.variant = absl::AsciiStrToLower(ToAbsl(parts[2]));
  return Normalize(std::move(p));
}

std::string Platform::ToString() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Platform Normalize(Platform p) {
  if (p.architecture == "x86_64" || p.architecture == "x86-64") {
    p.architecture = "amd64";
    if (p.variant == "v1") p.variant.clear();
  } else if (p.architecture == "amd64") {
    if (p.variant == "v1") p.variant.clear();
  } else if (p.architecture == "aarch64" || p.architecture == "arm64") {
    p.architecture = "arm64";
    if (p.variant.empty() || p.variant == "8") p.variant = "v8";
  } else if (p.architecture == "armhf") {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (p.architecture == "armel") {
    p.architecture = "arm";
    p.variant = "v6";
  } else if (p.architecture == "arm") {
    if (p.variant.empty()) p.variant = "v7";
    if (p.variant.size() == 1) p.variant = "v" + p.variant;  // "7" -> "v7"
  } else if (p.architecture == "i386" || p.architecture == "i686") {
    p.architecture = "386";
  }
  return p;
}

std::optional<int> MatchRank(const Platform& want_raw, const Platform& candidate_raw) {
  const Platform want = Normalize(want_raw);
  const Platform candidate = Normalize(candidate_raw);
  if (want.os != candidate.os || want.architecture != candidate.architecture) return std::nullopt;
  if (want.variant == candidate.variant) return 0;
  if (want.architecture == "arm") {
    // Variants v5..v8: a newer core runs older code.
    auto level = [](const std::string& v) {
      return v.size() == 2 && v[0] == 'v' && v[1] >= '5' && v[1] <= '8' ? v[1] - '0' : -1;
    };
    const int have = level(want.variant), offered = level(candidate.variant);
    if (have > 0 && offered > 0 && offered < have) return have - offered;
  }
  return std::nullopt;
}

}  // namespace reef::agent::image
