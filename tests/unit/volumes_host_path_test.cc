#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent/volumes/host_path.h"
#include "tests/support/process.h"

namespace reef::agent::volumes {
namespace {

namespace fs = std::filesystem;
using reef::testing::TempDir;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

int Mode(const std::string& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

TEST_CASE("volumes hostPath: types that must exist") {
  TempDir tmp;
  const std::string dir = tmp.path() + "/dir", file = tmp.path() + "/file";
  fs::create_directory(dir);
  std::ofstream(file) << "x";
  CHECK(CheckHostPath("v", dir, "Directory").ok());
  CHECK(CheckHostPath("v", file, "File").ok());
  CHECK(CheckHostPath("v", "/dev/null", "CharDevice").ok());
  CHECK(CheckHostPath("v", tmp.path() + "/nothing", "").ok());  // no check at all

  absl::Status s = CheckHostPath("data", file, "Directory");
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(s.message() == "volume \"data\": hostPath type check failed: " + file + " is not a directory");
  CHECK(Msg(CheckHostPath("v", dir, "File")).ends_with(dir + " is not a file"));
  CHECK(Msg(CheckHostPath("v", file, "Socket")).ends_with(" is not a socket file"));
  CHECK(Msg(CheckHostPath("v", file, "CharDevice")).ends_with(" is not a character device"));
  CHECK(Msg(CheckHostPath("v", "/dev/null", "BlockDevice")).ends_with(" is not a block device"));
  s = CheckHostPath("v", tmp.path() + "/nothing", "Directory");
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Msg(s).ends_with(tmp.path() + "/nothing does not exist"));
}

TEST_CASE("volumes hostPath: a socket") {
  TempDir tmp;
  const std::string path = tmp.path() + "/s.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  CHECK(CheckHostPath("v", path, "Socket").ok());
  CHECK_FALSE(CheckHostPath("v", path, "File").ok());
  ::close(fd);
}

TEST_CASE("volumes hostPath: the OrCreate types create with 0755 and 0644, whatever the umask") {
  TempDir tmp;
  mode_t old = ::umask(077);
  const std::string dir = tmp.path() + "/a/b/c", file = tmp.path() + "/f";
  CHECK(CheckHostPath("v", dir, "DirectoryOrCreate").ok());
  CHECK(CheckHostPath("v", file, "FileOrCreate").ok());
  ::umask(old);
  CHECK(fs::is_directory(dir));
  CHECK(Mode(dir) == 0755);
  CHECK(fs::is_regular_file(file));
  CHECK(Mode(file) == 0644);
  // Existing paths are checked, not created.
  CHECK(CheckHostPath("v", dir, "DirectoryOrCreate").ok());
  CHECK_FALSE(CheckHostPath("v", file, "DirectoryOrCreate").ok());
  CHECK_FALSE(CheckHostPath("v", dir, "FileOrCreate").ok());
  // FileOrCreate does not make the folder.
  CHECK_FALSE(CheckHostPath("v", tmp.path() + "/none/f", "FileOrCreate").ok());
}

TEST_CASE("volumes hostPath: bad paths and types") {
  CHECK(CheckHostPath("v", "relative", "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(CheckHostPath("v", "/a/../b", "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(CheckHostPath("v", "/tmp", "Weird").code() == absl::StatusCode::kInvalidArgument);
  CHECK(IsCleanAbsolute("/"));
  CHECK(IsCleanAbsolute("/a/b"));
  CHECK_FALSE(IsCleanAbsolute("/a/"));
  CHECK_FALSE(IsCleanAbsolute("/a//b"));
  CHECK_FALSE(IsCleanAbsolute("/a/./b"));
}

}  // namespace
}  // namespace reef::agent::volumes
