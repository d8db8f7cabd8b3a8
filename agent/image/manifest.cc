#include "agent/image/manifest.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace reef::agent::image {
namespace {

using json::Json;

// "application/json; charset=utf-8" -> "application/json".
std::string_view BareContentType(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

bool IsLayerMediaType(std::string_view type) {
  return type.starts_with("application/vnd.oci.image.layer.") ||
         type.starts_with("application/vnd.docker.image.rootfs.");
}

bool IsSchema1(std::string_view type) {
  return type == media_type::kDockerSchema1 ||
         type == "application/vnd.docker.distribution.manifest.v1+json";
}

absl::StatusOr<Platform> ParsePlatformField(const Json& value, std::string_view path) {
  Platform p;
  ASSIGN_OR_RETURN(p.os, json::String(value, "os", path, /*required=*/true));
  ASSIGN_OR_RETURN(p.architecture, json::String(value, "architecture", path, /*required=*/true));
  ASSIGN_OR_RETURN(p.variant, json::String(value, "variant", path, /*required=*/false));
  return p;
}

absl::Status CheckSchemaVersion(const Json& doc) {
  ASSIGN_OR_RETURN(int64_t version, json::Int(doc, "schemaVersion", "", /*required=*/true));
  if (version != 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("schemaVersion: %d is not supported (only 2)", version));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ManifestAcceptHeader() {
  return reef::StrCat(media_type::kOciIndex, ", ", media_type::kOciManifest, ", ",
                      media_type::kDockerManifestList, ", ", media_type::kDockerManifest);
}

bool IsIndexMediaType(std::string_view type) {
  return type == media_type::kOciIndex || type == media_type::kDockerManifestList;
}

bool IsManifestMediaType(std::string_view type) {
  return type == media_type::kOciManifest || type == media_type::kDockerManifest;
}

absl::StatusOr<std::string> DetectManifestMediaType(std::string_view body,
                                                    std::string_view content_type) {
  std::string type(BareContentType(content_type));
  if (!IsIndexMediaType(type) && !IsManifestMediaType(type) && !IsSchema1(type)) {
    // Some registries answer application/json (or nothing): trust the document.
    ASSIGN_OR_RETURN(Json doc, json::Parse(body, "manifest"));
    ASSIGN_OR_RETURN(type, json::String(doc, "mediaType", "", /*required=*/false));
    if (type.empty()) {
      // An OCI document may leave mediaType out; an index has "manifests".
      if (doc.is_object() && doc.contains("manifests")) {
        type = media_type::kOciIndex;
      } else if (doc.is_object() && doc.contains("layers")) {
        type = media_type::kOciManifest;
      }
    }
  }
  if (IsSchema1(type)) {
    return absl::InvalidArgumentError("Docker schema1 manifests are not supported");
  }
  if (!IsIndexMediaType(type) && !IsManifestMediaType(type)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("not an image manifest or index (media type \"%s\")", type));
  }
  return type;
}

absl::StatusOr<Descriptor> ParseDescriptor(const Json& value, std::string_view path) {
  Descriptor d;
  ASSIGN_OR_RETURN(d.media_type, json::String(value, "mediaType", path, /*required=*/true));
  ASSIGN_OR_RETURN(std::string digest, json::String(value, "digest", path, /*required=*/true));
  auto parsed = Digest::Parse(digest);
  if (!parsed.ok()) return Annotate(parsed.status(), json::Join(path, "digest"));
  d.digest = *std::move(parsed);
  ASSIGN_OR_RETURN(d.size, json::Int(value, "size", path, /*required=*/true));
  if (d.size < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: negative", json::Join(path, "size")));
  }
  ASSIGN_OR_RETURN(const Json* platform, json::Member(value, "platform", path));
  if (platform != nullptr) {
    ASSIGN_OR_RETURN(d.platform, ParsePlatformField(*platform, json::Join(path, "platform")));
  }
  ASSIGN_OR_RETURN(d.annotations, json::StringMap(value, "annotations", path));
  return d;
}

Json DescriptorToJson(const Descriptor& d) {
  Json out = Json::object();
  out["mediaType"] = d.media_type;
  out["digest"] = d.digest.ToString();
  out["size"] = d.size;
  if (d.platform) {
    Json p = {{"architecture", d.platform->architecture}, {"os", d.platform->os}};
    if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
    out["platform"] = std::move(p);
  }
  if (!d.annotations.empty()) out["annotations"] = d.annotations;
  return out;
}

absl::StatusOr<Manifest> ParseManifest(std::string_view body) {
  ASSIGN_OR_RETURN(Json doc, json::Parse(body, "manifest"));
  RETURN_IF_ERROR(CheckSchemaVersion(doc));
  Manifest m;
  ASSIGN_OR_RETURN(m.media_type, json::String(doc, "mediaType", "", /*required=*/false));
  if (m.media_type.empty()) m.media_type = media_type::kOciManifest;
  if (!IsManifestMediaType(m.media_type)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("mediaType: \"%s\" is not an image manifest", m.media_type));
  }
  ASSIGN_OR_RETURN(const Json* config, json::Member(doc, "config", ""));
  if (config == nullptr) return absl::InvalidArgumentError("config: required");
  ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config, "config"));
  if (m.config.media_type != media_type::kOciConfig &&
      m.config.media_type != media_type::kDockerConfig) {
    return absl::InvalidArgumentError(
        absl::StrFormat("config.mediaType: \"%s\": not a container image", m.config.media_type));
  }
  ASSIGN_OR_RETURN(const Json* layers, json::Member(doc, "layers", ""));
  if (layers == nullptr || !layers->is_array()) {
    return absl::InvalidArgumentError("layers: expected a list");
  }
  if (layers->size() > kMaxLayers) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "layers: %d layers, more than the %d supported", layers->size(), kMaxLayers));
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    const std::string path = absl::StrFormat("layers[%d]", i);
    ASSIGN_OR_RETURN(Descriptor layer, ParseDescriptor((*layers)[i], path));
    if (!IsLayerMediaType(layer.media_type)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.mediaType: \"%s\" is not a supported layer type", path, layer.media_type));
    }
    m.layers.push_back(std::move(layer));
  }
  return m;
}

absl::StatusOr<Index> ParseIndex(std::string_view body) {
  ASSIGN_OR_RETURN(Json doc, json::Parse(body, "index"));
  RETURN_IF_ERROR(CheckSchemaVersion(doc));
  Index index;
  ASSIGN_OR_RETURN(index.media_type, json::String(doc, "mediaType", "", /*required=*/false));
  if (index.media_type.empty()) index.media_type = media_type::kOciIndex;
  if (!IsIndexMediaType(index.media_type)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("mediaType: \"%s\" is not an image index", index.media_type));
  }
  ASSIGN_OR_RETURN(const Json* manifests, json::Member(doc, "manifests", ""));
  if (manifests == nullptr || !manifests->is_array()) {
    return absl::InvalidArgumentError("manifests: expected a list");
  }
  if (manifests->size() > kMaxIndexEntries) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "manifests: %d entries, more than the %d supported", manifests->size(), kMaxIndexEntries));
  }
  for (size_t i = 0; i < manifests->size(); ++i) {
    ASSIGN_OR_RETURN(Descriptor d,
                     ParseDescriptor((*manifests)[i], absl::StrFormat("manifests[%d]", i)));
    index.manifests.push_back(std::move(d));
  }
  return index;
}

std::string SerializeManifest(const Manifest& m) {
  Json doc = Json::object();
  doc["schemaVersion"] = 2;
  doc["mediaType"] = m.media_type;
  doc["config"] = DescriptorToJson(m.config);
  Json layers = Json::array();
  for (const Descriptor& layer : m.layers) layers.push_back(DescriptorToJson(layer));
  doc["layers"] = std::move(layers);
  return doc.dump();
}

absl::StatusOr<Descriptor> SelectPlatform(const Index& index, const Platform& platform) {
  const Descriptor* best = nullptr;
  int best_rank = 0;
  std::vector<std::string> offered;
  for (const Descriptor& d : index.manifests) {
    if (!IsManifestMediaType(d.media_type) || !d.platform) continue;
    offered.push_back(d.platform->ToString());
    std::optional<int> rank = MatchRank(platform, *d.platform);
    // The first of equally good entries wins, as in containerd.
    if (rank && (best == nullptr || *rank < best_rank)) {
      best = &d;
      best_rank = *rank;
    }
  }
  if (best == nullptr) {
    std::sort(offered.begin(), offered.end());
    offered.erase(std::unique(offered.begin(), offered.end()), offered.end());
    return absl::NotFoundError(
        absl::StrFormat("no manifest for platform %s (the index offers: %s)", platform.ToString(),
                        offered.empty() ? "none" : absl::StrJoin(offered, ", ")));
  }
  return *best;
}

}  // namespace reef::agent::image
