#include "agent/volumes/volume_manager.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <optional>

#include "agent/volumes/atomic_writer.h"
#include "agent/volumes/host_mounts.h"
#include "agent/volumes/host_path.h"
#include "agent/volumes/projection.h"
#include "api/manifest/quantity.h"
#include "common/files.h"
#include "common/log.h"

namespace reef::agent::volumes {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kPage = 4096;
// Room for two versions of the largest Secret Kubernetes allows (1 MiB) while the
// writer swaps them. Only a cap: tmpfs takes memory for what is written.
constexpr uint64_t kMinSecretTmpfsBytes = 4ull << 20;

bool IsPlainName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// mkdir with an exact mode when it creates the folder; an existing one is left alone.
absl::Status EnsureDir(const std::string& path, int mode) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(reef::StrCat(path, " exists and is not a folder"));
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoStatus(reef::StrCat("mkdir ", path), errno);
  }
  if (::chmod(path.c_str(), mode) != 0) return ErrnoStatus(reef::StrCat("chmod ", path), errno);
  return absl::OkStatus();
}

// The sum of the containers' memory limits when every container has one (the
// kubelet's default for a Memory emptyDir), else nullopt.
std::optional<uint64_t> PodMemoryLimit(const reef::v1::Pod& pod) {
  uint64_t sum = 0;
  for (const reef::v1::Container& c : pod.spec().containers()) {
    auto it = c.resources().limits().find("memory");
    if (it == c.resources().limits().end()) return std::nullopt;
    auto q = reef::manifest::Quantity::Parse(it->second);
    if (!q.ok() || q->Value() <= 0) return std::nullopt;
    sum += static_cast<uint64_t>(q->Value());
  }
  if (sum == 0) return std::nullopt;
  return sum;
}

uint64_t SecretTmpfsBytes(const Payload& payload) {
  uint64_t bytes = 0;
  for (const auto& [path, file] : payload) bytes += (file.data.size() + kPage - 1) / kPage * kPage + kPage;
  return std::max(kMinSecretTmpfsBytes, 2 * bytes + 16 * kPage);
}

absl::Status Volume(const std::string& name, const absl::Status& s) {
  return reef::Annotate(s, reef::StrCat("volume \"", name, "\""));
}

// Writes a secret volume's files on a tmpfs mounted on `dir` (mounted, or grown, first).
absl::Status WriteOnTmpfs(const std::string& dir, const Payload& payload) {
  RETURN_IF_ERROR(EnsureDir(dir, 0755));
  const uint64_t size = SecretTmpfsBytes(payload);
  const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (!IsMountPoint(dir)) {
    RETURN_IF_ERROR(MountTmpfs(dir, flags, reef::StrCat("mode=0755,size=", size)));
  } else {
    struct statfs st;
    if (::statfs(dir.c_str(), &st) != 0) return ErrnoStatus(reef::StrCat("statfs ", dir), errno);
    if (static_cast<uint64_t>(st.f_blocks) * static_cast<uint64_t>(st.f_bsize) < size) {
      RETURN_IF_ERROR(MountTmpfs(dir, flags | MS_REMOUNT, reef::StrCat("size=", size)));
    }
  }
  // Never put secret bytes on the node's disk: refuse if the folder is not the tmpfs.
  struct statfs st;
  if (::statfs(dir.c_str(), &st) != 0 || st.f_type != TMPFS_MAGIC || !IsMountPoint(dir)) {
    return absl::InternalError(reef::StrCat(dir, " is not a tmpfs mount; not writing secret data"));
  }
  ASSIGN_OR_RETURN(bool wrote, WriteAtomic(dir, payload));
  if (wrote) REEF_LOG(Debug) << "volumes: wrote secret volume " << dir;
  return absl::OkStatus();
}

}  // namespace

VolumeManager::VolumeManager(VolumeOptions options) {
  std::error_code ec;
  fs::path abs = fs::absolute(options.pods_dir, ec);
  pods_dir_ = (ec ? fs::path(options.pods_dir) : abs).lexically_normal().string();
  while (pods_dir_.size() > 1 && pods_dir_.back() == '/') pods_dir_.pop_back();
}

absl::Status VolumeManager::PrepareEmptyDir(const reef::v1::Pod& pod, const reef::v1::Volume& v,
                                            const std::string& dir) {
  // 0777 as in Kubernetes: containers running as any user may write there.
  RETURN_IF_ERROR(EnsureDir(dir, 0777));
  if (!v.has_empty_dir() || v.empty_dir().medium() != "Memory" || IsMountPoint(dir)) {
    return absl::OkStatus();
  }
  std::string options = "mode=0777";
  std::optional<uint64_t> size;
  if (!v.empty_dir().size_limit().empty()) {
    auto q = reef::manifest::Quantity::Parse(v.empty_dir().size_limit());
    if (!q.ok()) return reef::Annotate(q.status(), "sizeLimit");
    if (q->Value() > 0) size = static_cast<uint64_t>(q->Value());
  }
  if (!size) size = PodMemoryLimit(pod);
  if (size) options += reef::StrCat(",size=", *size);
  return MountTmpfs(dir, MS_NOSUID | MS_NODEV, options);
}

absl::Status VolumeManager::PrepareSecret(const reef::v1::Volume& v, const std::string& dir,
                                          const ConfigSource& source, const std::string& ns) {
  // The payload first: a missing Secret must not leave an empty mount behind.
  ASSIGN_OR_RETURN(Payload payload,
                   SecretPayload(v.name(), v.secret(), source.Secret(ns, v.secret().secret_name())));
  return Volume(v.name(), WriteOnTmpfs(dir, payload));
}

absl::StatusOr<PodVolumes> VolumeManager::Prepare(const reef::v1::Pod& pod,
                                                  const std::string& sandbox_id,
                                                  const ConfigSource& source) {
  if (!IsPlainName(sandbox_id)) {
    return absl::InvalidArgumentError(reef::StrCat("bad sandbox id \"", sandbox_id, "\""));
  }
  const std::string ns = pod.metadata().namespace_().empty() ? "default" : pod.metadata().namespace_();
  const std::string sandbox = reef::StrCat(pods_dir_, "/", sandbox_id);
  const std::string root = sandbox + "/volumes";
  RETURN_IF_ERROR(MakeDirs(pods_dir_, 0755));
  RETURN_IF_ERROR(EnsureDir(sandbox, 0750));
  RETURN_IF_ERROR(EnsureDir(root, 0750));

  PodVolumes out;
  absl::Status first_error;
  for (const reef::v1::Volume& v : pod.spec().volumes()) {
    absl::Status s;
    if (!IsPlainName(v.name())) {
      s = absl::InvalidArgumentError(reef::StrCat("bad volume name \"", v.name(), "\""));
    } else if (v.has_host_path()) {
      s = CheckHostPath(v.name(), v.host_path().path(), v.host_path().type());
      if (s.ok()) out.host_paths[v.name()] = v.host_path().path();
    } else if (v.has_config_map()) {
      const std::string dir = reef::StrCat(root, "/configmap/", v.name());
      auto payload = ConfigMapPayload(v.name(), v.config_map(),
                                      source.ConfigMap(ns, v.config_map().name()));
      s = payload.status();
      if (s.ok()) s = Volume(v.name(), EnsureDir(root + "/configmap", 0750));
      if (s.ok()) s = Volume(v.name(), EnsureDir(dir, 0755));
      if (s.ok()) s = Volume(v.name(), WriteAtomic(dir, *payload).status());
      if (s.ok()) out.host_paths[v.name()] = dir;
      out.projected.insert(v.name());
    } else if (v.has_secret()) {
      const std::string dir = reef::StrCat(root, "/secret/", v.name());
      s = Volume(v.name(), EnsureDir(root + "/secret", 0750));
      if (s.ok()) s = PrepareSecret(v, dir, source, ns);
      if (s.ok()) out.host_paths[v.name()] = dir;
      out.projected.insert(v.name());
    } else {
      // No source at all is an emptyDir, as the API server defaults it.
      const std::string dir = reef::StrCat(root, "/empty-dir/", v.name());
      s = Volume(v.name(), EnsureDir(root + "/empty-dir", 0750));
      if (s.ok()) s = Volume(v.name(), PrepareEmptyDir(pod, v, dir));
      if (s.ok()) out.host_paths[v.name()] = dir;
    }
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) return first_error;
  return out;
}

absl::Status VolumeManager::Remove(const std::string& sandbox_id) {
  if (!IsPlainName(sandbox_id)) {
    return absl::InvalidArgumentError(reef::StrCat("bad sandbox id \"", sandbox_id, "\""));
  }
  const std::string sandbox = reef::StrCat(pods_dir_, "/", sandbox_id);
  struct stat st;
  if (::lstat(sandbox.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(reef::StrCat("stat ", sandbox), errno);
  }
  RETURN_IF_ERROR(reef::Annotate(UnmountAll(sandbox), reef::StrCat("remove volumes of ", sandbox_id)));
  // remove_all does not follow links; with nothing mounted below, it cannot leave
  // the sandbox's own folder.
  ASSIGN_OR_RETURN(std::vector<std::string> left, MountsUnder(sandbox));
  if (!left.empty()) {
    return absl::FailedPreconditionError(
        reef::StrCat("remove volumes of ", sandbox_id, ": ", left.front(), " is still mounted"));
  }
  std::error_code ec;
  fs::remove_all(sandbox, ec);
  if (ec) return absl::InternalError(reef::StrCat("remove ", sandbox, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> VolumeManager::List() {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(pods_dir_, ec)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(pods_dir_, ec)) {
    std::error_code ec2;
    if (e.is_directory(ec2) && !e.is_symlink(ec2)) out.push_back(e.path().filename().string());
  }
  if (ec) return absl::InternalError(reef::StrCat("list ", pods_dir_, ": ", ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status VolumeManager::GarbageCollect(const std::set<std::string>& keep) {
  ASSIGN_OR_RETURN(std::vector<std::string> sandboxes, List());
  absl::Status first_error;
  for (const std::string& id : sandboxes) {
    if (keep.contains(id)) continue;
    absl::Status s = Remove(id);
    if (!s.ok()) {
      REEF_LOG(Warning) << "volumes: " << s;
      if (first_error.ok()) first_error = s;
    }
  }
  return first_error;
}

}  // namespace reef::agent::volumes
