#include "agent/runtime/cgroups.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

constexpr uint64_t kMaxControlFile = 64 * 1024;

std::string Join(std::string_view root, std::string_view hierarchy, std::string_view path) {
  std::string out(root);
  if (!hierarchy.empty()) out = reef::StrCat(out, "/", hierarchy);
  if (!path.starts_with('/')) out += '/';
  return reef::StrCat(out, path);
}

bool IsUnified(std::string_view root) {
  return ::access(reef::StrCat(root, "/cgroup.controllers").c_str(), F_OK) == 0;
}

}  // namespace

absl::StatusOr<int64_t> ReadOomKillCount(std::string_view cgroups_path, std::string_view root) {
  std::string file = IsUnified(root)
                         ? Join(root, "", reef::StrCat(cgroups_path, "/memory.events"))
                         : Join(root, "memory", reef::StrCat(cgroups_path, "/memory.oom_control"));
  ASSIGN_OR_RETURN(std::string content, ReadFileLimited(file, kMaxControlFile));
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (!absl::ConsumePrefix(&line, "oom_kill ")) continue;
    int64_t count = 0;
    if (!absl::SimpleAtoi(line, &count)) break;
    return count;
  }
  return absl::InternalError(reef::StrCat(file, ": no oom_kill counter (kernel older than 4.13?)"));
}

absl::Status RemoveCgroup(std::string_view cgroups_path, std::string_view root) {
  std::vector<std::string> dirs;
  if (IsUnified(root)) {
    dirs.push_back(Join(root, "", cgroups_path));
  } else {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(root), ec)) {
      // cpu,cpuacct style mounts also appear as symlinks (cpu -> cpu,cpuacct): skip those.
      if (entry.is_symlink(ec) || !entry.is_directory(ec)) continue;
      dirs.push_back(Join(root, entry.path().filename().string(), cgroups_path));
    }
    if (ec) return ErrnoStatus(reef::StrCat("list ", root), ec.value());
  }
  for (const std::string& dir : dirs) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) continue;
    if (errno == EBUSY) {
      return absl::FailedPreconditionError(
          reef::StrCat("remove cgroup ", dir, ": still has processes"));
    }
    return ErrnoStatus(reef::StrCat("remove cgroup ", dir), errno);
  }
  return absl::OkStatus();
}

}  // namespace reef::agent::runtime
