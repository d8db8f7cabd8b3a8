#include "agent/volumes/host_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/files.h"

namespace reef::agent::volumes {
namespace {

absl::Status Failed(const std::string& volume, const std::string& what) {
  return absl::FailedPreconditionError(
      reef::StrCat("volume \"", volume, "\": hostPath type check failed: ", what));
}

absl::Status Annotated(const std::string& volume, const absl::Status& s) {
  return reef::Annotate(s, reef::StrCat("volume \"", volume, "\": hostPath"));
}

}  // namespace

bool IsCleanAbsolute(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  if (path == "/") return true;
  if (path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string_view part(path.data() + start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

absl::Status CheckHostPath(const std::string& volume, const std::string& path,
                           const std::string& type) {
  if (!IsCleanAbsolute(path)) {
    return absl::InvalidArgumentError(reef::StrCat(
        "volume \"", volume, "\": hostPath ", path, ": must be an absolute path without . or .."));
  }
  if (type.empty()) return absl::OkStatus();

  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) {
    return Annotated(volume, ErrnoStatus(reef::StrCat("stat ", path), errno));
  }
  if (!exists && type == "DirectoryOrCreate") {
    std::string parent = std::filesystem::path(path).parent_path().string();
    RETURN_IF_ERROR(Annotated(volume, MakeDirs(parent, 0755)));
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return Annotated(volume, ErrnoStatus(reef::StrCat("mkdir ", path), errno));
    }
    if (::chmod(path.c_str(), 0755) != 0) {  // not the agent's umask
      return Annotated(volume, ErrnoStatus(reef::StrCat("chmod ", path), errno));
    }
    return absl::OkStatus();
  }
  if (!exists && type == "FileOrCreate") {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
      return Annotated(volume, ErrnoStatus(reef::StrCat("create ", path), errno));
    }
    if (fd >= 0) {
      int rc = ::fchmod(fd, 0644);
      int err = errno;
      ::close(fd);
      if (rc != 0) return Annotated(volume, ErrnoStatus(reef::StrCat("chmod ", path), err));
    }
    return absl::OkStatus();
  }

  auto want = [&](bool ok, std::string_view what) -> absl::Status {
    if (!exists) return Failed(volume, reef::StrCat(path, " does not exist"));
    if (!ok) return Failed(volume, reef::StrCat(path, " is not ", what));
    return absl::OkStatus();
  };
  if (type == "Directory" || type == "DirectoryOrCreate") return want(S_ISDIR(st.st_mode), "a directory");
  if (type == "File" || type == "FileOrCreate") return want(S_ISREG(st.st_mode), "a file");
  if (type == "Socket") return want(S_ISSOCK(st.st_mode), "a socket file");
  if (type == "CharDevice") return want(S_ISCHR(st.st_mode), "a character device");
  if (type == "BlockDevice") return want(S_ISBLK(st.st_mode), "a block device");
  return absl::InvalidArgumentError(
      reef::StrCat("volume \"", volume, "\": hostPath type \"", type, "\" is not supported"));
}

}  // namespace reef::agent::volumes
