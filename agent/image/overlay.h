#pragma once
// A container's root filesystem: overlayfs over the layer snapshots (read-only lower
// dirs, top first) with a per-container upper folder for its writes. Needs root
// (CAP_SYS_ADMIN) and paths without ',', ':' or '\', which overlayfs's option syntax
// cannot carry.

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace reef::agent::image {

// Mounts overlayfs at target. upper and work (same filesystem, work empty) may both
// be empty for a read-only mount. All paths absolute. The kernel takes at most one
// page of mount options: when the absolute lower dirs do not fit, they are given
// relative to their common parent folder (from a thread with its own working folder);
// when even that is too long the error says how long and what the limit is.
absl::Status MountOverlay(const std::vector<std::string>& lowers_top_first,
                          const std::string& upper, const std::string& work,
                          const std::string& target);

// Unmounts target, detaching it lazily when busy. OK if nothing is mounted there.
absl::Status Unmount(const std::string& target);

// The overlay of one container, under a folder of its own:
//   <dir>/upper  the container's writes     <dir>/work  overlayfs's scratch
//   <dir>/rootfs the mount point, the OCI bundle's root.path
// Unmounts when destroyed, unless released.
class ContainerRootfs {
 public:
  // Creates the folders as needed and mounts. An overlay already mounted at rootfs
  // (an agent restarted while its container runs) is adopted as it is.
  static absl::StatusOr<std::unique_ptr<ContainerRootfs>> Mount(
      const std::string& dir, const std::vector<std::string>& lowers_top_first);

  // Unmounts, then removes dir with the container's writes. Refuses (FailedPrecondition)
  // while something is still mounted at rootfs, so layers are never deleted through it.
  static absl::Status Remove(const std::string& dir);

  ContainerRootfs(const ContainerRootfs&) = delete;
  ContainerRootfs& operator=(const ContainerRootfs&) = delete;
  ~ContainerRootfs();

  const std::string& path() const { return rootfs_; }
  const std::string& upper() const { return upper_; }

  // Unmounts now (idempotent); the destructor does this quietly.
  absl::Status Unmount();
  // Leaves the overlay mounted after this object is gone: the container outlives the
  // agent, and the next agent adopts the mount.
  void Release() { mounted_ = false; }

 private:
  explicit ContainerRootfs(const std::string& dir)
      : rootfs_(dir + "/rootfs"), upper_(dir + "/upper") {}

  std::string rootfs_;
  std::string upper_;
  bool mounted_ = false;
};

}  // namespace reef::agent::image
