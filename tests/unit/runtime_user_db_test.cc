#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "agent/runtime/user_db.h"
#include "tests/support/process.h"

namespace reef::agent::runtime {
namespace {

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1::/:/sbin/nologin\n"
    "broken line\n"
    "app:x:1000:1000::/home/app:/bin/sh\n"
    "bad:x:notanumber:1::/:\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "wheel:x:10:root,app\n"
    "app:x:1000:\n"
    "video:x:44:app\n";

ProcessUser Resolve(std::string_view user) {
  absl::StatusOr<ProcessUser> u = ResolveUser(user, ParseUserDb(kPasswd, kGroup));
  INFO(u.status().ToString());
  REQUIRE(u.ok());
  return *u;
}

TEST_CASE("passwd and group parse, skipping malformed lines") {
  UserDb db = ParseUserDb(kPasswd, kGroup);
  CHECK(db.users.size() == 3);
  CHECK(db.users[2].name == "app");
  CHECK(db.groups.size() == 4);
  CHECK(db.groups[1].members == std::vector<std::string>{"root", "app"});
}

TEST_CASE("image users resolve to numbers, with supplementary groups") {
  CHECK(Resolve("") == ProcessUser{0, 0, {10}});
  CHECK(Resolve("app") == ProcessUser{1000, 1000, {10, 44}});
  CHECK(Resolve("1000") == ProcessUser{1000, 1000, {10, 44}});
  CHECK(Resolve("app:video") == ProcessUser{1000, 44, {10}});
  CHECK(Resolve("app:5") == ProcessUser{1000, 5, {10, 44}});
  CHECK(Resolve("4242") == ProcessUser{4242, 0, {}});  // not in passwd: fine, gid 0
  CHECK(Resolve("4242:4243") == ProcessUser{4242, 4243, {}});
  CHECK(UserForUid(1, ParseUserDb(kPasswd, kGroup)) == ProcessUser{1, 1, {}});
}

TEST_CASE("unknown names are NotFound naming them") {
  UserDb db = ParseUserDb(kPasswd, kGroup);
  absl::Status s = ResolveUser("ghost", db).status();
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(s.message() == "user \"ghost\": not in the image's /etc/passwd");
  CHECK(ResolveUser("app:ghosts", db).status().message() ==
        "group \"ghosts\": not in the image's /etc/group");
}

TEST_CASE("the rootfs's files are read inside the rootfs, symlinks included") {
  reef::testing::TempDir dir;
  std::string rootfs = dir.path() + "/rootfs";
  std::filesystem::create_directories(rootfs + "/etc");
  std::filesystem::create_directories(rootfs + "/real");
  std::ofstream(rootfs + "/real/passwd") << "inside:x:77:77::/:/bin/sh\n";
  std::ofstream(rootfs + "/real/group") << "insiders:x:77:inside\n";
  // An absolute link: resolved against the rootfs, it is the image's own file. Followed
  // on the host it would be /real/passwd, which does not exist.
  std::filesystem::create_symlink("/real/passwd", rootfs + "/etc/passwd");
  // A link climbing out stops at the rootfs's top: the image's /real/group again.
  std::filesystem::create_symlink("../../../../../../real/group", rootfs + "/etc/group");

  absl::StatusOr<UserDb> db = LoadUserDb(rootfs);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  REQUIRE(db->users.size() == 1);
  CHECK(db->users[0].name == "inside");
  REQUIRE(db->groups.size() == 1);
  CHECK(db->groups[0].name == "insiders");

  reef::testing::TempDir empty;
  absl::StatusOr<UserDb> none = LoadUserDb(empty.path());
  REQUIRE(none.ok());
  CHECK(none->users.empty());
}

}  // namespace
}  // namespace reef::agent::runtime
