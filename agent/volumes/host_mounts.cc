#include "agent/volumes/host_mounts.h"

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/files.h"

namespace reef::agent::volumes {
namespace {

// mountinfo writes space, tab, newline and backslash in paths as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

absl::Status MountTmpfs(const std::string& target, unsigned long flags, const std::string& options) {
  if (::mount("tmpfs", target.c_str(), "tmpfs", flags, options.c_str()) != 0) {
    return ErrnoStatus(reef::StrCat("mount tmpfs on ", target), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MountsUnder(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return ErrnoStatus("open /proc/self/mountinfo", errno);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point ...
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    if (!(fields >> id >> parent >> dev >> root >> point)) continue;
    point = Unescape(point);
    if (point == dir || point.starts_with(dir + "/")) out.push_back(point);
  }
  return out;
}

absl::Status UnmountAll(const std::string& dir) {
  // Mounts can be stacked on one point; a few rounds take them all off.
  for (int round = 0; round < 16; ++round) {
    ASSIGN_OR_RETURN(std::vector<std::string> points, MountsUnder(dir));
    if (points.empty()) return absl::OkStatus();
    std::stable_sort(points.begin(), points.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const std::string& p : points) {
      if (::umount2(p.c_str(), UMOUNT_NOFOLLOW) == 0 || errno == EINVAL || errno == ENOENT) continue;
      // Busy (a process has its cwd there): detach now, the kernel frees it later.
      if (errno == EBUSY && ::umount2(p.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
      return ErrnoStatus(reef::StrCat("unmount ", p), errno);
    }
  }
  return absl::FailedPreconditionError(reef::StrCat("unmount under ", dir, ": mounts remain"));
}

}  // namespace reef::agent::volumes
