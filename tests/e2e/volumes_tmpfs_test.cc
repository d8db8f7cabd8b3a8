// The volume manager's real tmpfs mounts (root): Memory emptyDirs honour sizeLimit,
// secret volumes never put a byte on the node's disk, Remove leaves no mount behind.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "agent/volumes/host_mounts.h"
#include "agent/volumes/volume_manager.h"
#include "common/files.h"
#include "tests/support/process.h"
#include "tests/unit/volumes_fake_source.h"

namespace reef::agent::volumes {
namespace {

namespace fs = std::filesystem;
using reef::testing::ReadWholeFile;
using reef::testing::TempDir;

bool IsTmpfs(const std::string& path) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}

size_t MountCount(const std::string& dir) {
  auto mounts = MountsUnder(dir);
  REQUIRE_MESSAGE(mounts.ok(), mounts.status());
  return mounts->size();
}

// Declared after the TempDir, so it runs first: nothing is left mounted under the
// folder when the TempDir removes it, even when a check failed half-way.
struct UnmountGuard {
  std::string dir;
  ~UnmountGuard() { (void)UnmountAll(dir); }
};

struct TmpfsFixture {
  TempDir tmp;
  UnmountGuard guard{tmp.path()};
  VolumeManager manager{{tmp.path() + "/pods"}};
  testing::FakeSource source;
  reef::v1::Pod pod;

  TmpfsFixture() {
    REQUIRE_MESSAGE(::geteuid() == 0, "volume e2e tests mount tmpfs and need root");
    pod.mutable_metadata()->set_name("web");
    pod.mutable_metadata()->set_namespace_("shop");
    pod.mutable_spec()->add_containers()->set_name("app");
  }
  PodVolumes Prepare(const std::string& sandbox = "sb1") {
    auto v = manager.Prepare(pod, sandbox, source);
    REQUIRE_MESSAGE(v.ok(), v.status());
    return *v;
  }
};

std::string RandomSecret() {
  std::random_device rd;
  return "reef-e2e-secret-" + std::to_string(rd()) + "-" + std::to_string(rd());
}

// Whether `needle` is in any file under `root` as the disk holds it: a non-recursive
// bind mount of root shows what lies under the tmpfs mounts, not their contents.
bool OnDisk(const std::string& root, const std::string& view, const std::string& needle) {
  fs::create_directories(view);
  REQUIRE_MESSAGE(::mount(root.c_str(), view.c_str(), nullptr, MS_BIND, nullptr) == 0,
                  "bind mount: " << std::strerror(errno));
  UnmountGuard unmount{view};
  bool found = false;
  for (const auto& e : fs::recursive_directory_iterator(view)) {
    if (e.is_symlink() || !e.is_regular_file()) continue;
    if (ReadWholeFile(e.path().string()).find(needle) != std::string::npos) found = true;
  }
  return found;
}

TEST_CASE("volumes tmpfs: a Memory emptyDir is a tmpfs of sizeLimit") {
  TmpfsFixture f;
  auto* v = f.pod.mutable_spec()->add_volumes();
  v->set_name("cache");
  v->mutable_empty_dir()->set_medium("Memory");
  v->mutable_empty_dir()->set_size_limit("1Mi");
  const std::string dir = f.Prepare().host_paths.at("cache");
  CHECK(IsMountPoint(dir));
  CHECK(IsTmpfs(dir));
  struct statfs st;
  REQUIRE(::statfs(dir.c_str(), &st) == 0);
  CHECK(static_cast<uint64_t>(st.f_blocks) * st.f_bsize == 1u << 20);
  CHECK(MountCount(f.tmp.path()) == 1);
  f.Prepare();  // a second pass mounts nothing more
  CHECK(MountCount(f.tmp.path()) == 1);

  // Writing past the limit fails with ENOSPC.
  int fd = ::open((dir + "/big").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  std::string chunk(64 * 1024, 'x');
  int err = 0;
  size_t written = 0;
  for (int i = 0; i < 64 && err == 0; ++i) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) err = errno;
    else written += static_cast<size_t>(n);
  }
  ::close(fd);
  CHECK(err == ENOSPC);
  CHECK(written <= (1u << 20));
}

TEST_CASE("volumes tmpfs: a Memory emptyDir without sizeLimit takes the pod's memory limit") {
  TmpfsFixture f;
  (*f.pod.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_limits())["memory"] = "3Mi";
  auto* v = f.pod.mutable_spec()->add_volumes();
  v->set_name("cache");
  v->mutable_empty_dir()->set_medium("Memory");
  const std::string dir = f.Prepare().host_paths.at("cache");
  struct statfs st;
  REQUIRE(::statfs(dir.c_str(), &st) == 0);
  CHECK(static_cast<uint64_t>(st.f_blocks) * st.f_bsize == 3u << 20);
}

TEST_CASE("volumes tmpfs: secret bytes live on a tmpfs and never on disk") {
  TmpfsFixture f;
  const std::string value = RandomSecret();
  f.source.PutSecret("shop", "db", {{"password", value}});
  auto* v = f.pod.mutable_spec()->add_volumes();
  v->set_name("creds");
  v->mutable_secret()->set_secret_name("db");
  const std::string dir = f.Prepare().host_paths.at("creds");

  auto mounts = MountsUnder(f.tmp.path());
  REQUIRE(mounts.ok());
  CHECK(*mounts == std::vector<std::string>{dir});  // per /proc/self/mountinfo
  CHECK(IsTmpfs(dir));
  CHECK(ReadWholeFile(dir + "/password") == value);
  CHECK_FALSE(OnDisk(f.tmp.path(), f.tmp.path() + "/view", value));

  // An update stays on the tmpfs too, and the old value is gone from it.
  const std::string next = RandomSecret();
  f.source.PutSecret("shop", "db", {{"password", next}});
  f.Prepare();
  CHECK(ReadWholeFile(dir + "/password") == next);
  CHECK(MountCount(f.tmp.path()) == 1);
  CHECK_FALSE(OnDisk(f.tmp.path(), f.tmp.path() + "/view", next));
  bool old_left = false;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && ReadWholeFile(e.path().string()).find(value) != std::string::npos) old_left = true;
  }
  CHECK_FALSE(old_left);
}

TEST_CASE("volumes tmpfs: Remove and GarbageCollect unmount everything") {
  TmpfsFixture f;
  f.source.PutSecret("shop", "db", {{"password", "x"}});
  auto* s = f.pod.mutable_spec()->add_volumes();
  s->set_name("creds");
  s->mutable_secret()->set_secret_name("db");
  auto* m = f.pod.mutable_spec()->add_volumes();
  m->set_name("cache");
  m->mutable_empty_dir()->set_medium("Memory");
  m->mutable_empty_dir()->set_size_limit("1Mi");
  f.Prepare("sb1");
  f.Prepare("sb2");
  CHECK(MountCount(f.tmp.path()) == 4);

  REQUIRE_MESSAGE(f.manager.Remove("sb1").ok(), "remove sb1");
  CHECK(MountCount(f.tmp.path()) == 2);
  CHECK_FALSE(fs::exists(f.tmp.path() + "/pods/sb1"));
  CHECK(f.manager.Remove("sb1").ok());

  CHECK(f.manager.GarbageCollect({}).ok());
  CHECK(MountCount(f.tmp.path()) == 0);
  CHECK(f.manager.List()->empty());
}

}  // namespace
}  // namespace reef::agent::volumes
