#pragma once
// The platform an image runs on (os/architecture/variant, as OCI spells them) and how
// an index entry is matched against this node's: arm64 takes "v8" or no variant; arm/v7
// takes v7, then v6, then v5 (older ARM code runs on newer cores); amd64 takes no
// variant or "v1" (v2/v3 need CPU features we do not probe).

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace reef::agent::image {

struct Platform {
  std::string os = "linux";
  std::string architecture;
  std::string variant;

  // The platform this binary was built for: linux/amd64, linux/arm64/v8, linux/arm/v7.
  static Platform Host();
  // "linux/arm64/v8", "linux/amd64"; normalised (aarch64 -> arm64, x86_64 -> amd64).
  static absl::StatusOr<Platform> Parse(std::string_view text);
  std::string ToString() const;

  friend bool operator==(const Platform& a, const Platform& b) = default;
};

// Platform names as containerd normalises them: x86_64 -> amd64, aarch64 -> arm64 with
// variant v8, armhf -> arm/v7, armel -> arm/v6, arm without variant -> v7.
Platform Normalize(Platform platform);

// How well an image built for `candidate` suits a node of `want`: nullopt when it cannot
// run there, else a rank where 0 is an exact match and higher is a worse fit.
std::optional<int> MatchRank(const Platform& want, const Platform& candidate);

}  // namespace reef::agent::image
