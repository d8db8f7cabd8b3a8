#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_format.h"

namespace reef {
namespace {

absl::StatusCode CodeForErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
      return absl::StatusCode::kPermissionDenied;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case ENOSPC:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

std::string SizeLimitMessage(std::string_view name, uint64_t size, uint64_t limit) {
  std::string have = HumanBytes(size), max = HumanBytes(limit);
  if (have == max) {
    have = absl::StrFormat("%d bytes", size);
    max = absl::StrFormat("%d bytes", limit);
  }
  std::string prefix = name.empty() ? "" : absl::StrFormat("%s: ", name);
  return absl::StrFormat("%s%s is larger than the %s limit", prefix, have, max);
}

absl::Status ErrnoStatus(std::string_view what, int err) {
  return absl::Status(CodeForErrno(err), reef::StrCat(what, ": ", std::strerror(err)));
}

std::string HumanBytes(uint64_t n) {
  if (n < 1024) return absl::StrFormat("%d B", n);
  if (n < 1024 * 1024) return absl::StrFormat("%.1f KiB", n / 1024.0);
  if (n < 1024ull * 1024 * 1024) return absl::StrFormat("%.1f MiB", n / (1024.0 * 1024));
  return absl::StrFormat("%.1f GiB", n / (1024.0 * 1024 * 1024));
}

absl::StatusOr<std::string> ReadFdLimited(int fd, std::string_view name, uint64_t max_bytes) {
  std::string out;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(reef::StrCat("read ", name), errno);
    }
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > max_bytes) {
      // Keep counting without keeping the bytes, so the message gives the real size.
      uint64_t total = out.size();
      out.clear();
      while ((n = ::read(fd, buf, sizeof buf)) > 0) total += n;
      return absl::InvalidArgumentError(SizeLimitMessage(name, total, max_bytes));
    }
  }
  return out;
}

absl::StatusOr<std::string> ReadFileLimited(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return absl::InvalidArgumentError(SizeLimitMessage(path, st.st_size, max_bytes));
  }
  auto content = ReadFdLimited(fd, path, max_bytes);
  ::close(fd);
  return content;
}

absl::Status WriteFileAtomic(const std::string& path, std::string_view content, int mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(reef::StrCat("create ", tmp), errno);
  ::fchmod(fd, mode);  // O_CREAT's mode is filtered by the umask; we mean this one
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(reef::StrCat("write ", tmp), err);
    }
    done += n;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return ErrnoStatus(reef::StrCat("sync ", tmp), errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(reef::StrCat("rename ", tmp), errno);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

bool IsMountPoint(const std::string& path) {
  struct stat self, parent;
  if (::lstat(path.c_str(), &self) != 0 || !S_ISDIR(self.st_mode)) return false;
  if (::stat((path + "/..").c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

absl::Status MakeDirs(const std::string& path, int mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path cur;
  for (const auto& part : p) {
    cur /= part;
    if (std::filesystem::exists(cur, ec)) continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus(reef::StrCat("mkdir ", cur.string()), errno);
    }
  }
  return absl::OkStatus();
}

}  // namespace reef
