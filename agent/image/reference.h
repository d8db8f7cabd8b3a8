#pragma once
// Image references, parsed and normalised as Docker does (distribution/reference):
//   busybox                         -> docker.io/library/busybox:latest
//   ghcr.io/org/app:1.2             -> ghcr.io/org/app:1.2
//   127.0.0.1:5000/ns/app@sha256:.. -> 127.0.0.1:5000/ns/app@sha256:..
//   [::1]:5000/app:1, localhost/app, app:1@sha256:.. (tag and digest: the digest wins)
// The first component is a registry host when it contains '.' or ':', is "localhost",
// or has an uppercase letter; otherwise the image is on Docker Hub.

#include <string>
#include <string_view>

#include "agent/image/digest.h"
#include "common/status.h"

namespace reef::agent::image {

class Reference {
 public:
  // InvalidArgument naming the problem: `invalid reference "Foo": repository name must
  // be lowercase`.
  static absl::StatusOr<Reference> Parse(std::string_view text);

  // "docker.io", "registry.local:5000", "[::1]:5000".
  const std::string& domain() const { return domain_; }
  // The repository path inside the registry: "library/busybox".
  const std::string& path() const { return path_; }
  // Empty when the reference names a digest only.
  const std::string& tag() const { return tag_; }
  // Empty when the reference names a tag only.
  const Digest& digest() const { return digest_; }

  // "docker.io/library/busybox": domain and path.
  std::string Repository() const;
  // The canonical form: "docker.io/library/busybox:latest", "host/a@sha256:...",
  // "host/a:1@sha256:...".
  std::string ToString() const;
  // The host[:port] to contact for this reference's domain: registry-1.docker.io for
  // docker.io, the domain itself otherwise.
  std::string RegistryHost() const;
  // What follows /manifests/ in a request: the digest when there is one, else the tag.
  std::string ManifestReference() const;
  // This repository at `digest` (tag dropped), to fetch a platform's manifest.
  Reference AtDigest(const Digest& digest) const;

  friend bool operator==(const Reference& a, const Reference& b) = default;

 private:
  std::string domain_;
  std::string path_;
  std::string tag_;
  Digest digest_;
};

inline constexpr std::string_view kDockerHubDomain = "docker.io";

}  // namespace reef::agent::image
