#include "agent/image/layer_unpack.h"
#include "common/unique_fd.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <atomic>
#include <cerrno>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

// Set by tests, or once openat2 answers ENOSYS (kernels before 5.6, some seccomp
// profiles).
std::atomic<bool> openat2_unavailable{false};

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

using Fd = reef::UniqueFd;

using Parts = std::vector<std::string>;

std::string Join(const Parts& parts, size_t n) {
  return absl::StrJoin(parts.begin(), parts.begin() + n, "/");
}

// Splits an entry name into clean components ("./a//b/" -> a, b). Absolute names and
// ".." components are refused rather than cleaned: layers made by real tools have
// neither, and a name that needs them is an attack.
absl::StatusOr<Parts> CleanName(std::string_view name) {
  if (absl::StartsWith(ToAbsl(name), "/")) {
    return absl::InvalidArgumentError("absolute path");
  }
  Parts parts;
  for (absl::string_view part : absl::StrSplit(ToAbsl(name), '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return absl::InvalidArgumentError("'..' component leaves the destination");
    parts.emplace_back(part.data(), part.size());
  }
  return parts;
}

int Openat2(int dir, const std::string& path, uint64_t flags) {
  struct open_how how = {};
  how.flags = flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int fd;
  // EAGAIN: a concurrent rename raced the resolution; the kernel asks for a retry.
  for (int attempt = 0; attempt < 8; ++attempt) {
    fd = static_cast<int>(::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN) break;
  }
  return fd;
}

absl::Status OpenDirError(const std::string& path, int err, bool with_openat2) {
  switch (err) {
    case EXDEV:
      return absl::InvalidArgumentError(
          absl::StrFormat("%s resolves outside the destination through a symlink", path));
    case ELOOP:
      return absl::InvalidArgumentError(
          with_openat2 ? absl::StrFormat("%s: too many levels of symlinks", path)
                       : absl::StrFormat("%s goes through a symlink (not followed on kernels "
                                         "without openat2)", path));
    case ENOTDIR:
      return absl::InvalidArgumentError(absl::StrFormat("%s is not a folder", path));
    default:
      return ErrnoStatus(reef::StrCat("open ", path), err);
  }
}

enum class Last { kFollow, kNoFollow };

// Opens the folder named by the first n parts, below root and never outside it:
// openat2 with RESOLVE_BENEATH follows symlinks only while they stay inside; without
// openat2 every component is opened with O_NOFOLLOW, so any symlink is refused.
// create: make missing folders (0755) on the way.
absl::StatusOr<Fd> OpenDir(int root, const Parts& parts, size_t n, bool create,
                           Last last = Last::kFollow) {
  if (n == 0) {
    int fd = ::fcntl(root, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return ErrnoStatus("dup", errno);
    return Fd(fd);
  }
  const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  std::string path = Join(parts, n);
  if (!openat2_unavailable.load()) {
    const int last_flags = flags | (last == Last::kNoFollow ? O_NOFOLLOW : 0);
    int fd = Openat2(root, path, last_flags);
    if (fd >= 0) return Fd(fd);
    if (errno != ENOSYS) {
      if (errno != ENOENT || !create) return OpenDirError(path, errno, true);
      ASSIGN_OR_RETURN(Fd parent, OpenDir(root, parts, n - 1, create));
      if (::mkdirat(parent.get(), parts[n - 1].c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(reef::StrCat("mkdir ", path), errno);
      }
      fd = Openat2(root, path, last_flags);
      if (fd < 0) return OpenDirError(path, errno, true);
      return Fd(fd);
    }
    openat2_unavailable.store(true);
  }
  Fd current(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (current.get() < 0) return ErrnoStatus("dup", errno);
  for (size_t i = 0; i < n; ++i) {
    const char* part = parts[i].c_str();
    int fd = ::openat(current.get(), part, flags | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(current.get(), part, 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(reef::StrCat("mkdir ", Join(parts, i + 1)), errno);
      }
      fd = ::openat(current.get(), part, flags | O_NOFOLLOW);
    }
    if (fd < 0) return OpenDirError(Join(parts, i + 1), errno, false);
    current = Fd(fd);
  }
  return current;
}

// Removes the tree `name` in dir without following any symlink.
absl::Status RemoveTree(int dir, const std::string& name) {
  int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", name), errno);
  DIR* listing = ::fdopendir(fd);
  if (listing == nullptr) {
    ::close(fd);
    return ErrnoStatus(reef::StrCat("list ", name), errno);
  }
  absl::Status status;
  while (struct dirent* child = ::readdir(listing)) {
    std::string child_name = child->d_name;
    if (child_name == "." || child_name == "..") continue;
    struct stat st;
    if (::fstatat(fd, child->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      status = ErrnoStatus(reef::StrCat("stat ", child_name), errno);
    } else if (S_ISDIR(st.st_mode)) {
      status = RemoveTree(fd, child_name);
    } else if (::unlinkat(fd, child->d_name, 0) != 0) {
      status = ErrnoStatus(reef::StrCat("remove ", child_name), errno);
    }
    if (!status.ok()) break;
  }
  ::closedir(listing);
  RETURN_IF_ERROR(status);
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0) {
    return ErrnoStatus(reef::StrCat("remove ", name), errno);
  }
  return absl::OkStatus();
}

// Makes room for a new entry `name` in dir, as tar does when an entry repeats: removes
// what is there, except a folder when keep_dir is set. Returns whether a folder stays.
absl::StatusOr<bool> ClearName(int dir, const std::string& name, bool keep_dir) {
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus(reef::StrCat("stat ", name), errno);
  }
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) return true;
    RETURN_IF_ERROR(RemoveTree(dir, name));
  } else if (::unlinkat(dir, name.c_str(), 0) != 0) {
    return ErrnoStatus(reef::StrCat("remove ", name), errno);
  }
  return false;
}

struct Meta {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
  struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};  // atime, mtime
};

Meta MetaOf(archive_entry* entry) {
  Meta meta;
  meta.uid = static_cast<uid_t>(archive_entry_uid(entry));
  meta.gid = static_cast<gid_t>(archive_entry_gid(entry));
  meta.mode = archive_entry_perm(entry) & 07777;
  if (archive_entry_mtime_is_set(entry)) {
    meta.times[1] = {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
    meta.times[0] = meta.times[1];
  }
  if (archive_entry_atime_is_set(entry)) {
    meta.times[0] = {archive_entry_atime(entry), archive_entry_atime_nsec(entry)};
  }
  return meta;
}

// For what must not be opened: symlinks (no mode of their own) and device nodes.
absl::Status SetMetaAt(int dir, const std::string& name, const Meta& meta, bool privileged,
                       bool is_symlink) {
  const char* path = name.c_str();
  if (privileged && ::fchownat(dir, path, meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("chown", errno);
  }
  if (!is_symlink && ::fchmodat(dir, path, meta.mode, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("chmod", errno);
  }
  if (::utimensat(dir, path, meta.times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("set times", errno);
  }
  return absl::OkStatus();
}

// Applies the entry's xattrs where the filesystem and our privileges allow (trusted.*
// needs root); trusted.overlay.* is never taken from a layer.
absl::Status SetXattrs(int fd, archive_entry* entry) {
  const char* name;
  const void* value;
  size_t size;
  archive_entry_xattr_reset(entry);
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    if (absl::StartsWith(name, ToAbsl(kOverlayXattrPrefix))) continue;
    if (::fsetxattr(fd, name, value, size, 0) != 0 && errno != EPERM && errno != ENOTSUP) {
      return ErrnoStatus(reef::StrCat("set xattr ", name), errno);
    }
  }
  return absl::OkStatus();
}

// Owner first: chown clears setuid bits and security.capability, which the mode and
// the xattrs must keep.
absl::Status SetMeta(int fd, const Meta& meta, bool privileged, archive_entry* xattrs = nullptr) {
  if (privileged && ::fchown(fd, meta.uid, meta.gid) != 0) return ErrnoStatus("chown", errno);
  if (::fchmod(fd, meta.mode) != 0) return ErrnoStatus("chmod", errno);
  if (xattrs != nullptr) RETURN_IF_ERROR(SetXattrs(fd, xattrs));
  if (::futimens(fd, meta.times) != 0) return ErrnoStatus("set times", errno);
  return absl::OkStatus();
}

class Unpacker {
 public:
  explicit Unpacker(const ApplyOptions& options) : options_(options) {}
  Unpacker(const Unpacker&) = delete;
  Unpacker& operator=(const Unpacker&) = delete;
  ~Unpacker() {
    if (archive_ != nullptr) archive_read_free(archive_);
  }

  absl::Status Run(const std::string& layer_path, const std::string& dest_dir);
  const ApplyStats& stats() const { return stats_; }

 private:
  absl::Status ArchiveError(std::string_view what) const {
    const char* message = archive_error_string(archive_);
    return absl::DataLossError(
        reef::StrCat(what, ": ", message != nullptr ? message : "libarchive error"));
  }

  absl::Status ApplyEntry(archive_entry* entry, const std::string& name);
  absl::Status Whiteout(int dir, const std::string& base);
  absl::Status Hardlink(int dir, const std::string& base, const char* target);
  absl::Status WriteFile(int dir, const std::string& base, archive_entry* entry);
  absl::Status MakeDir(int dir, const std::string& base, Parts parts, archive_entry* entry);
  absl::Status MakeSymlink(int dir, const std::string& base, archive_entry* entry);
  absl::Status MakeNode(int dir, const std::string& base, archive_entry* entry);
  absl::Status CheckBytes(uint64_t more) const;
  absl::Status FinishDirs();

  // Folders get their mode, owner and times once everything inside them is written:
  // a read-only folder must still take its children, and writing them moves mtime.
  struct PendingDir {
    Parts parts;
    Meta meta;
  };

  ApplyOptions options_;
  ApplyStats stats_;
  uint64_t entries_ = 0;
  archive* archive_ = nullptr;
  Fd layer_;
  Fd root_;
  std::vector<PendingDir> dirs_;
};

absl::Status Unpacker::Run(const std::string& layer_path, const std::string& dest_dir) {
  root_ = Fd(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root_.get() < 0) return ErrnoStatus(reef::StrCat("open ", dest_dir), errno);
  layer_ = Fd(::open(layer_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (layer_.get() < 0) return ErrnoStatus("open", errno);

  archive_ = archive_read_new();
  if (archive_ == nullptr) return absl::ResourceExhaustedError("archive_read_new failed");
  // Only what OCI layers use. ARCHIVE_WARN would mean an external program: fine.
  if (archive_read_support_filter_gzip(archive_) == ARCHIVE_FATAL ||
      archive_read_support_filter_zstd(archive_) == ARCHIVE_FATAL ||
      archive_read_support_format_tar(archive_) != ARCHIVE_OK) {
    return ArchiveError("set up libarchive");
  }
  if (archive_read_open_fd(archive_, layer_.get(), 64 * 1024) != ARCHIVE_OK) {
    return ArchiveError("read");
  }
  while (true) {
    archive_entry* entry;
    int r = archive_read_next_header(archive_, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return ArchiveError(absl::StrFormat("read entry %d", entries_ + 1));
    if (++entries_ > options_.max_entries) {
      return absl::InvalidArgumentError(
          absl::StrFormat("more than the limit of %d entries", options_.max_entries));
    }
    const char* raw = archive_entry_pathname(entry);
    std::string name = raw != nullptr ? raw : "";
    RETURN_IF_ERROR(Annotate(ApplyEntry(entry, name), absl::StrFormat("entry \"%s\"", name)));
  }
  return FinishDirs();
}

absl::Status Unpacker::ApplyEntry(archive_entry* entry, const std::string& name) {
  ASSIGN_OR_RETURN(Parts parts, CleanName(name));
  if (parts.empty()) {
    if (archive_entry_filetype(entry) != AE_IFDIR) {
      return absl::InvalidArgumentError("names the destination itself but is not a folder");
    }
    dirs_.push_back({{}, MetaOf(entry)});
    return absl::OkStatus();
  }
  const std::string base = parts.back();
  ASSIGN_OR_RETURN(Fd dir, OpenDir(root_.get(), parts, parts.size() - 1, /*create=*/true));
  if (absl::StartsWith(base, ToAbsl(kWhiteoutPrefix))) return Whiteout(dir.get(), base);
  if (const char* target = archive_entry_hardlink(entry)) {
    return Hardlink(dir.get(), base, target);
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      return WriteFile(dir.get(), base, entry);
    case AE_IFDIR:
      return MakeDir(dir.get(), base, std::move(parts), entry);
    case AE_IFLNK:
      return MakeSymlink(dir.get(), base, entry);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      return MakeNode(dir.get(), base, entry);
    default:  // sockets mean nothing in an image
      ++stats_.skipped;
      return absl::OkStatus();
  }
}

absl::Status Unpacker::Whiteout(int dir, const std::string& base) {
  if (base == kOpaqueMarker) {
    if (::fsetxattr(dir, kOpaqueXattr, "y", 1, 0) != 0) {
      return ErrnoStatus("mark folder opaque (needs CAP_SYS_ADMIN)", errno);
    }
    ++stats_.whiteouts;
    return absl::OkStatus();
  }
  if (absl::StartsWith(base, ToAbsl(kWhiteoutMetaPrefix))) {
    ++stats_.skipped;
    return absl::OkStatus();
  }
  std::string hidden = base.substr(kWhiteoutPrefix.size());
  if (hidden.empty() || hidden == "." || hidden == "..") {
    return absl::InvalidArgumentError("whiteout names no file");
  }
  RETURN_IF_ERROR(ClearName(dir, hidden, /*keep_dir=*/false).status());
  if (::mknodat(dir, hidden.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
    return ErrnoStatus("create whiteout device (needs CAP_MKNOD)", errno);
  }
  ++stats_.whiteouts;
  return absl::OkStatus();
}

absl::Status Unpacker::Hardlink(int dir, const std::string& base, const char* target) {
  auto target_parts = CleanName(target);
  if (!target_parts.ok() || target_parts->empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hardlink target \"%s\": %s", target,
        target_parts.ok() ? "the destination itself" : target_parts.status().message()));
  }
  const Parts& parts = *target_parts;
  ASSIGN_OR_RETURN(Fd target_dir, OpenDir(root_.get(), parts, parts.size() - 1, false));
  const char* target_base = parts.back().c_str();
  struct stat target_st, existing_st;
  if (::fstatat(target_dir.get(), target_base, &target_st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(absl::StrFormat("hardlink target \"%s\"", target), errno);
  }
  if (S_ISDIR(target_st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrFormat("hardlink target \"%s\" is a folder", target));
  }
  if (::fstatat(dir, base.c_str(), &existing_st, AT_SYMLINK_NOFOLLOW) == 0 &&
      existing_st.st_dev == target_st.st_dev && existing_st.st_ino == target_st.st_ino) {
    return absl::OkStatus();  // already that file
  }
  RETURN_IF_ERROR(ClearName(dir, base, /*keep_dir=*/false).status());
  // Flags 0: a symlink target is linked itself, never followed.
  if (::linkat(target_dir.get(), target_base, dir, base.c_str(), 0) != 0) {
    return ErrnoStatus("link", errno);
  }
  ++stats_.files;
  return absl::OkStatus();
}

absl::Status Unpacker::CheckBytes(uint64_t more) const {
  if (stats_.bytes + more <= options_.max_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(
      SizeLimitMessage("layer content", stats_.bytes + more, options_.max_bytes));
}

absl::Status Unpacker::WriteFile(int dir, const std::string& base, archive_entry* entry) {
  const bool size_known = archive_entry_size_is_set(entry);
  const uint64_t size = size_known ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
  RETURN_IF_ERROR(CheckBytes(size));
  RETURN_IF_ERROR(ClearName(dir, base, /*keep_dir=*/false).status());
  Fd fd(::openat(dir, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoStatus("create", errno);
  uint64_t written = 0;
  while (true) {
    const void* block;
    size_t length;
    la_int64_t offset;
    int r = archive_read_data_block(archive_, &block, &length, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return ArchiveError("read content");
    written += length;
    RETURN_IF_ERROR(CheckBytes(written));
    // Blocks carry their offset: sparse files skip their holes.
    const char* data = static_cast<const char*>(block);
    while (length > 0) {
      ssize_t n = ::pwrite(fd.get(), data, length, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", errno);
      }
      data += n;
      offset += n;
      length -= static_cast<size_t>(n);
    }
  }
  // A trailing hole has no block: the size comes from the header.
  if (size_known && ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return ErrnoStatus("truncate", errno);
  }
  stats_.bytes += written;
  ++stats_.files;
  return SetMeta(fd.get(), MetaOf(entry), options_.privileged, entry);
}

absl::Status Unpacker::MakeDir(int dir, const std::string& base, Parts parts,
                               archive_entry* entry) {
  ASSIGN_OR_RETURN(bool exists, ClearName(dir, base, /*keep_dir=*/true));
  if (!exists && ::mkdirat(dir, base.c_str(), 0700) != 0) return ErrnoStatus("mkdir", errno);
  Fd fd(::openat(dir, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", errno);
  RETURN_IF_ERROR(SetXattrs(fd.get(), entry));
  dirs_.push_back({std::move(parts), MetaOf(entry)});
  ++stats_.files;
  return absl::OkStatus();
}

// The target is stored as is, absolute or climbing: it is data inside the container,
// and this unpacker never follows a symlink out of the destination.
absl::Status Unpacker::MakeSymlink(int dir, const std::string& base, archive_entry* entry) {
  const char* target = archive_entry_symlink(entry);
  if (target == nullptr) return absl::InvalidArgumentError("symlink without a target");
  RETURN_IF_ERROR(ClearName(dir, base, /*keep_dir=*/false).status());
  if (::symlinkat(target, dir, base.c_str()) != 0) return ErrnoStatus("symlink", errno);
  ++stats_.files;
  return SetMetaAt(dir, base, MetaOf(entry), options_.privileged, /*is_symlink=*/true);
}

absl::Status Unpacker::MakeNode(int dir, const std::string& base, archive_entry* entry) {
  const mode_t type = archive_entry_filetype(entry);
  if (type != AE_IFIFO && !options_.privileged) {
    ++stats_.skipped;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(ClearName(dir, base, /*keep_dir=*/false).status());
  Meta meta = MetaOf(entry);
  if (::mknodat(dir, base.c_str(), type | meta.mode, archive_entry_rdev(entry)) != 0) {
    return ErrnoStatus("mknod", errno);
  }
  ++stats_.files;
  return SetMetaAt(dir, base, meta, options_.privileged, /*is_symlink=*/false);
}

absl::Status Unpacker::FinishDirs() {
  // In layer order, so that a repeated folder entry wins as tar's last one does.
  for (const PendingDir& pending : dirs_) {
    auto fd = OpenDir(root_.get(), pending.parts, pending.parts.size(), false, Last::kNoFollow);
    if (!fd.ok()) {
      // A later entry replaced the folder: nothing of this entry is left to finish.
      if (absl::IsInvalidArgument(fd.status()) || absl::IsNotFound(fd.status())) continue;
      return Annotate(fd.status(), absl::StrFormat("finish folder \"%s\"",
                                                   Join(pending.parts, pending.parts.size())));
    }
    RETURN_IF_ERROR(Annotate(SetMeta(fd->get(), pending.meta, options_.privileged),
                             absl::StrFormat("finish folder \"%s\"",
                                             Join(pending.parts, pending.parts.size()))));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ApplyStats> ApplyLayer(const std::string& layer_path, const std::string& dest_dir,
                                      const ApplyOptions& options) {
  Unpacker unpacker(options);
  RETURN_IF_ERROR(
      Annotate(unpacker.Run(layer_path, dest_dir), reef::StrCat("apply layer ", layer_path)));
  return unpacker.stats();
}

void DisableOpenat2ForTest(bool disable) { openat2_unavailable.store(disable); }

}  // namespace reef::agent::image
