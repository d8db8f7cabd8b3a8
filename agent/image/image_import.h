#pragma once
// Air-gapped import: reads an image archive into the content store.
//   - OCI layout tar (oci-layout, index.json, blobs/sha256/...), as written by
//     `skopeo copy ... oci-archive:FILE:NAME` and `docker save` since Docker 25;
//   - docker-archive (manifest.json + config JSON + layer tars), as written by
//     `docker save` and `skopeo copy ... docker-archive:FILE:NAME`;
// either possibly compressed (gzip, zstd, xz, lz4: libarchive detects it). The archive
// is read once, every regular file staged under the store's ingest folder and hashed
// as it streams; entry names are never used as paths. Blobs are checked against their
// names (OCI) or the config's rootfs.diff_ids (docker-archive) before they enter the
// store. An image is named by its io.containerd.image.name or
// org.opencontainers.image.ref.name annotation (when that is a full reference, not a
// bare tag) or by a docker-archive's RepoTags; unnamed images are skipped.

#include <cstdint>
#include <string>
#include <vector>

#include "agent/image/content_store.h"
#include "agent/image/manifest.h"
#include "agent/image/platform.h"
#include "common/status.h"

namespace reef::agent::image {

struct ImportLimits {
  uint64_t max_total_bytes = uint64_t{32} << 30;  // all file content in the archive
  uint64_t max_entries = 100'000;
};

struct ImportedImage {
  std::string name;     // canonical reference
  Descriptor manifest;  // the platform's image manifest, in the store with its blobs
};

// Stores the blobs of every named image in the archive at `path` (for an index, those
// of `platform`'s manifest) and returns the images, for the caller to name. Errors
// (InvalidArgument for a malformed archive, DataLoss for content that does not match
// its digest, ResourceExhausted past the limits) name the archive and entry.
absl::StatusOr<std::vector<ImportedImage>> ImportArchive(const std::string& path,
                                                         ContentStore& store,
                                                         const Platform& platform,
                                                         const ImportLimits& limits = {});

}  // namespace reef::agent::image
