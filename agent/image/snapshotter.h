#pragma once
// Per-layer snapshot folders, shared between images, as containerd's overlay
// snapshotter keeps them: one folder per layer keyed by the OCI ChainID of the layer
// stack up to it, so that a layer unpacks once however many images use it.
//
// On disk, under root:
//   snapshots/<hex>/fs         the unpacked layer: an overlayfs lower dir
//   snapshots/<hex>/meta.json  chain id, parent chain id, usage
//   tmp/                       unpacks in progress; emptied by Open
// A layer is unpacked into tmp/ and renamed into snapshots/ once complete and synced,
// so a crash or a bad layer never leaves a half layer under snapshots/.
//
// Thread safety: all methods may be called from any thread. Concurrent Prepare calls
// for one chain id unpack once; the others wait for it and share its result. Only one
// Snapshotter may own a root at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/image/layer_unpack.h"
#include "common/status.h"

namespace reef::agent::image {

// The OCI ChainID of a layer: its diff_id for the bottom layer (empty parent), else
// "sha256:" + hex(sha256(parent_chain_id + " " + diff_id)).
std::string ChainId(std::string_view parent_chain_id, std::string_view diff_id);

struct SnapshotInfo {
  std::string chain_id;
  std::string parent;       // empty for a bottom layer
  std::string path;         // the fs folder
  uint64_t usage_bytes = 0; // disk blocks used by the fs folder, hardlinks counted once
  uint64_t inodes = 0;
};

struct SnapshotterOptions {
  ApplyOptions apply;
  // Called on the unpacking thread before each unpack (tests count and slow them).
  std::function<void(const std::string& chain_id)> before_unpack_for_test;
};

class Snapshotter {
 public:
  // Creates root if needed and removes unpacks left in tmp/ by a crash.
  static absl::StatusOr<std::unique_ptr<Snapshotter>> Open(const std::string& root,
                                                           SnapshotterOptions options = {});

  Snapshotter() = default;
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;
  virtual ~Snapshotter() = default;

  // Unpacks the layer blob (tar, gzip or zstd) whose ChainID is chain_id on top of
  // parent_chain_id (empty for the bottom layer), once, and returns its fs folder.
  // Already prepared: returns at once without reading the blob. FailedPrecondition if
  // the parent is not prepared; InvalidArgument for a malformed chain id or a layer
  // refused by ApplyLayer; nothing is left behind on error. The blob's digest is the
  // caller's to verify.
  virtual absl::StatusOr<std::string> Prepare(const std::string& chain_id,
                                              const std::string& parent_chain_id,
                                              const std::string& layer_blob_path) = 0;

  // The fs folders of the stack ending at top_chain_id, top first: overlayfs's
  // lowerdir order. NotFound if a snapshot of the chain is missing.
  virtual absl::StatusOr<std::vector<std::string>> LowerDirs(
      const std::string& top_chain_id) = 0;

  virtual absl::StatusOr<SnapshotInfo> Stat(const std::string& chain_id) = 0;
  virtual absl::StatusOr<std::vector<SnapshotInfo>> List() = 0;  // sorted by chain id

  // Removes a snapshot. FailedPrecondition while another snapshot has it as parent.
  // The caller makes sure no mounted overlay still uses it.
  virtual absl::Status Remove(const std::string& chain_id) = 0;
};

}  // namespace reef::agent::image
