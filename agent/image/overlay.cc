#include "agent/image/overlay.h"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

namespace fs = std::filesystem;

absl::Status CheckPath(std::string_view what, const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(absl::StrFormat("%s \"%s\" is not absolute", what, path));
  }
  if (path.find_first_of(",:\\") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s \"%s\" has ',', ':' or '\\', which overlayfs options cannot carry",
                        what, path));
  }
  return absl::OkStatus();
}

// The longest folder that holds every path ("/" at worst).
fs::path CommonParent(const std::vector<std::string>& paths) {
  fs::path common = fs::path(paths.front()).parent_path();
  for (const std::string& path : paths) {
    while (common != common.root_path() &&
           std::mismatch(common.begin(), common.end(), fs::path(path).begin()).first !=
               common.end()) {
      common = common.parent_path();
    }
  }
  return common;
}

std::string OverlayOptions(const std::vector<std::string>& lowers, const std::string& upper,
                           const std::string& work) {
  std::string options = reef::StrCat("lowerdir=", absl::StrJoin(lowers, ":"));
  if (!upper.empty()) options += reef::StrCat(",upperdir=", upper, ",workdir=", work);
  // As containerd: with the inodes index on, a lower dir shared by several overlays
  // can make later mounts fail with EBUSY.
  static const bool has_index = ::access("/sys/module/overlay/parameters/index", F_OK) == 0;
  if (has_index) options += ",index=off";
  return options;
}

absl::Status MountError(const std::string& target, int err, size_t lowers) {
  absl::Status status =
      ErrnoStatus(absl::StrFormat("mount overlay (%d lower dirs) on %s", lowers, target), err);
  if (err != EINVAL) return status;
  // overlayfs says what it disliked only in the kernel log.
  return absl::InvalidArgumentError(reef::StrCat(status.message(), " (the reason is in dmesg)"));
}

}  // namespace

absl::Status MountOverlay(const std::vector<std::string>& lowers_top_first,
                          const std::string& upper, const std::string& work,
                          const std::string& target) {
  if (lowers_top_first.empty()) return absl::InvalidArgumentError("overlay needs a lower dir");
  if (upper.empty() != work.empty()) {
    return absl::InvalidArgumentError("overlay needs both an upper and a work dir, or neither");
  }
  for (const std::string& lower : lowers_top_first) RETURN_IF_ERROR(CheckPath("lower dir", lower));
  if (!upper.empty()) {
    RETURN_IF_ERROR(CheckPath("upper dir", upper));
    RETURN_IF_ERROR(CheckPath("work dir", work));
  }
  RETURN_IF_ERROR(CheckPath("mount point", target));

  // The kernel copies one page of options, its terminating NUL included.
  const size_t limit = static_cast<size_t>(::sysconf(_SC_PAGESIZE)) - 1;
  std::string options = OverlayOptions(lowers_top_first, upper, work);
  if (options.size() <= limit) {
    if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
      return MountError(target, errno, lowers_top_first.size());
    }
    return absl::OkStatus();
  }

  // Too long: name the lower dirs relative to their common parent, as containerd does.
  fs::path parent = CommonParent(lowers_top_first);
  std::vector<std::string> relative;
  for (const std::string& lower : lowers_top_first) {
    relative.push_back(fs::path(lower).lexically_relative(parent).string());
  }
  options = OverlayOptions(relative, upper, work);
  if (options.size() > limit) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "mount overlay on %s: %d lower dirs need %d bytes of mount options even relative to "
        "%s; the kernel takes %d",
        target, lowers_top_first.size(), options.size(), parent.string(), limit));
  }
  // chdir changes the working folder of the whole process; a thread that unshares
  // its fs context has one of its own.
  absl::Status status;
  std::thread mounter([&] {
    if (::unshare(CLONE_FS) != 0) {
      status = ErrnoStatus("mount overlay: unshare(CLONE_FS)", errno);
    } else if (::chdir(parent.c_str()) != 0) {
      status = ErrnoStatus(reef::StrCat("mount overlay: chdir ", parent.string()), errno);
    } else if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
      status = MountError(target, errno, lowers_top_first.size());
    }
  });
  mounter.join();
  return status;
}

absl::Status Unmount(const std::string& target) {
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return absl::OkStatus();
  if (errno == EINVAL || errno == ENOENT) return absl::OkStatus();  // nothing mounted
  if (errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
    return absl::OkStatus();
  }
  return ErrnoStatus(reef::StrCat("unmount ", target), errno);
}

absl::StatusOr<std::unique_ptr<ContainerRootfs>> ContainerRootfs::Mount(
    const std::string& dir, const std::vector<std::string>& lowers_top_first) {
  std::unique_ptr<ContainerRootfs> rootfs(new ContainerRootfs(dir));
  const std::string work = dir + "/work";
  for (const std::string& folder : {rootfs->upper_, work, rootfs->rootfs_}) {
    RETURN_IF_ERROR(MakeDirs(folder, 0700));
  }
  if (!IsMountPoint(rootfs->rootfs_)) {
    RETURN_IF_ERROR(MountOverlay(lowers_top_first, rootfs->upper_, work, rootfs->rootfs_));
  }
  rootfs->mounted_ = true;
  return rootfs;
}

ContainerRootfs::~ContainerRootfs() { (void)Unmount(); }

absl::Status ContainerRootfs::Unmount() {
  if (!mounted_) return absl::OkStatus();
  RETURN_IF_ERROR(image::Unmount(rootfs_));
  mounted_ = false;
  return absl::OkStatus();
}

absl::Status ContainerRootfs::Remove(const std::string& dir) {
  const std::string rootfs = dir + "/rootfs";
  RETURN_IF_ERROR(image::Unmount(rootfs));
  if (IsMountPoint(rootfs)) {
    return absl::FailedPreconditionError(
        reef::StrCat("remove ", dir, ": ", rootfs, " is still a mount point"));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return absl::InternalError(reef::StrCat("remove ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace reef::agent::image
