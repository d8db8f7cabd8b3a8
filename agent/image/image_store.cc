#include "agent/image/image_store.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_format.h"
#include "agent/image/single_flight.h"
#include "agent/image/snapshotter.h"

namespace reef::agent::image {
namespace {

constexpr int kMaxChainWalk = 1000;

absl::Status CheckPlatform(const ImageConfig& config, const Platform& want) {
  if (config.platform.architecture.empty() || MatchRank(want, config.platform)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrFormat("the image is for %s, this node is %s",
                                                       Normalize(config.platform).ToString(),
                                                       want.ToString()));
}

bool IsArchiveName(const std::string& name) {
  for (std::string_view suffix : {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.lz4"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

}  // namespace

class ImageStore::Impl {
 public:
  explicit Impl(ImageStoreOptions options) : options_(std::move(options)) {}

  absl::Status Init() {
    http_ = options_.http;
    if (http_ == nullptr) {
      ASSIGN_OR_RETURN(owned_http_, HttpClient::Open());
      http_ = owned_http_.get();
    }
    ASSIGN_OR_RETURN(content_, ContentStore::Open(options_.root));
    ASSIGN_OR_RETURN(registry_,
                     RegistryClient::Open(http_, options_.registries, options_.registry));
    return absl::OkStatus();
  }

  absl::StatusOr<Image> Pull(const Reference& ref, const PullOptions& options) {
    const std::string name = ref.ToString();
    if (options.policy != PullPolicy::kAlways || !ref.digest().empty()) {
      auto local = Get(name);
      if (local.ok() || options.policy == PullPolicy::kNever) {
        if (absl::IsNotFound(local.status())) {
          return absl::FailedPreconditionError(
              "the image is not present and the pull policy is Never");
        }
        return local;
      }
    }
    const std::string key =
        absl::StrFormat("%s|%s|%s", name, options.platform.ToString(),
                        options.credentials ? options.credentials->username : "");
    return pulls_.Do(key, [&] { return PullOnce(ref, options); });
  }

  absl::StatusOr<Image> Get(const std::string& name) {
    std::optional<Descriptor> manifest = content_->GetImage(name);
    if (!manifest) return absl::NotFoundError(absl::StrFormat("image %s not found", name));
    return Assemble(name, *manifest, /*unpack=*/snapshotter() != nullptr);
  }

  absl::StatusOr<std::vector<Image>> List() {
    std::vector<Image> out;
    for (const StoredImage& stored : content_->ListImages()) {
      ASSIGN_OR_RETURN(Image image, Assemble(stored.name, stored.manifest, /*unpack=*/false));
      out.push_back(std::move(image));
    }
    return out;
  }

  absl::Status Remove(const std::string& name) { return content_->RemoveImage(name); }

  absl::StatusOr<ImageGcResult> GarbageCollect(const GcOptions& options) {
    absl::WriterMutexLock lock(&gc_mu_);
    ImageGcResult result;
    ASSIGN_OR_RETURN(result.blobs, content_->GarbageCollect());
    if (snapshotter() != nullptr) {
      ASSIGN_OR_RETURN(result.snapshots_removed, CollectSnapshots(options));
    }
    return result;
  }

  absl::StatusOr<std::vector<Image>> Import(const std::string& path) {
    absl::ReaderMutexLock lock(&gc_mu_);
    ASSIGN_OR_RETURN(std::vector<ImportedImage> imported,
                     ImportArchive(path, *content_, options_.platform, options_.import));
    auto fail = [&](const absl::Status& s) { return Annotate(s, reef::StrCat("import ", path)); };
    // Check every image before naming any, so a bad archive changes no name.
    for (const ImportedImage& i : imported) {
      auto image = Assemble(i.name, i.manifest, /*unpack=*/false);
      if (!image.ok()) return fail(image.status());
      if (absl::Status s = CheckPlatform(image->config, options_.platform); !s.ok()) {
        return fail(Annotate(s, reef::StrCat("image ", i.name)));
      }
    }
    std::vector<Image> out;
    for (const ImportedImage& i : imported) {
      if (absl::Status s = content_->SetImage(i.name, i.manifest); !s.ok()) return fail(s);
      auto image = Assemble(i.name, i.manifest, /*unpack=*/snapshotter() != nullptr);
      if (!image.ok()) return fail(image.status());
      out.push_back(*std::move(image));
    }
    return out;
  }

 private:
  Snapshotter* snapshotter() const { return options_.snapshotter; }

  absl::StatusOr<Image> PullOnce(const Reference& ref, const PullOptions& options) {
    absl::ReaderMutexLock lock(&gc_mu_);
    ASSIGN_OR_RETURN(ResolvedManifest resolved,
                     registry_->Resolve(ref, options.platform, options.credentials));
    RETURN_IF_ERROR(content_->Write(resolved.digest, resolved.bytes));

    // The config first: it says whether the image can run here before any layer moves.
    const Descriptor& config_blob = resolved.manifest.config;
    if (!content_->Has(config_blob.digest)) {
      auto bytes = registry_->FetchBlob(resolved, config_blob, kMaxConfigBytes);
      if (!bytes.ok()) return Annotate(bytes.status(), "fetch config");
      RETURN_IF_ERROR(content_->Write(config_blob.digest, *bytes));
    }
    ASSIGN_OR_RETURN(std::string config_bytes, content_->Read(config_blob.digest, kMaxConfigBytes));
    auto config = ParseImageConfig(config_bytes);
    if (!config.ok())
      return Annotate(config.status(), reef::StrCat("config ", config_blob.digest.ToString()));
    RETURN_IF_ERROR(CheckPlatform(*config, options.platform));

    for (size_t i = 0; i < resolved.manifest.layers.size(); ++i) {
      const Descriptor& layer = resolved.manifest.layers[i];
      absl::Status fetched = blobs_.Do(layer.digest.hex(), [&]() -> absl::Status {
        if (content_->Has(layer.digest)) return absl::OkStatus();
        const std::string partial = content_->IngestPath(layer.digest);
        RETURN_IF_ERROR(registry_->DownloadBlob(resolved, layer, partial));
        return content_->Ingest(partial, layer.digest, layer.size,
                                ContentStore::Verify::kTrustCaller);
      });
      if (!fetched.ok()) return Annotate(fetched, absl::StrFormat("fetch layer %d", i));
    }
    const Descriptor manifest{resolved.manifest.media_type,
                              resolved.digest,
                              static_cast<int64_t>(resolved.bytes.size()),
                              std::nullopt,
                              {}};
    // Unpack before naming: a name only ever points at an image that can run.
    ASSIGN_OR_RETURN(Image image, Assemble(ref.ToString(), manifest, snapshotter() != nullptr));
    RETURN_IF_ERROR(content_->SetImage(ref.ToString(), manifest));
    return image;
  }

  // The Image a stored manifest describes; with `unpack`, its layers prepared as
  // snapshots.
  absl::StatusOr<Image> Assemble(const std::string& name, const Descriptor& manifest_blob,
                                 bool unpack) {
    auto fail = [&](const absl::Status& s) { return Annotate(s, reef::StrCat("image ", name)); };
    Image image;
    image.reference = name;
    image.manifest_digest = manifest_blob.digest;
    auto manifest_bytes = content_->Read(manifest_blob.digest, kMaxManifestBytes);
    if (!manifest_bytes.ok()) return fail(manifest_bytes.status());
    auto manifest = ParseManifest(*manifest_bytes);
    if (!manifest.ok()) return fail(manifest.status());
    image.config_digest = manifest->config.digest;
    auto config_bytes = content_->Read(manifest->config.digest, kMaxConfigBytes);
    if (!config_bytes.ok()) return fail(config_bytes.status());
    auto config = ParseImageConfig(*config_bytes);
    if (!config.ok()) return fail(config.status());
    image.config = *std::move(config);
    if (image.config.diff_ids.size() != manifest->layers.size()) {
      return fail(absl::InvalidArgumentError(absl::StrFormat("%d layers but %d rootfs.diff_ids",
                                                             manifest->layers.size(),
                                                             image.config.diff_ids.size())));
    }
    image.size = manifest_blob.size + manifest->config.size;
    std::string parent;
    for (size_t i = 0; i < manifest->layers.size(); ++i) {
      Layer layer;
      layer.blob = manifest->layers[i];
      layer.path = content_->Path(layer.blob.digest);
      layer.diff_id = image.config.diff_ids[i];
      layer.chain_id = ChainId(parent, layer.diff_id.ToString());
      if (!content_->Has(layer.blob.digest)) {
        return fail(absl::FailedPreconditionError(absl::StrFormat(
            "layer %d (%s) is missing from the store", i, layer.blob.digest.ToString())));
      }
      if (unpack) {
        auto snapshot = snapshotter()->Prepare(layer.chain_id, parent, layer.path);
        if (!snapshot.ok())
          return fail(Annotate(snapshot.status(), absl::StrFormat("unpack layer %d", i)));
        layer.snapshot = *std::move(snapshot);
      }
      image.size += layer.blob.size;
      parent = layer.chain_id;
      image.layers.push_back(std::move(layer));
    }
    return image;
  }

  // Removes the snapshots that neither a named image nor a container uses. Children go
  // before their parents (the Snapshotter refuses otherwise).
  absl::StatusOr<int> CollectSnapshots(const GcOptions& options) {
    std::set<std::string> live;
    for (const StoredImage& stored : content_->ListImages()) {
      auto image = Assemble(stored.name, stored.manifest, /*unpack=*/false);
      if (!image.ok()) continue;  // its blobs are gone; so is its claim on snapshots
      for (const Layer& layer : image->layers) live.insert(layer.chain_id);
    }
    for (std::string chain : options.snapshots_in_use) {
      for (int i = 0; i < kMaxChainWalk && !chain.empty() && live.insert(chain).second; ++i) {
        auto info = snapshotter()->Stat(chain);
        if (!info.ok()) break;
        chain = info->parent;
      }
    }
    ASSIGN_OR_RETURN(std::vector<SnapshotInfo> snapshots, snapshotter()->List());
    std::vector<std::string> dead;
    for (const SnapshotInfo& s : snapshots) {
      if (!live.contains(s.chain_id)) dead.push_back(s.chain_id);
    }
    int removed = 0;
    for (bool progress = true; progress && !dead.empty();) {
      progress = false;
      std::vector<std::string> blocked;
      for (const std::string& chain : dead) {
        absl::Status s = snapshotter()->Remove(chain);
        if (s.ok()) {
          ++removed;
          progress = true;
        } else if (absl::IsFailedPrecondition(s)) {
          blocked.push_back(chain);  // a child goes first
        } else {
          return s;
        }
      }
      dead = std::move(blocked);
    }
    return removed;
  }

  ImageStoreOptions options_;
  std::unique_ptr<HttpClient> owned_http_;
  HttpClient* http_ = nullptr;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<RegistryClient> registry_;
  // Pulls and imports hold it shared; GarbageCollect holds it alone.
  absl::Mutex gc_mu_;
  SingleFlight<absl::StatusOr<Image>> pulls_;
  SingleFlight<absl::Status> blobs_;
};

absl::StatusOr<std::unique_ptr<ImageStore>> ImageStore::Open(ImageStoreOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<ImageStore>(new ImageStore(std::move(impl)));
}

ImageStore::ImageStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageStore::~ImageStore() = default;

absl::StatusOr<Image> ImageStore::Pull(std::string_view reference, const PullOptions& options) {
  auto fail = [&](const absl::Status& s) { return Annotate(s, reef::StrCat("pull ", reference)); };
  auto ref = Reference::Parse(reference);
  if (!ref.ok()) return fail(ref.status());
  auto image = impl_->Pull(*ref, options);
  if (!image.ok()) return fail(image.status());
  return image;
}

absl::StatusOr<Image> ImageStore::Get(std::string_view reference) {
  ASSIGN_OR_RETURN(Reference ref, Reference::Parse(reference));
  return impl_->Get(ref.ToString());
}

absl::StatusOr<std::vector<Image>> ImageStore::List() { return impl_->List(); }

absl::Status ImageStore::Remove(std::string_view reference) {
  ASSIGN_OR_RETURN(Reference ref, Reference::Parse(reference));
  return impl_->Remove(ref.ToString());
}

absl::StatusOr<ImageGcResult> ImageStore::GarbageCollect(const GcOptions& options) {
  return impl_->GarbageCollect(options);
}

absl::StatusOr<std::vector<Image>> ImageStore::Import(const std::string& archive_path) {
  return impl_->Import(archive_path);
}

std::vector<FolderImport> ImageStore::ImportFolder(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && IsArchiveName(it->path().filename().string())) {
      files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<FolderImport> out;
  for (const std::string& file : files) out.push_back(FolderImport{file, Import(file)});
  return out;
}

}  // namespace reef::agent::image
