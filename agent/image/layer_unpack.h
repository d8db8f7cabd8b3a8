#pragma once
// Unpacking one OCI layer (a tar, uncompressed, gzip or zstd) into a folder that
// becomes an overlayfs lower dir, as containerd's pkg/archive Apply does.
//
// Contract: every entry lands inside dest_dir or the whole call fails. An entry whose
// name is absolute or has a ".." component, whose parent folder resolves through a
// symlink to outside dest_dir (an absolute symlink, or one that climbs out), or a
// hardlink whose target is outside, is refused: ApplyLayer returns InvalidArgument
// naming the entry and writes nothing more. What it wrote before the bad entry stays
// in dest_dir, so callers unpack into a scratch folder they discard on error (the
// Snapshotter does). Existing symlinks are never followed when creating or opening
// the final component of a name.
//
// Whiteouts are turned into what overlayfs expects in a lower dir: `.wh.NAME` becomes
// a 0:0 character device NAME (needs CAP_MKNOD) and `.wh..wh..opq` sets the xattr
// trusted.overlay.opaque="y" on its folder (needs CAP_SYS_ADMIN). Other `.wh..wh.`
// entries (aufs bookkeeping) are skipped, and so are trusted.overlay.* xattrs
// carried by the layer itself: only whiteout entries may steer overlayfs.
//
// Thread safety: independent calls may run concurrently on different dest_dirs.

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "common/status.h"

namespace reef::agent::image {

struct ApplyOptions {
  // Bounds on what one layer may unpack to (regular file content, all entries).
  uint64_t max_bytes = uint64_t{8} << 30;
  uint64_t max_entries = 1'000'000;
  // Restore owners and create device nodes, as the layer says. Both need root; when
  // false, files belong to the caller and device nodes are skipped (counted).
  bool privileged = ::geteuid() == 0;
};

struct ApplyStats {
  uint64_t files = 0;      // entries written: files, folders, links, nodes
  uint64_t bytes = 0;      // regular file content written
  uint64_t whiteouts = 0;  // whiteout devices and opaque markers
  uint64_t skipped = 0;    // sockets, aufs metadata, device nodes when unprivileged
};

// Applies the layer tar at layer_path to the existing folder dest_dir. Errors read
// "apply layer LAYER_PATH: entry \"NAME\": reason" for a refused or failed entry.
absl::StatusOr<ApplyStats> ApplyLayer(const std::string& layer_path,
                                      const std::string& dest_dir,
                                      const ApplyOptions& options = {});

// Makes ApplyLayer resolve paths without openat2(2) (the pre-5.6 kernel fallback,
// which refuses any symlink in a parent path), so tests exercise both.
void DisableOpenat2ForTest(bool disable);

}  // namespace reef::agent::image
