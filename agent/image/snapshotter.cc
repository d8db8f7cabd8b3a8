#include "agent/image/snapshotter.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/files.h"
#include <nlohmann/json.hpp>

namespace reef::agent::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSha256Prefix = "sha256:";
constexpr char kMetaFile[] = "meta.json";
constexpr uint64_t kMaxMetaBytes = 64 * 1024;
// Deeper than any real image (Docker caps layers at 127); stops a corrupted cycle.
constexpr size_t kMaxChainLength = 1000;

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += absl::StrFormat("%02x", digest[i]);
  return hex;
}

// The hex part of a "sha256:<64 lowercase hex>" chain id: the snapshot's folder name,
// so nothing else may pass.
absl::StatusOr<std::string> HexOf(const std::string& chain_id) {
  std::string_view hex(chain_id);
  bool ok = absl::StartsWith(chain_id, ToAbsl(kSha256Prefix));
  if (ok) hex.remove_prefix(kSha256Prefix.size());
  ok = ok && hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
         return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
       });
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrFormat("chain id \"%s\" is not sha256:<64 hex digits>", chain_id));
  }
  return std::string(hex);
}

// Disk usage as du counts it: allocated blocks, each inode once.
absl::Status Measure(const std::string& path, SnapshotInfo& info) {
  std::set<std::pair<dev_t, ino_t>> linked;
  auto add = [&](const fs::path& p) -> absl::Status {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return ErrnoStatus(reef::StrCat("stat ", p.string()), errno);
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !linked.insert({st.st_dev, st.st_ino}).second) {
      return absl::OkStatus();
    }
    info.usage_bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    ++info.inodes;
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(add(path));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    RETURN_IF_ERROR(add(it->path()));
  }
  if (ec) return absl::InternalError(reef::StrCat("walk ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return absl::InternalError(reef::StrCat("remove ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& path, bool whole_filesystem) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  int r = whole_filesystem ? ::syncfs(fd) : ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (r != 0) return ErrnoStatus(reef::StrCat("sync ", path), err);
  return absl::OkStatus();
}

class SnapshotterImpl : public Snapshotter {
 public:
  SnapshotterImpl(std::string root, SnapshotterOptions options)
      : snapshots_(root + "/snapshots"), tmp_(root + "/tmp"), options_(std::move(options)) {}

  absl::Status Init();

  absl::StatusOr<std::string> Prepare(const std::string& chain_id,
                                      const std::string& parent_chain_id,
                                      const std::string& layer_blob_path) override;
  absl::StatusOr<std::vector<std::string>> LowerDirs(const std::string& top_chain_id) override;
  absl::StatusOr<SnapshotInfo> Stat(const std::string& chain_id) override;
  absl::StatusOr<std::vector<SnapshotInfo>> List() override;
  absl::Status Remove(const std::string& chain_id) override;

 private:
  // A Prepare that is unpacking; later callers for its chain id wait on done.
  struct InFlight {
    std::string parent;
    absl::Notification done;
    absl::StatusOr<std::string> result;  // written before done is notified
  };

  std::string DirOf(const std::string& hex) const { return reef::StrCat(snapshots_, "/", hex); }
  absl::StatusOr<SnapshotInfo> ReadMeta(const std::string& hex) const;
  bool Exists(const std::string& hex) const {
    struct stat st;
    return ::stat(reef::StrCat(DirOf(hex), "/", kMetaFile).c_str(), &st) == 0;
  }
  absl::StatusOr<std::string> Unpack(const std::string& chain_id, const std::string& hex,
                                     const std::string& parent, const std::string& blob);

  const std::string snapshots_;
  const std::string tmp_;
  const SnapshotterOptions options_;
  // Serialises the checks of Prepare (parent present) against Remove (no child).
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<InFlight>> in_flight_ ABSL_GUARDED_BY(mu_);
};

absl::Status SnapshotterImpl::Init() {
  RETURN_IF_ERROR(MakeDirs(snapshots_, 0700));
  RETURN_IF_ERROR(MakeDirs(tmp_, 0700));
  std::error_code ec;
  for (const auto& leftover : fs::directory_iterator(tmp_, ec)) {
    RETURN_IF_ERROR(RemoveAll(leftover.path().string()));
  }
  if (ec) return absl::InternalError(reef::StrCat("list ", tmp_, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<SnapshotInfo> SnapshotterImpl::ReadMeta(const std::string& hex) const {
  std::string path = reef::StrCat(DirOf(hex), "/", kMetaFile);
  auto text = ReadFileLimited(path, kMaxMetaBytes);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(reef::StrCat("snapshot sha256:", hex, " not found"));
    }
    return text.status();
  }
  try {
    nlohmann::json meta = nlohmann::json::parse(*text);
    SnapshotInfo info;
    info.chain_id = meta.at("chain_id").get<std::string>();
    info.parent = meta.at("parent").get<std::string>();
    info.usage_bytes = meta.at("usage_bytes").get<uint64_t>();
    info.inodes = meta.at("inodes").get<uint64_t>();
    info.path = reef::StrCat(DirOf(hex), "/fs");
    return info;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(reef::StrCat(path, ": ", e.what()));
  }
}

absl::StatusOr<std::string> SnapshotterImpl::Prepare(const std::string& chain_id,
                                                     const std::string& parent_chain_id,
                                                     const std::string& layer_blob_path) {
  const std::string context = reef::StrCat("prepare ", chain_id);
  auto hex = HexOf(chain_id);
  if (!hex.ok()) return Annotate(hex.status(), context);
  std::string parent_hex;
  if (!parent_chain_id.empty()) {
    auto checked = HexOf(parent_chain_id);
    if (!checked.ok()) return Annotate(checked.status(), context);
    parent_hex = *checked;
  }
  std::shared_ptr<InFlight> flight;
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    if (Exists(*hex)) return reef::StrCat(DirOf(*hex), "/fs");
    if (!parent_hex.empty() && !Exists(parent_hex)) {
      return absl::FailedPreconditionError(
          reef::StrCat(context, ": parent ", parent_chain_id, " is not prepared"));
    }
    std::shared_ptr<InFlight>& slot = in_flight_[chain_id];
    if (slot == nullptr) {
      slot = std::make_shared<InFlight>();
      slot->parent = parent_chain_id;
      first = true;
    }
    flight = slot;
  }
  if (!first) {
    flight->done.WaitForNotification();
    return flight->result;
  }
  auto result = Unpack(chain_id, *hex, parent_chain_id, layer_blob_path);
  flight->result = result.ok() ? result : Annotate(result.status(), context);
  {
    absl::MutexLock lock(&mu_);
    in_flight_.erase(chain_id);
  }
  flight->done.Notify();
  return flight->result;
}

absl::StatusOr<std::string> SnapshotterImpl::Unpack(const std::string& chain_id,
                                                    const std::string& hex,
                                                    const std::string& parent,
                                                    const std::string& blob) {
  if (options_.before_unpack_for_test) options_.before_unpack_for_test(chain_id);
  std::string work = reef::StrCat(tmp_, "/", hex, "-XXXXXX");
  if (::mkdtemp(work.data()) == nullptr) return ErrnoStatus(reef::StrCat("mkdtemp ", work), errno);
  auto unpacked = [&]() -> absl::Status {
    SnapshotInfo info;
    std::string fs_dir = work + "/fs";
    if (::mkdir(fs_dir.c_str(), 0755) != 0) return ErrnoStatus(reef::StrCat("mkdir ", fs_dir), errno);
    RETURN_IF_ERROR(ApplyLayer(blob, fs_dir, options_.apply).status());
    RETURN_IF_ERROR(Measure(fs_dir, info));
    nlohmann::json meta = {{"chain_id", chain_id},
                           {"parent", parent},
                           {"usage_bytes", info.usage_bytes},
                           {"inodes", info.inodes}};
    RETURN_IF_ERROR(WriteFileAtomic(reef::StrCat(work, "/", kMetaFile), meta.dump(), 0644));
    // One syncfs instead of an fsync per file: the layer is durable before it is
    // visible under snapshots/.
    return SyncDir(work, /*whole_filesystem=*/true);
  }();
  if (unpacked.ok()) {
    std::string dir = DirOf(hex);
    if (::rename(work.c_str(), dir.c_str()) != 0) {
      // EEXIST/ENOTEMPTY: another process sharing the root won; use its copy.
      if (errno != EEXIST && errno != ENOTEMPTY) unpacked = ErrnoStatus("rename into place", errno);
    } else {
      unpacked = SyncDir(snapshots_, /*whole_filesystem=*/false);
    }
  }
  absl::Status cleaned = RemoveAll(work);  // a no-op after a successful rename
  RETURN_IF_ERROR(unpacked);
  RETURN_IF_ERROR(cleaned);
  return reef::StrCat(DirOf(hex), "/fs");
}

absl::StatusOr<SnapshotInfo> SnapshotterImpl::Stat(const std::string& chain_id) {
  ASSIGN_OR_RETURN(std::string hex, HexOf(chain_id));
  return ReadMeta(hex);
}

absl::StatusOr<std::vector<std::string>> SnapshotterImpl::LowerDirs(
    const std::string& top_chain_id) {
  std::vector<std::string> dirs;
  for (std::string current = top_chain_id; !current.empty();) {
    if (dirs.size() == kMaxChainLength) {
      return absl::DataLossError(absl::StrFormat(
          "lower dirs of %s: chain longer than %d snapshots", top_chain_id, kMaxChainLength));
    }
    auto info = Stat(current);
    if (!info.ok()) return Annotate(info.status(), reef::StrCat("lower dirs of ", top_chain_id));
    dirs.push_back(info->path);
    current = info->parent;
  }
  return dirs;
}

absl::StatusOr<std::vector<SnapshotInfo>> SnapshotterImpl::List() {
  std::vector<SnapshotInfo> infos;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshots_, ec)) {
    ASSIGN_OR_RETURN(SnapshotInfo info, ReadMeta(entry.path().filename().string()));
    infos.push_back(std::move(info));
  }
  if (ec) return absl::InternalError(reef::StrCat("list ", snapshots_, ": ", ec.message()));
  std::sort(infos.begin(), infos.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.chain_id < b.chain_id; });
  return infos;
}

absl::Status SnapshotterImpl::Remove(const std::string& chain_id) {
  const std::string context = reef::StrCat("remove snapshot ", chain_id);
  auto hex = HexOf(chain_id);
  if (!hex.ok()) return Annotate(hex.status(), context);
  std::string doomed = reef::StrCat(tmp_, "/removing-", *hex, "-XXXXXX");
  {
    absl::MutexLock lock(&mu_);
    if (!Exists(*hex)) return absl::NotFoundError(reef::StrCat(context, ": not found"));
    auto infos = List();
    if (!infos.ok()) return Annotate(infos.status(), context);
    for (const SnapshotInfo& info : *infos) {
      if (info.parent == chain_id) {
        return absl::FailedPreconditionError(
            reef::StrCat(context, ": it is the parent of ", info.chain_id));
      }
    }
    for (const auto& [child, flight] : in_flight_) {
      if (flight->parent == chain_id) {
        return absl::FailedPreconditionError(
            reef::StrCat(context, ": ", child, " is being prepared on it"));
      }
    }
    // Out of snapshots/ in one step, so that a crash mid-removal leaves only a
    // leftover that the next Open clears.
    if (::mkdtemp(doomed.data()) == nullptr ||
        ::rename(DirOf(*hex).c_str(), doomed.c_str()) != 0) {
      return ErrnoStatus(context, errno);
    }
  }
  return Annotate(RemoveAll(doomed), context);
}

}  // namespace

std::string ChainId(std::string_view parent_chain_id, std::string_view diff_id) {
  if (parent_chain_id.empty()) return std::string(diff_id);
  return reef::StrCat(kSha256Prefix, Sha256Hex(reef::StrCat(parent_chain_id, " ", diff_id)));
}

absl::StatusOr<std::unique_ptr<Snapshotter>> Snapshotter::Open(const std::string& root,
                                                               SnapshotterOptions options) {
  auto snapshotter = std::make_unique<SnapshotterImpl>(root, std::move(options));
  RETURN_IF_ERROR(Annotate(snapshotter->Init(), reef::StrCat("open snapshotter ", root)));
  return snapshotter;
}

}  // namespace reef::agent::image
