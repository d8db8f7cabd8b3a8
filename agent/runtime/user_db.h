#pragma once
// Users and groups of a container image, from its rootfs's /etc/passwd and
// /etc/group, to turn an image's `User` ("app", "1000:staff") into numeric ids: runc
// takes only numbers.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace reef::agent::runtime {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

struct UserDb {
  std::vector<PasswdEntry> users;
  std::vector<GroupEntry> groups;
};

// Parses passwd(5) and group(5) text; lines that are not well-formed are skipped, as
// libc does.
UserDb ParseUserDb(std::string_view passwd, std::string_view group);

// Reads <rootfs>/etc/passwd and <rootfs>/etc/group, resolving every path inside the
// rootfs (openat2 RESOLVE_IN_ROOT): an image's symlink /etc/passwd -> /etc/shadow
// reads the image's file, never the host's. Missing files give an empty database.
absl::StatusOr<UserDb> LoadUserDb(const std::string& rootfs);

struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;  // the groups that list the user as a member

  friend bool operator==(const ProcessUser&, const ProcessUser&) = default;
};

// An image's User: "" (root), "uid", "name", and either with ":gid" or ":group". A
// user given without a group gets the primary group from passwd (0 when a numeric
// uid is not in passwd). NotFound naming the user or group when a name is unknown.
absl::StatusOr<ProcessUser> ResolveUser(std::string_view user, const UserDb& db);

// The user for a numeric uid alone (securityContext.runAsUser), as ResolveUser.
ProcessUser UserForUid(uint32_t uid, const UserDb& db);

}  // namespace reef::agent::runtime
