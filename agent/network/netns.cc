#include "agent/network/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "common/files.h"

namespace reef::agent::network {
namespace {

// From linux/magic.h, which not every libc ships.
constexpr long kNsfsMagic = 0x6e736673;

}  // namespace

absl::Status MakeSharedMountDir(const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir, 0755));
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return absl::OkStatus();
  if (errno != EINVAL) return ErrnoStatus(reef::StrCat("make ", dir, " a shared mount"), errno);
  // EINVAL: not a mount point yet.
  if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0) {
    return ErrnoStatus(reef::StrCat("bind-mount ", dir, " onto itself"), errno);
  }
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    return ErrnoStatus(reef::StrCat("make ", dir, " a shared mount"), errno);
  }
  return absl::OkStatus();
}

absl::Status CreateNetns(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(reef::StrCat("create ", path), errno);
  ::close(fd);
  absl::Status status;
  // unshare(CLONE_NEWNET) moves only the calling thread; a thread that ends right after
  // the bind mount leaves the rest of the process where it was.
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      status = ErrnoStatus("unshare(CLONE_NEWNET)", errno);
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      status = ErrnoStatus(reef::StrCat("bind-mount the new network namespace on ", path), errno);
    }
  });
  worker.join();
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

bool IsNetnsMount(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kNsfsMagic;
}

absl::Status RemoveNetns(const std::string& path) {
  // MNT_DETACH: a process still inside (a container being killed) must not make this
  // fail; the namespace goes away with its last user.
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoStatus(reef::StrCat("unmount ", path), errno);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(reef::StrCat("remove ", path), errno);
  }
  return absl::OkStatus();
}

}  // namespace reef::agent::network
