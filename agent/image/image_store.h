#pragma once
// The agent's images: pulled from registries or imported from archives into a content
// store (OCI layout), named by canonical reference, and unpacked into per-layer
// snapshots when a Snapshotter is given. The one seam the runtime uses for images.
//
// Pull follows Kubernetes' imagePullPolicy. Concurrent pulls of one image run once (the
// others wait and share the result), and a layer shared by images downloads once.
// Garbage collection runs apart from pulls and imports (it waits for them, they wait
// for it), so it never deletes a blob a pull is about to name.
//
// Thread safety: all methods may be called from any thread.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/image/content_store.h"
#include "agent/image/image_config.h"
#include "agent/image/image_import.h"
#include "agent/image/registry_client.h"

namespace reef::agent::image {

class Snapshotter;

enum class PullPolicy { kAlways, kIfNotPresent, kNever };

struct PullOptions {
  PullPolicy policy = PullPolicy::kIfNotPresent;
  // An image pull secret for the image's registry; overrides registries.yaml there.
  std::optional<Credentials> credentials;
  Platform platform = Platform::Host();
};

struct Layer {
  Descriptor blob;       // as the manifest gives it (the media type says the compression)
  std::string path;      // the blob in the content store
  Digest diff_id;        // digest of the uncompressed tar, from the config
  std::string chain_id;  // OCI ChainID of the stack up to this layer
  std::string snapshot;  // its unpacked folder; empty without a Snapshotter
};

struct Image {
  std::string reference;  // the canonical name it is stored under
  Digest manifest_digest;
  Digest config_digest;
  ImageConfig config;
  std::vector<Layer> layers;  // base first
  int64_t size = 0;           // manifest, config and layer blobs, as stored
};

struct ImageStoreOptions {
  std::string root;  // the content store's folder
  RegistriesConfig registries;
  HttpClient* http = nullptr;  // nullptr: libcurl
  RegistryClientOptions registry;
  // Unpacks layers on Pull, Import and Get; must outlive the store. nullptr: images
  // stay packed (Layer::snapshot empty).
  Snapshotter* snapshotter = nullptr;
  ImportLimits import;
  Platform platform = Platform::Host();  // the platform Import picks from an index
};

struct GcOptions {
  // Top chain ids of snapshots still in use (mounted container roots): their stacks are
  // kept even when no image names them any more.
  std::vector<std::string> snapshots_in_use;
};

struct ImageGcResult {
  GcResult blobs;
  int snapshots_removed = 0;
};

// The outcome of importing one file of a folder.
struct FolderImport {
  std::string file;
  absl::StatusOr<std::vector<Image>> images;
};

class ImageStore {
 public:
  static absl::StatusOr<std::unique_ptr<ImageStore>> Open(ImageStoreOptions options);
  ImageStore(const ImageStore&) = delete;
  ImageStore& operator=(const ImageStore&) = delete;
  ~ImageStore();

  // Makes the image available as `options.policy` says: kNever only looks locally
  // (FailedPrecondition when absent, Kubernetes' ErrImageNeverPull); kIfNotPresent pulls
  // when absent; kAlways asks the registry every time, except for a reference by
  // digest that is already here (content cannot have changed). Errors read
  // "pull REF: fetch manifest: ...".
  absl::StatusOr<Image> Pull(std::string_view reference, const PullOptions& options = {});

  // A stored image, unpacked when the store has a Snapshotter. NotFound when absent.
  absl::StatusOr<Image> Get(std::string_view reference);
  // Every stored image, sorted by name (not unpacked).
  absl::StatusOr<std::vector<Image>> List();
  // Forgets the name; its blobs and snapshots go at the next GarbageCollect.
  absl::Status Remove(std::string_view reference);
  // Deletes blobs no image references and, with a Snapshotter, snapshots that no image
  // and no container (options.snapshots_in_use) uses.
  absl::StatusOr<ImageGcResult> GarbageCollect(const GcOptions& options = {});

  // Imports the images of an archive (see image_import.h) and names them.
  absl::StatusOr<std::vector<Image>> Import(const std::string& archive_path);
  // Imports every *.tar (and .tar.gz, .tgz, .tar.zst, .tar.lz4) file in `dir`, in name
  // order; one bad file does not stop the others. A missing folder imports nothing.
  std::vector<FolderImport> ImportFolder(const std::string& dir);

 private:
  class Impl;
  explicit ImageStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace reef::agent::image
