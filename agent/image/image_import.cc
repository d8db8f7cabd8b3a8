#include "agent/image/image_import.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/image/image_config.h"
#include "agent/image/json_fields.h"
#include "agent/image/reference.h"
#include "agent/image/registry_client.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

constexpr std::string_view kImageNameAnnotation = "io.containerd.image.name";
constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr int kMaxLinkHops = 8;
constexpr size_t kMaxDockerImages = 1000;

// "./blobs//sha256/x" -> "blobs/sha256/x"; "" when the name climbs out of the root.
std::string CleanName(std::string_view name) {
  std::vector<std::string_view> parts;
  while (!name.empty()) {
    const size_t slash = name.find('/');
    std::string_view part = name.substr(0, slash);
    name = slash == std::string_view::npos ? std::string_view() : name.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return "";
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

std::string DirName(const std::string& name) {
  const size_t slash = name.rfind('/');
  return slash == std::string::npos ? "" : name.substr(0, slash);
}

struct StagedFile {
  std::string path;  // where its content is, under the staging folder
  Digest digest;
  int64_t size = 0;
};

// The archive's files, staged on disk and indexed by their cleaned names. Removes the
// staging folder (and whatever was not ingested) when destroyed.
class StagedArchive {
 public:
  static absl::StatusOr<std::unique_ptr<StagedArchive>> Read(const std::string& path,
                                                             const std::string& tmp_root,
                                                             const ImportLimits& limits);
  ~StagedArchive() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The file an archive name leads to, following symlinks and hardlinks.
  const StagedFile* Find(const std::string& name) const {
    std::string current = CleanName(name);
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      if (auto it = files_.find(current); it != files_.end()) return &it->second;
      auto link = links_.find(current);
      if (link == links_.end()) return nullptr;
      current = link->second;
    }
    return nullptr;
  }
  bool Has(const std::string& name) const { return Find(name) != nullptr; }

  // A small file's content (index.json, manifest.json, a manifest or a config).
  absl::StatusOr<std::string> ReadSmall(const std::string& name, uint64_t max_bytes) const {
    const StagedFile* file = Find(name);
    if (file == nullptr) return absl::InvalidArgumentError(absl::StrFormat("no entry %s", name));
    auto content = ReadFileLimited(file->path, max_bytes);
    if (!content.ok()) return Annotate(content.status(), name);
    return content;
  }

 private:
  explicit StagedArchive(std::string dir) : dir_(std::move(dir)) {}
  absl::Status Stage(struct archive* a, const std::string& name, const ImportLimits& limits);

  const std::string dir_;
  std::map<std::string, StagedFile> files_;
  std::map<std::string, std::string> links_;  // name -> cleaned target name
  uint64_t total_bytes_ = 0;
};

absl::StatusOr<std::unique_ptr<StagedArchive>> StagedArchive::Read(const std::string& path,
                                                                   const std::string& tmp_root,
                                                                   const ImportLimits& limits) {
  std::string dir = tmp_root + "/import-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return ErrnoStatus(reef::StrCat("create ", dir), errno);
  std::unique_ptr<StagedArchive> staged(new StagedArchive(dir));

  std::unique_ptr<struct archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                      archive_read_free);
  struct archive* a = reader.get();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(absl::StrFormat("open: %s", archive_error_string(a)));
  }
  for (uint64_t entries = 1;; ++entries) {
    struct archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(a, &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      return absl::InvalidArgumentError(
          absl::StrFormat("not a readable tar archive: %s", archive_error_string(a)));
    }
    if (entries > limits.max_entries) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("more than %d entries", limits.max_entries));
    }
    const char* raw_name = archive_entry_pathname(entry);
    const std::string name = CleanName(raw_name == nullptr ? "" : raw_name);
    if (name.empty()) continue;  // the root, or a name outside it: never an image file
    if (const char* hardlink = archive_entry_hardlink(entry); hardlink != nullptr) {
      staged->links_[name] = CleanName(hardlink);
    } else if (archive_entry_filetype(entry) == AE_IFLNK) {
      const char* symlink = archive_entry_symlink(entry);
      const std::string target = symlink == nullptr ? "" : symlink;
      // Relative to the link's folder; absolute means relative to the archive root.
      staged->links_[name] =
          CleanName(target.starts_with('/') ? target : reef::StrCat(DirName(name), "/", target));
    } else if (archive_entry_filetype(entry) == AE_IFREG) {
      RETURN_IF_ERROR(Annotate(staged->Stage(a, name, limits), reef::StrCat("entry ", name)));
    }
  }
  return staged;
}

absl::Status StagedArchive::Stage(struct archive* a, const std::string& name,
                                  const ImportLimits& limits) {
  StagedFile file;
  file.path = absl::StrFormat("%s/%d", dir_, files_.size());
  const int fd = ::open(file.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(reef::StrCat("create ", file.path), errno);
  Sha256 hash;
  char buf[64 * 1024];
  absl::Status status;
  while (status.ok()) {
    const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      status = absl::InvalidArgumentError(absl::StrFormat("read: %s", archive_error_string(a)));
      break;
    }
    total_bytes_ += n;
    if (total_bytes_ > limits.max_total_bytes) {
      status = absl::ResourceExhaustedError(
          SizeLimitMessage("archive content", total_bytes_, limits.max_total_bytes));
      break;
    }
    hash.Update(std::string_view(buf, n));
    file.size += n;
    for (std::string_view rest(buf, n); !rest.empty() && status.ok();) {
      const ssize_t w = ::write(fd, rest.data(), rest.size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = ErrnoStatus(reef::StrCat("write ", file.path), errno);
      } else {
        rest.remove_prefix(w);
      }
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  file.digest = hash.Finish();
  files_[name] = std::move(file);  // a later entry of the same name replaces it, as tar does
  return absl::OkStatus();
}

Descriptor Describe(std::string_view media_type, const StagedFile& file) {
  return Descriptor{std::string(media_type), file.digest, file.size, std::nullopt, {}};
}

// Moves a staged file into the store as `digest` (already known to match).
absl::Status IngestStaged(ContentStore& store, const StagedFile& file) {
  if (store.Has(file.digest)) return absl::OkStatus();
  return store.Ingest(file.path, file.digest, file.size, ContentStore::Verify::kTrustCaller);
}

// ---- OCI layout ----

absl::StatusOr<const StagedFile*> OciBlob(const StagedArchive& archive, const Descriptor& d) {
  const std::string name = reef::StrCat("blobs/sha256/", d.digest.hex());
  const StagedFile* file = archive.Find(name);
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat("missing blob %s", d.digest.ToString()));
  }
  if (file->digest != d.digest) return DigestMismatch(name, d.digest, file->digest);
  if (file->size != d.size) {
    return absl::DataLossError(
        absl::StrFormat("%s: %d bytes, its descriptor says %d", name, file->size, d.size));
  }
  return file;
}

// The name an index entry gives its image: a full reference, not a bare tag.
absl::StatusOr<std::string> OciImageName(const Descriptor& d) {
  std::string name;
  if (auto it = d.annotations.find(std::string(kImageNameAnnotation)); it != d.annotations.end()) {
    name = it->second;
  } else if (auto ref = d.annotations.find(std::string(kRefNameAnnotation));
             ref != d.annotations.end() && ref->second.find_first_of("/:@") != std::string::npos) {
    name = ref->second;
  }
  if (name.empty()) return name;
  ASSIGN_OR_RETURN(Reference reference, Reference::Parse(name));
  return reference.ToString();
}

absl::StatusOr<std::vector<ImportedImage>> ImportOci(const StagedArchive& archive,
                                                     ContentStore& store,
                                                     const Platform& platform) {
  ASSIGN_OR_RETURN(std::string index_bytes, archive.ReadSmall("index.json", kMaxManifestBytes));
  auto index = ParseIndex(index_bytes);
  if (!index.ok()) return Annotate(index.status(), "index.json");
  std::vector<ImportedImage> out;
  for (const Descriptor& entry : index->manifests) {
    ASSIGN_OR_RETURN(std::string name, OciImageName(entry));
    if (name.empty()) continue;
    auto fail = [&](const absl::Status& s) { return Annotate(s, reef::StrCat("image ", name)); };
    Descriptor chosen = entry;
    if (IsIndexMediaType(entry.media_type)) {
      auto file = OciBlob(archive, entry);
      if (!file.ok()) return fail(file.status());
      auto bytes = ReadFileLimited((*file)->path, kMaxManifestBytes);
      if (!bytes.ok()) return fail(bytes.status());
      auto child = ParseIndex(*bytes);
      if (!child.ok()) return fail(child.status());
      auto selected = SelectPlatform(*child, platform);
      if (!selected.ok()) return fail(selected.status());
      chosen = *std::move(selected);
    }
    auto manifest_file = OciBlob(archive, chosen);
    if (!manifest_file.ok()) return fail(manifest_file.status());
    auto bytes = ReadFileLimited((*manifest_file)->path, kMaxManifestBytes);
    if (!bytes.ok()) return fail(bytes.status());
    auto manifest = ParseManifest(*bytes);
    if (!manifest.ok()) return fail(Annotate(manifest.status(), chosen.digest.ToString()));
    // Check all of this image's blobs before storing any of them.
    std::vector<const Descriptor*> wanted = {&manifest->config};
    for (const Descriptor& layer : manifest->layers) wanted.push_back(&layer);
    std::vector<const StagedFile*> blobs = {*manifest_file};
    for (const Descriptor* d : wanted) {
      auto file = OciBlob(archive, *d);
      if (!file.ok()) return fail(file.status());
      blobs.push_back(*file);
    }
    for (const StagedFile* file : blobs) RETURN_IF_ERROR(IngestStaged(store, *file));
    chosen.platform.reset();
    chosen.annotations.clear();
    out.push_back(ImportedImage{std::move(name), std::move(chosen)});
  }
  return out;
}

// ---- docker-archive ----

std::string_view LayerMediaType(const StagedFile& file, const Digest& diff_id) {
  if (file.digest == diff_id) return media_type::kOciLayer;
  char magic[4] = {};
  const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (::read(fd, magic, sizeof magic) != sizeof magic) magic[0] = 0;
    ::close(fd);
  }
  // A compressed layer (Podman writes them): only its uncompressed stream can match the
  // diff_id.
  if (magic[0] == '\x1f' && magic[1] == '\x8b') return media_type::kOciLayerGzip;
  if (magic[0] == '\x28' && magic[1] == '\xb5' && magic[2] == '\x2f' && magic[3] == '\xfd') {
    return kOciLayerZstd;
  }
  return "";
}

absl::StatusOr<std::vector<ImportedImage>> ImportDocker(const StagedArchive& archive,
                                                        ContentStore& store) {
  ASSIGN_OR_RETURN(std::string text, archive.ReadSmall("manifest.json", kMaxManifestBytes));
  ASSIGN_OR_RETURN(json::Json doc, json::Parse(text, "manifest.json"));
  if (!doc.is_array()) return absl::InvalidArgumentError("manifest.json: expected a list");
  if (doc.size() > kMaxDockerImages) {
    return absl::InvalidArgumentError(
        absl::StrFormat("manifest.json: more than %d images", kMaxDockerImages));
  }
  std::vector<ImportedImage> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const std::string path = absl::StrFormat("manifest.json[%d]", i);
    ASSIGN_OR_RETURN(std::string config_name, json::String(doc[i], "Config", path, true));
    ASSIGN_OR_RETURN(std::vector<std::string> tags, json::StringList(doc[i], "RepoTags", path));
    ASSIGN_OR_RETURN(std::vector<std::string> layer_names,
                     json::StringList(doc[i], "Layers", path));
    std::vector<std::string> names;
    for (const std::string& tag : tags) {
      auto ref = Reference::Parse(tag);
      if (!ref.ok()) return Annotate(ref.status(), json::Join(path, "RepoTags"));
      names.push_back(ref->ToString());
    }
    if (names.empty()) continue;

    const StagedFile* config_file = archive.Find(config_name);
    if (config_file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s.Config: no entry %s", path, config_name));
    }
    ASSIGN_OR_RETURN(std::string config_bytes, archive.ReadSmall(config_name, kMaxConfigBytes));
    auto config = ParseImageConfig(config_bytes);
    if (!config.ok()) return Annotate(config.status(), config_name);
    if (config->diff_ids.size() != layer_names.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: %d layers but the config has %d diff_ids", path, layer_names.size(),
                          config->diff_ids.size()));
    }
    Manifest manifest;
    manifest.media_type = media_type::kOciManifest;
    manifest.config = Describe(media_type::kOciConfig, *config_file);
    std::vector<const StagedFile*> blobs = {config_file};
    for (size_t j = 0; j < layer_names.size(); ++j) {
      const StagedFile* layer = archive.Find(layer_names[j]);
      if (layer == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s.Layers[%d]: no entry %s", path, j, layer_names[j]));
      }
      std::string_view type = LayerMediaType(*layer, config->diff_ids[j]);
      if (type.empty()) {
        return DigestMismatch(absl::StrFormat("%s.Layers[%d] (%s) vs rootfs.diff_ids[%d]", path, j,
                                              layer_names[j], j),
                              config->diff_ids[j], layer->digest);
      }
      manifest.layers.push_back(Describe(type, *layer));
      blobs.push_back(layer);
    }
    for (const StagedFile* file : blobs) RETURN_IF_ERROR(IngestStaged(store, *file));
    // docker-archive has no manifest of its own: write the OCI one it implies.
    const std::string manifest_bytes = SerializeManifest(manifest);
    const Digest manifest_digest = Digest::Of(manifest_bytes);
    RETURN_IF_ERROR(store.Write(manifest_digest, manifest_bytes));
    const Descriptor descriptor{std::string(media_type::kOciManifest),
                                manifest_digest,
                                static_cast<int64_t>(manifest_bytes.size()),
                                std::nullopt,
                                {}};
    for (std::string& name : names) out.push_back(ImportedImage{std::move(name), descriptor});
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ImportedImage>> ImportArchive(const std::string& path,
                                                         ContentStore& store,
                                                         const Platform& platform,
                                                         const ImportLimits& limits) {
  auto fail = [&](const absl::Status& s) { return Annotate(s, reef::StrCat("import ", path)); };
  auto archive = StagedArchive::Read(path, store.IngestDir(), limits);
  if (!archive.ok()) return fail(archive.status());
  absl::StatusOr<std::vector<ImportedImage>> images;
  if ((*archive)->Has("index.json")) {
    images = ImportOci(**archive, store, platform);
  } else if ((*archive)->Has("manifest.json")) {
    images = ImportDocker(**archive, store);
  } else {
    return fail(absl::InvalidArgumentError(
        "not an image archive: no index.json (OCI layout) or manifest.json (docker-archive)"));
  }
  if (!images.ok()) return fail(images.status());
  if (images->empty()) {
    return fail(
        absl::InvalidArgumentError("the archive names no image (no io.containerd.image.name, full "
                                   "org.opencontainers.image.ref.name or RepoTags)"));
  }
  return images;
}

}  // namespace reef::agent::image
