#include "agent/volumes/container_mounts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <deque>

#include "agent/volumes/host_path.h"
#include "common/files.h"

namespace reef::agent::volumes {
namespace {

constexpr int kMaxLinks = 40;  // as the kernel's path walk

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

absl::Status Escapes(const std::string& sub_path) {
  return absl::InvalidArgumentError(
      reef::StrCat("subPath \"", sub_path, "\" resolves outside the volume"));
}

// "/etc//app/" -> "/etc/app". InvalidArgument when relative or with "..".
absl::StatusOr<std::string> CleanMountPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(reef::StrCat("mountPath \"", path, "\" must be absolute"));
  }
  std::string out;
  for (const std::string& part : Components(path)) {
    if (part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(reef::StrCat("mountPath \"", path, "\" must not contain '..'"));
    }
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

absl::StatusOr<std::string> ResolveSubPath(const std::string& root, const std::string& sub_path,
                                           bool create) {
  if (!sub_path.empty() && sub_path[0] == '/') {
    return absl::InvalidArgumentError(reef::StrCat("subPath \"", sub_path, "\" must be relative"));
  }
  std::vector<std::string> parts = Components(sub_path);
  for (const std::string& p : parts) {
    if (p == "..") {
      return absl::InvalidArgumentError(reef::StrCat("subPath \"", sub_path, "\" must not contain '..'"));
    }
  }
  char real[PATH_MAX];
  if (::realpath(root.c_str(), real) == nullptr) {
    return ErrnoStatus(reef::StrCat("volume path ", root), errno);
  }
  const std::string base = real;
  struct stat root_st;
  if (::stat(base.c_str(), &root_st) != 0) return ErrnoStatus(reef::StrCat("stat ", base), errno);
  if (!S_ISDIR(root_st.st_mode)) {
    return absl::FailedPreconditionError(reef::StrCat("volume path ", root, " is not a folder"));
  }
  const int mode = static_cast<int>(root_st.st_mode & 07777);

  std::deque<std::string> todo(parts.begin(), parts.end());
  std::vector<std::string> done;  // resolved, link-free, relative to base
  auto current = [&] {
    std::string p = base;
    for (const std::string& d : done) p += "/" + d;
    return p;
  };
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {  // only from link targets
      if (done.empty()) return Escapes(sub_path);
      done.pop_back();
      continue;
    }
    const std::string path = current() + "/" + part;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) return ErrnoStatus(reef::StrCat("stat ", path), errno);
      if (!create) {
        return absl::NotFoundError(reef::StrCat("subPath \"", sub_path, "\": ", path, " does not exist"));
      }
      if (::mkdir(path.c_str(), mode) != 0) {
        if (errno == EEXIST) {  // appeared meanwhile: look again
          todo.push_front(part);
          continue;
        }
        return ErrnoStatus(reef::StrCat("mkdir ", path), errno);
      }
      if (::chmod(path.c_str(), mode) != 0) return ErrnoStatus(reef::StrCat("chmod ", path), errno);
      done.push_back(part);
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      done.push_back(part);
      continue;
    }
    if (++links > kMaxLinks) {
      return absl::InvalidArgumentError(reef::StrCat("subPath \"", sub_path, "\": too many links"));
    }
    char target_buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), target_buf, sizeof(target_buf) - 1);
    if (n < 0) return ErrnoStatus(reef::StrCat("readlink ", path), errno);
    std::string target(target_buf, static_cast<size_t>(n));
    std::vector<std::string> next = Components(target);
    if (!target.empty() && target[0] == '/') {
      // An absolute target is a host path: fine only when it lies in the volume.
      std::string rest;
      if (target == base || target.starts_with(base + "/")) {
        rest = target.substr(base.size());
      } else if (target == root || target.starts_with(root + "/")) {
        rest = target.substr(root.size());
      } else {
        return Escapes(sub_path);
      }
      done.clear();
      next = Components(rest);
    }
    todo.insert(todo.begin(), next.begin(), next.end());
  }
  return current();
}

absl::StatusOr<std::vector<runtime::BindMount>> ContainerMounts(const reef::v1::Container& c,
                                                                const PodVolumes& volumes) {
  std::vector<runtime::BindMount> out;
  for (const reef::v1::VolumeMount& vm : c.volume_mounts()) {
    auto context = [&](const absl::Status& s) {
      return reef::Annotate(s, reef::StrCat("container \"", c.name(), "\": volume mount \"", vm.name(),
                                            "\" at ", vm.mount_path()));
    };
    auto volume = volumes.host_paths.find(vm.name());
    if (volume == volumes.host_paths.end()) {
      return context(absl::NotFoundError(reef::StrCat("the pod has no ready volume \"", vm.name(), "\"")));
    }
    const bool projected = volumes.projected.contains(vm.name());
    auto destination = CleanMountPath(vm.mount_path());
    if (!destination.ok()) return context(destination.status());
    runtime::BindMount mount;
    mount.destination = *destination;
    mount.source = volume->second;
    mount.read_only = vm.read_only() || projected;
    if (!projected && ::access(mount.source.c_str(), F_OK) != 0 && errno == ENOENT) {
      // A hostPath without a type that does not exist: containerd's CRI creates it as a
      // folder, and manifests written for Kubernetes count on that.
      absl::Status made = MakeDirs(mount.source, 0755);
      if (!made.ok()) return context(made);
    }
    if (!vm.sub_path().empty()) {
      auto resolved = ResolveSubPath(volume->second, vm.sub_path(), /*create=*/!projected);
      if (!resolved.ok()) return context(resolved.status());
      mount.source = *resolved;
    }
    if (!IsCleanAbsolute(mount.source)) {
      return context(absl::InvalidArgumentError(reef::StrCat("source ", mount.source, " is not clean")));
    }
    out.push_back(std::move(mount));
  }
  return out;
}

}  // namespace reef::agent::volumes
