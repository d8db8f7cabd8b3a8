#pragma once
// Blobs and image names on disk, as an OCI image layout:
//   <root>/oci-layout            {"imageLayoutVersion": "1.0.0"}
//   <root>/index.json            the images: name -> manifest descriptor
//   <root>/blobs/sha256/<hex>    content, named by its digest, read-only
//   <root>/ingest/               partial downloads and archive staging (not OCI)
// A blob enters only through Ingest/Write, which check its digest (or trust a caller
// that hashed it while writing) and rename it into place, so blobs/ never holds a
// partial or unverified file. index.json is rewritten atomically on every change.
//
// Thread safety: all methods may be called from any thread. GarbageCollect must not run
// while a caller ingests blobs that no image references yet (ImageStore serialises the
// two). One process per root.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/image/digest.h"
#include "agent/image/manifest.h"
#include "common/status.h"

namespace reef::agent::image {

struct StoredImage {
  std::string name;  // canonical reference, e.g. docker.io/library/busybox:1
  Descriptor manifest;
};

struct GcResult {
  int blobs_removed = 0;
  uint64_t bytes_freed = 0;
};

class ContentStore {
 public:
  enum class Verify {
    kHash,         // hash the file now
    kTrustCaller,  // the caller hashed the bytes as it wrote them
  };

  // Creates the layout under `root` if needed and loads index.json.
  static absl::StatusOr<std::unique_ptr<ContentStore>> Open(const std::string& root);
  ContentStore(const ContentStore&) = delete;
  ContentStore& operator=(const ContentStore&) = delete;

  const std::string& root() const { return root_; }
  bool Has(const Digest& digest) const;
  // Where the blob lives (whether or not it is there).
  std::string Path(const Digest& digest) const;
  // Where a download of `digest` keeps its partial content until Ingest.
  std::string IngestPath(const Digest& digest) const;
  // A folder for temporary files on the store's filesystem (so Ingest can rename).
  std::string IngestDir() const;

  // Moves the complete file `file` into the store as `digest`, after checking its size
  // (when size >= 0) and, with Verify::kHash, its digest. A mismatch deletes `file` and
  // is DataLoss. Ingesting a blob the store has already just deletes `file`.
  absl::Status Ingest(const std::string& file, const Digest& digest, int64_t size, Verify verify);
  // Stores `bytes` as `digest` after checking they hash to it.
  absl::Status Write(const Digest& digest, std::string_view bytes);
  // A blob's content, refusing one larger than max_bytes.
  absl::StatusOr<std::string> Read(const Digest& digest, uint64_t max_bytes) const;
  // Removes a blob; OK when it is not there.
  absl::Status Delete(const Digest& digest);
  absl::StatusOr<std::vector<Digest>> ListBlobs() const;

  // Names `manifest` as image `name` (replacing what the name pointed to).
  absl::Status SetImage(const std::string& name, const Descriptor& manifest);
  std::optional<Descriptor> GetImage(const std::string& name) const;
  std::vector<StoredImage> ListImages() const;
  // NotFound when no image has that name. Blobs stay until GarbageCollect.
  absl::Status RemoveImage(const std::string& name);

  // Deletes every blob that no named image references (through its manifest or index),
  // and everything left in ingest/ by downloads or imports that did not finish.
  absl::StatusOr<GcResult> GarbageCollect();

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  absl::Status LoadIndex();
  absl::Status SaveIndexLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string root_;
  mutable absl::Mutex mu_;
  std::map<std::string, Descriptor> images_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reef::agent::image
