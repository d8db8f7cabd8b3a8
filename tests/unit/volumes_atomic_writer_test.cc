#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "agent/volumes/atomic_writer.h"
#include "tests/support/process.h"

namespace reef::agent::volumes {
namespace {

namespace fs = std::filesystem;
using reef::testing::ReadWholeFile;
using reef::testing::TempDir;

struct stat Lstat(const std::string& path) {
  struct stat st{};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path);
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

bool Write(const std::string& dir, const Payload& payload) {
  auto wrote = WriteAtomic(dir, payload);
  REQUIRE_MESSAGE(wrote.ok(), wrote.status());
  return *wrote;
}

TEST_CASE("volumes atomic writer: files behind ..data, names as links through it") {
  TempDir tmp;
  const std::string d = tmp.path();
  CHECK(Write(d, {{"app.conf", {"a=1\n", 0644}}, {"nested/deep/x", {"x", 0600}}}));

  CHECK(fs::read_symlink(d + "/app.conf") == "..data/app.conf");
  CHECK(fs::read_symlink(d + "/nested") == "..data/nested");
  const std::string version = fs::read_symlink(d + "/..data").string();
  CHECK(version.starts_with(".."));
  CHECK(version.find('/') == std::string::npos);
  CHECK(Entries(d) == std::set<std::string>{"..data", version, "app.conf", "nested"});
  CHECK(ReadWholeFile(d + "/app.conf") == "a=1\n");
  CHECK(ReadWholeFile(d + "/nested/deep/x") == "x");
  CHECK((Lstat(d + "/" + version + "/app.conf").st_mode & 07777) == 0644);
  CHECK((Lstat(d + "/" + version + "/nested/deep/x").st_mode & 07777) == 0600);
  CHECK((Lstat(d + "/" + version).st_mode & 07777) == 0755);
}

TEST_CASE("volumes atomic writer: unchanged content writes nothing") {
  TempDir tmp;
  const std::string d = tmp.path();
  Payload payload = {{"a", {"1", 0644}}, {"b", {"2", 0400}}};
  CHECK(Write(d, payload));
  struct stat data1 = Lstat(d + "/..data");
  struct stat dir1 = Lstat(d);
  const std::string version = fs::read_symlink(d + "/..data").string();
  struct stat file1 = Lstat(d + "/" + version + "/a");

  for (int i = 0; i < 3; ++i) CHECK_FALSE(Write(d, payload));
  struct stat data2 = Lstat(d + "/..data");
  struct stat dir2 = Lstat(d);
  struct stat file2 = Lstat(d + "/" + version + "/a");
  CHECK(data2.st_ino == data1.st_ino);
  CHECK(data2.st_mtim.tv_nsec == data1.st_mtim.tv_nsec);
  CHECK(data2.st_mtim.tv_sec == data1.st_mtim.tv_sec);
  CHECK(dir2.st_mtim.tv_sec == dir1.st_mtim.tv_sec);
  CHECK(dir2.st_mtim.tv_nsec == dir1.st_mtim.tv_nsec);
  CHECK(file2.st_ino == file1.st_ino);
  CHECK(fs::read_symlink(d + "/..data") == version);
}

TEST_CASE("volumes atomic writer: an update swaps ..data and removes the old version") {
  TempDir tmp;
  const std::string d = tmp.path();
  CHECK(Write(d, {{"a", {"old", 0644}}, {"gone", {"bye", 0644}}}));
  const std::string v1 = fs::read_symlink(d + "/..data").string();
  // Hold the old file open, as a running reader would: it keeps its bytes.
  std::ifstream reader(d + "/a");

  CHECK(Write(d, {{"a", {"new", 0644}}, {"added", {"hi", 0644}}}));
  const std::string v2 = fs::read_symlink(d + "/..data").string();
  CHECK(v2 != v1);
  CHECK(ReadWholeFile(d + "/a") == "new");
  CHECK(ReadWholeFile(d + "/added") == "hi");
  CHECK_FALSE(Exists(d + "/gone"));  // a removed key disappears
  CHECK_FALSE(Exists(d + "/" + v1));
  CHECK(Entries(d) == std::set<std::string>{"..data", v2, "a", "added"});
  std::string old;
  std::getline(reader, old);
  CHECK(old == "old");
}

TEST_CASE("volumes atomic writer: a changed mode alone is an update") {
  TempDir tmp;
  const std::string d = tmp.path();
  CHECK(Write(d, {{"a", {"x", 0644}}}));
  CHECK(Write(d, {{"a", {"x", 0400}}}));
  CHECK((Lstat(d + "/..data/a").st_mode & 07777) == 0400);
  CHECK_FALSE(Write(d, {{"a", {"x", 0400}}}));
}

TEST_CASE("volumes atomic writer: an empty payload leaves only ..data") {
  TempDir tmp;
  const std::string d = tmp.path();
  CHECK(Write(d, {{"a", {"x", 0644}}}));
  CHECK(Write(d, {}));
  CHECK(Entries(d).size() == 2);  // ..data and its version
  CHECK_FALSE(Write(d, {}));
}

TEST_CASE("volumes atomic writer: repairs a missing link without rewriting the files") {
  TempDir tmp;
  const std::string d = tmp.path();
  CHECK(Write(d, {{"a", {"x", 0644}}}));
  const std::string v1 = fs::read_symlink(d + "/..data").string();
  fs::remove(d + "/a");
  CHECK_FALSE(Write(d, {{"a", {"x", 0644}}}));
  CHECK(fs::read_symlink(d + "/..data") == v1);
  CHECK(ReadWholeFile(d + "/a") == "x");
}

TEST_CASE("volumes atomic writer: leftovers of an interrupted update go with the next one") {
  TempDir tmp;
  const std::string d = tmp.path();
  CHECK(Write(d, {{"a", {"x", 0644}}}));
  fs::create_directory(d + "/..2000_01_01_00_00_00.stale");
  CHECK(Write(d, {{"a", {"y", 0644}}}));
  CHECK_FALSE(Exists(d + "/..2000_01_01_00_00_00.stale"));
}

TEST_CASE("volumes atomic writer: refuses paths that escape or collide with its names") {
  for (std::string bad : {"", "/etc/passwd", "../x", "a/../../x", "..data", "..x", "a//b", "./a"}) {
    CAPTURE(bad);
    CHECK(ValidatePayloadPath(bad).code() == absl::StatusCode::kInvalidArgument);
  }
  for (std::string good : {"a", "a.b", "dir/file", "x..y", "a/.hidden"}) {
    CAPTURE(good);
    CHECK(ValidatePayloadPath(good).ok());
  }
  TempDir tmp;
  CHECK_FALSE(WriteAtomic(tmp.path(), {{"../x", {"x", 0644}}}).ok());
  CHECK(Entries(tmp.path()).empty());
}

TEST_CASE("volumes atomic writer: leaves a file it did not make alone") {
  TempDir tmp;
  const std::string d = tmp.path();
  std::ofstream(d + "/a") << "mine";
  CHECK(WriteAtomic(d, {{"a", {"x", 0644}}}).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReadWholeFile(d + "/a") == "mine");
}

}  // namespace
}  // namespace reef::agent::volumes
