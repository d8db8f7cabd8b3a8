#include "agent/volumes/atomic_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <set>
#include <vector>

#include "common/files.h"
#include "common/unique_fd.h"

namespace reef::agent::volumes {
namespace {

namespace fs = std::filesystem;

constexpr char kDataLink[] = "..data";
constexpr char kDataTmpLink[] = "..data_tmp";
constexpr size_t kMaxPathLength = 4096;

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string TopLevel(const std::string& path) { return path.substr(0, path.find('/')); }

absl::StatusOr<std::string> ReadAll(const std::string& path, size_t expected) {
  reef::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  std::string out(expected, '\0');
  size_t got = 0;
  while (got < expected) {
    ssize_t n = ::read(fd.get(), out.data() + got, expected - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(reef::StrCat("read ", path), errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

// Whether the version folder `version` holds exactly `payload`: reads only, so an
// unchanged volume costs no writes.
bool Holds(const std::string& version, const Payload& payload) {
  std::error_code ec;
  size_t files = 0;
  for (fs::recursive_directory_iterator it(version, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) return false;
    if (S_ISDIR(st.st_mode)) continue;
    if (!S_ISREG(st.st_mode)) return false;
    auto want = payload.find(it->path().lexically_relative(version).string());
    if (want == payload.end()) return false;
    if (static_cast<int>(st.st_mode & 07777) != want->second.mode) return false;
    if (static_cast<size_t>(st.st_size) != want->second.data.size()) return false;
    auto data = ReadAll(it->path().string(), want->second.data.size());
    if (!data.ok() || *data != want->second.data) return false;
    ++files;
  }
  return !ec && files == payload.size();
}

// mkdir with an exact mode: the agent's umask must not make folders unreadable to
// containers that run as another user.
absl::Status MakeDir(const std::string& path, int mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return ErrnoStatus(reef::StrCat("mkdir ", path), errno);
  }
  if (::chmod(path.c_str(), mode) != 0) return ErrnoStatus(reef::StrCat("chmod ", path), errno);
  return absl::OkStatus();
}

absl::Status SyncPath(const std::string& path) {
  reef::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY));
  if (fd.get() < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(reef::StrCat("fsync ", path), errno);
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const FileProjection& file) {
  reef::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoStatus(reef::StrCat("create ", path), errno);
  size_t done = 0;
  while (done < file.data.size()) {
    ssize_t n = ::write(fd.get(), file.data.data() + done, file.data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(reef::StrCat("write ", path), errno);
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), file.mode) != 0) return ErrnoStatus(reef::StrCat("chmod ", path), errno);
  // The ..data swap must never expose a file whose bytes a power cut lost.
  if (::fsync(fd.get()) != 0) return ErrnoStatus(reef::StrCat("fsync ", path), errno);
  return absl::OkStatus();
}

// "..2024_05_01_12_00_00.XXXXXX", as the kubelet names versions.
absl::StatusOr<std::string> MakeVersionDir(const std::string& dir) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.", &tm);
  std::string templ = reef::StrCat(dir, "/", stamp, "XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) return ErrnoStatus(reef::StrCat("mkdtemp ", templ), errno);
  if (::chmod(templ.c_str(), 0755) != 0) return ErrnoStatus(reef::StrCat("chmod ", templ), errno);
  return fs::path(templ).filename().string();
}

absl::Status WriteVersion(const std::string& version_dir, const Payload& payload) {
  for (const auto& [path, file] : payload) {
    std::vector<std::string> parts = Split(path);
    std::string cur = version_dir;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      cur += "/" + parts[i];
      RETURN_IF_ERROR(MakeDir(cur, 0755));
    }
    RETURN_IF_ERROR(WriteFile(reef::StrCat(version_dir, "/", path), file));
  }
  return SyncPath(version_dir);
}

// Points ..data at `version` in one rename.
absl::Status SwapData(const std::string& dir, const std::string& version) {
  const std::string tmp = reef::StrCat(dir, "/", kDataTmpLink);
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(reef::StrCat("unlink ", tmp), errno);
  if (::symlink(version.c_str(), tmp.c_str()) != 0) return ErrnoStatus(reef::StrCat("symlink ", tmp), errno);
  const std::string data = reef::StrCat(dir, "/", kDataLink);
  if (::rename(tmp.c_str(), data.c_str()) != 0) return ErrnoStatus(reef::StrCat("rename ", tmp), errno);
  return SyncPath(dir);
}

// Each top-level name of the payload is a link through ..data; links of names that
// left the payload go. Only links the writer made are touched.
absl::Status FixLinks(const std::string& dir, const Payload& payload) {
  std::set<std::string> names;
  for (const auto& [path, file] : payload) names.insert(TopLevel(path));
  for (const std::string& name : names) {
    const std::string link = reef::StrCat(dir, "/", name);
    const std::string target = reef::StrCat(kDataLink, "/", name);
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(link, ec))) {
      if (fs::read_symlink(link, ec) == target) continue;
    } else if (fs::exists(fs::symlink_status(link, ec))) {
      return absl::FailedPreconditionError(
          reef::StrCat(link, " exists and is not a link the volume writer made"));
    }
    if (::unlink(link.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(reef::StrCat("unlink ", link), errno);
    if (::symlink(target.c_str(), link.c_str()) != 0) return ErrnoStatus(reef::StrCat("symlink ", link), errno);
  }
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("..") || names.contains(name)) continue;
    std::error_code ec2;
    if (!e.is_symlink(ec2)) continue;
    if (fs::read_symlink(e.path(), ec2) != fs::path(reef::StrCat(kDataLink, "/", name))) continue;
    if (::unlink(e.path().c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(reef::StrCat("unlink ", e.path().string()), errno);
    }
  }
  if (ec) return absl::InternalError(reef::StrCat("list ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

// Removes every version folder but `keep`, including those an interrupted update
// left behind.
absl::Status RemoveOldVersions(const std::string& dir, const std::string& keep) {
  std::error_code ec;
  std::vector<fs::path> old;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    std::error_code ec2;
    if (name.starts_with("..") && name != keep && !e.is_symlink(ec2) && e.is_directory(ec2)) {
      old.push_back(e.path());
    }
  }
  if (ec) return absl::InternalError(reef::StrCat("list ", dir, ": ", ec.message()));
  for (const fs::path& p : old) {
    fs::remove_all(p, ec);  // does not follow links
    if (ec) return absl::InternalError(reef::StrCat("remove ", p.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePayloadPath(const std::string& path) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(reef::StrCat("path \"", path, "\": ", why));
  };
  if (path.empty()) return bad("must not be empty");
  if (path.size() > kMaxPathLength) return bad("is too long");
  if (path.front() == '/') return bad("must be relative");
  if (path.starts_with("..")) return bad("must not start with '..'");
  for (const std::string& part : Split(path)) {
    if (part == "..") return bad("must not contain '..'");
    if (part.empty() || part == ".") return bad("must not contain empty or '.' components");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> WriteAtomic(const std::string& dir, const Payload& payload) {
  for (const auto& [path, file] : payload) RETURN_IF_ERROR(ValidatePayloadPath(path));
  std::error_code ec;
  fs::path current = fs::read_symlink(reef::StrCat(dir, "/", kDataLink), ec);
  const std::string current_name = ec ? "" : current.string();
  bool valid_current = current_name.starts_with("..") &&
                       current_name.find('/') == std::string::npos &&
                       current_name != kDataLink && current_name != kDataTmpLink;

  if (valid_current && Holds(reef::StrCat(dir, "/", current_name), payload)) {
    // Repairs the links an interrupted update may have left; normally a no-op.
    RETURN_IF_ERROR(FixLinks(dir, payload));
    return false;
  }
  ASSIGN_OR_RETURN(std::string version, MakeVersionDir(dir));
  absl::Status written = WriteVersion(reef::StrCat(dir, "/", version), payload);
  if (!written.ok()) {
    fs::remove_all(reef::StrCat(dir, "/", version), ec);
    return written;
  }
  RETURN_IF_ERROR(SwapData(dir, version));
  RETURN_IF_ERROR(FixLinks(dir, payload));
  RETURN_IF_ERROR(RemoveOldVersions(dir, version));
  return true;
}

}  // namespace reef::agent::volumes
