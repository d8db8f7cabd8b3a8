#include "agent/runtime/user_db.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/unique_fd.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

constexpr uint64_t kMaxDbFile = 4 << 20;

std::vector<absl::string_view> Fields(absl::string_view line) { return absl::StrSplit(line, ':'); }

const PasswdEntry* FindUser(const UserDb& db, std::string_view name) {
  for (const PasswdEntry& u : db.users) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

const PasswdEntry* FindUid(const UserDb& db, uint32_t uid) {
  for (const PasswdEntry& u : db.users) {
    if (u.uid == uid) return &u;
  }
  return nullptr;
}

std::vector<uint32_t> AdditionalGids(const UserDb& db, std::string_view name, uint32_t gid) {
  std::vector<uint32_t> out;
  if (name.empty()) return out;
  for (const GroupEntry& g : db.groups) {
    if (g.gid == gid) continue;
    for (const std::string& m : g.members) {
      if (m == name) {
        out.push_back(g.gid);
        break;
      }
    }
  }
  return out;
}

// Opens rootfs/rel with every component resolved inside rootfs. Kernels before 5.6
// lack openat2: then no component may be a symlink at all.
absl::StatusOr<UniqueFd> OpenInRoot(const std::string& rootfs, const std::string& rel) {
  UniqueFd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoStatus(reef::StrCat("open ", rootfs), errno);
  open_how how = {};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root.get(), rel.c_str(), &how, sizeof how));
  if (fd < 0 && errno == ENOSYS) {
    UniqueFd dir(::dup(root.get()));
    std::vector<std::string> parts = absl::StrSplit(rel, '/', absl::SkipEmpty());
    for (size_t i = 0; i < parts.size() && dir.valid(); ++i) {
      int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (i + 1 < parts.size() ? O_DIRECTORY : 0);
      dir.Reset(::openat(dir.get(), parts[i].c_str(), flags));
    }
    fd = dir.Release();
  }
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", rootfs, "/", rel), errno);
  return UniqueFd(fd);
}

absl::StatusOr<std::string> ReadInRoot(const std::string& rootfs, const std::string& rel) {
  absl::StatusOr<UniqueFd> fd = OpenInRoot(rootfs, rel);
  if (absl::IsNotFound(fd.status())) return std::string();
  if (!fd.ok()) return fd.status();
  return ReadFdLimited(fd->get(), reef::StrCat(rootfs, "/", rel), kMaxDbFile);
}

}  // namespace

UserDb ParseUserDb(std::string_view passwd, std::string_view group) {
  UserDb db;
  for (absl::string_view line : absl::StrSplit(reef::ToAbsl(passwd), '\n')) {
    std::vector<absl::string_view> f = Fields(line);
    PasswdEntry e;
    if (f.size() < 4 || f[0].empty() || !absl::SimpleAtoi(f[2], &e.uid) ||
        !absl::SimpleAtoi(f[3], &e.gid)) {
      continue;
    }
    e.name = std::string(f[0]);
    db.users.push_back(std::move(e));
  }
  for (absl::string_view line : absl::StrSplit(reef::ToAbsl(group), '\n')) {
    std::vector<absl::string_view> f = Fields(line);
    GroupEntry e;
    if (f.size() < 3 || f[0].empty() || !absl::SimpleAtoi(f[2], &e.gid)) continue;
    e.name = std::string(f[0]);
    if (f.size() > 3) e.members = absl::StrSplit(f[3], ',', absl::SkipEmpty());
    db.groups.push_back(std::move(e));
  }
  return db;
}

absl::StatusOr<UserDb> LoadUserDb(const std::string& rootfs) {
  ASSIGN_OR_RETURN(std::string passwd, ReadInRoot(rootfs, "etc/passwd"));
  ASSIGN_OR_RETURN(std::string group, ReadInRoot(rootfs, "etc/group"));
  return ParseUserDb(passwd, group);
}

ProcessUser UserForUid(uint32_t uid, const UserDb& db) {
  const PasswdEntry* entry = FindUid(db, uid);
  ProcessUser user;
  user.uid = uid;
  user.gid = entry ? entry->gid : 0;
  if (entry) user.additional_gids = AdditionalGids(db, entry->name, user.gid);
  return user;
}

absl::StatusOr<ProcessUser> ResolveUser(std::string_view spec, const UserDb& db) {
  size_t colon = spec.find(':');
  std::string_view user_part = spec.substr(0, colon);
  std::string_view group_part = colon == std::string_view::npos ? "" : spec.substr(colon + 1);

  ProcessUser user;
  const PasswdEntry* entry = nullptr;
  if (user_part.empty() || absl::SimpleAtoi(reef::ToAbsl(user_part), &user.uid)) {
    entry = FindUid(db, user.uid);  // not being in passwd is fine for a number
  } else if ((entry = FindUser(db, user_part)) == nullptr) {
    return absl::NotFoundError(
        reef::StrCat("user \"", user_part, "\": not in the image's /etc/passwd"));
  }
  if (entry != nullptr) {
    user.uid = entry->uid;
    user.gid = entry->gid;
  }
  if (!group_part.empty() && !absl::SimpleAtoi(reef::ToAbsl(group_part), &user.gid)) {
    const GroupEntry* found = nullptr;
    for (const GroupEntry& g : db.groups) {
      if (g.name == group_part && found == nullptr) found = &g;
    }
    if (found == nullptr) {
      return absl::NotFoundError(
          reef::StrCat("group \"", group_part, "\": not in the image's /etc/group"));
    }
    user.gid = found->gid;
  }
  user.additional_gids = AdditionalGids(db, entry ? entry->name : "", user.gid);
  return user;
}

}  // namespace reef::agent::runtime
