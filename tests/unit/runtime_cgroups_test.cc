#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agent/runtime/cgroups.h"
#include "tests/support/process.h"

namespace reef::agent::runtime {
namespace {

void Write(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << content;
}

TEST_CASE("the OOM kill count comes from memory.oom_control on cgroup v1") {
  reef::testing::TempDir root;
  Write(root.path() + "/memory/reef/p/c/memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  absl::StatusOr<int64_t> count = ReadOomKillCount("/reef/p/c", root.path());
  REQUIRE(count.ok());
  CHECK(*count == 2);
  CHECK(ReadOomKillCount("/reef/p/gone", root.path()).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("the OOM kill count comes from memory.events on cgroup v2") {
  reef::testing::TempDir root;
  Write(root.path() + "/cgroup.controllers", "cpu memory pids\n");
  Write(root.path() + "/reef/c/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
  absl::StatusOr<int64_t> count = ReadOomKillCount("/reef/c", root.path());
  REQUIRE(count.ok());
  CHECK(*count == 1);
}

TEST_CASE("an old kernel without the counter is a clear error") {
  reef::testing::TempDir root;
  Write(root.path() + "/memory/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
  absl::StatusOr<int64_t> count = ReadOomKillCount("c", root.path());
  CHECK(count.status().code() == absl::StatusCode::kInternal);
  CHECK(std::string(count.status().message()).find("no oom_kill counter") != std::string::npos);
}

TEST_CASE("RemoveCgroup removes the folder from every hierarchy and tolerates missing ones") {
  reef::testing::TempDir root;
  for (const char* h : {"cpu", "memory", "pids"}) {
    std::filesystem::create_directories(root.path() + "/" + h + "/reef/pod");
  }
  std::filesystem::create_directory_symlink("cpu", root.path() + "/cpuacct");
  std::filesystem::remove(root.path() + "/pids/reef/pod");
  REQUIRE(RemoveCgroup("/reef/pod", root.path()).ok());
  for (const char* h : {"cpu", "memory", "pids"}) {
    CHECK_FALSE(std::filesystem::exists(root.path() + "/" + h + "/reef/pod"));
    CHECK(std::filesystem::exists(root.path() + "/" + h + "/reef"));
  }
}

}  // namespace
}  // namespace reef::agent::runtime
