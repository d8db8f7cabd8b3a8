#pragma once
// The OCI / Docker schema2 documents an image is made of: descriptors, image manifests
// and indexes (Docker manifest lists), parsed from untrusted bytes with every field
// checked, and the choice of an index entry for a platform.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/image/digest.h"
#include "agent/image/json_fields.h"
#include "agent/image/platform.h"
#include "common/status.h"

namespace reef::agent::image {

namespace media_type {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media_type

// The Accept header a manifest request sends: all four types, or registries convert
// (schema2 to schema1) or answer 404 for OCI manifests.
std::string ManifestAcceptHeader();

bool IsIndexMediaType(std::string_view type);
bool IsManifestMediaType(std::string_view type);

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;  // index entries only
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;  // base layer first
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

// Bounds on what we accept from outside.
inline constexpr size_t kMaxLayers = 256;
inline constexpr size_t kMaxIndexEntries = 1024;

// The media type of a manifest document: the Content-Type when it is a manifest type,
// else the document's own mediaType field. InvalidArgument for Docker schema1 (not
// supported) and for anything that is not a manifest or index.
absl::StatusOr<std::string> DetectManifestMediaType(std::string_view body,
                                                    std::string_view content_type);

absl::StatusOr<Descriptor> ParseDescriptor(const json::Json& value, std::string_view path);
json::Json DescriptorToJson(const Descriptor& descriptor);

absl::StatusOr<Manifest> ParseManifest(std::string_view body);
absl::StatusOr<Index> ParseIndex(std::string_view body);
// A canonical OCI manifest document for `manifest` (used when importing docker-archive
// tarballs, which have none of their own).
std::string SerializeManifest(const Manifest& manifest);

// The best entry of `index` for `platform` (see MatchRank); NotFound listing the
// platforms the index offers when none fits.
absl::StatusOr<Descriptor> SelectPlatform(const Index& index, const Platform& platform);

}  // namespace reef::agent::image
