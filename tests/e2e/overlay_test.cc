// Real overlay mounts (root) over snapshots of a busybox-static image layer made with
// umoci and a second layer, made with GNU tar, that deletes a file and hides a folder
// with whiteouts; then busybox itself runs inside the mounted root.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "agent/image/layer_unpack.h"
#include "agent/image/overlay.h"
#include "agent/image/snapshotter.h"
#include "common/files.h"
#include "tests/support/process.h"

namespace reef::agent::image {
namespace {

namespace fs = std::filesystem;
using reef::testing::Run;
using reef::testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
}

std::string MustRun(const std::vector<std::string>& argv) {
  auto result = Run(argv);
  REQUIRE_MESSAGE(result.exit_code == 0, argv[0], " ", argv[1], " failed: ", result.err);
  return result.out;
}

void RequirePrerequisites() {
  REQUIRE_MESSAGE(::geteuid() == 0, "overlay mounts need root");
  for (std::string tool : {"umoci", "tar", "chroot", "sha256sum", "findmnt"}) {
    REQUIRE_MESSAGE(Run({"sh", "-c", "command -v " + tool}).exit_code == 0, tool,
                    " is missing (umoci: apt-get install umoci; the others are in Debian's base)");
  }
  REQUIRE_MESSAGE(::access("/bin/busybox", X_OK) == 0,
                  "/bin/busybox is missing: apt-get install busybox-static");
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Unmounts whatever is still mounted at path when the test ends, passed or not.
struct MountGuard {
  std::string path;
  ~MountGuard() {
    for (int i = 0; i < 8 && IsMountPoint(path); ++i) (void)Unmount(path);
  }
};

// A busybox-static image built with umoci as RECIPES shows, plus a second layer.
struct Layers {
  TempDir tmp;
  std::string base_blob;  // gzip, from umoci
  std::string base_diff_id;
  std::string top_blob = tmp.path() + "/top.tar";
  std::string top_diff_id;

  Layers() {
    const std::string oci = tmp.path() + "/oci", bundle = tmp.path() + "/bundle";
    MustRun({"umoci", "init", "--layout", oci});
    MustRun({"umoci", "new", "--image", oci + ":1"});
    MustRun({"umoci", "unpack", "--image", oci + ":1", bundle});
    const std::string rootfs = bundle + "/rootfs";
    fs::create_directories(rootfs + "/bin");
    fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
    for (const char* applet : {"sh", "cat", "ls", "echo", "rm"}) {
      fs::create_symlink("busybox", rootfs + "/bin/" + applet);
    }
    WriteFile(rootfs + "/etc/motd", "from the base layer\n");
    WriteFile(rootfs + "/etc/gone", "deleted by the top layer\n");
    WriteFile(rootfs + "/data/a", "a");
    WriteFile(rootfs + "/data/b", "b");
    MustRun({"umoci", "repack", "--image", oci + ":1", bundle});

    auto blob = [&](const std::string& digest) { return oci + "/blobs/sha256/" + digest.substr(7); };
    auto index = nlohmann::json::parse(ReadFile(oci + "/index.json"));
    auto manifest = nlohmann::json::parse(ReadFile(blob(index["manifests"][0]["digest"])));
    REQUIRE(manifest["layers"].size() == 1);
    base_blob = blob(manifest["layers"][0]["digest"]);
    auto config = nlohmann::json::parse(ReadFile(blob(manifest["config"]["digest"])));
    base_diff_id = config["rootfs"]["diff_ids"][0];

    // As docker writes a layer diff: ./-prefixed names and whiteout files.
    const std::string staging = tmp.path() + "/top";
    WriteFile(staging + "/etc/motd", "from the top layer\n");
    WriteFile(staging + "/etc/.wh.gone", "");
    WriteFile(staging + "/data/.wh..wh..opq", "");
    WriteFile(staging + "/data/c", "c");
    MustRun({"tar", "-C", staging, "-cf", top_blob, "."});
    top_diff_id = "sha256:" + MustRun({"sha256sum", top_blob}).substr(0, 64);
  }
};

struct OverlayFixture {
  Layers layers;
  TempDir root;
  std::unique_ptr<Snapshotter> snapshotter;
  std::vector<std::string> lowers;
  std::string container = root.path() + "/containers/c1";
  MountGuard guard{container + "/rootfs"};

  OverlayFixture() {
    auto opened = Snapshotter::Open(root.path() + "/snapshots");
    REQUIRE_MESSAGE(opened.ok(), opened.status());
    snapshotter = std::move(*opened);
    const std::string base = layers.base_diff_id;
    const std::string top = ChainId(base, layers.top_diff_id);
    auto prepared = snapshotter->Prepare(base, "", layers.base_blob);
    REQUIRE_MESSAGE(prepared.ok(), prepared.status());
    prepared = snapshotter->Prepare(top, base, layers.top_blob);
    REQUIRE_MESSAGE(prepared.ok(), prepared.status());
    auto dirs = snapshotter->LowerDirs(top);
    REQUIRE_MESSAGE(dirs.ok(), dirs.status());
    lowers = *dirs;
  }
};

TEST_CASE("An overlay over two layers shows the top layer's changes and runs busybox") {
  RequirePrerequisites();
  OverlayFixture f;
  auto rootfs = ContainerRootfs::Mount(f.container, f.lowers);
  REQUIRE_MESSAGE(rootfs.ok(), rootfs.status());
  const std::string& r = (*rootfs)->path();
  CHECK(IsMountPoint(r));

  CHECK(ReadFile(r + "/etc/motd") == "from the top layer\n");
  CHECK(!fs::exists(r + "/etc/gone"));                                // whiteout
  CHECK(Names(r + "/data") == std::vector<std::string>{"c"});         // opaque folder
  CHECK(Names(f.lowers.back() + "/data") == std::vector<std::string>{"a", "b"});

  auto run = Run({"chroot", r, "/bin/sh", "-c", "cat /etc/motd; ls /data; echo hi > /new"});
  CHECK_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out == "from the top layer\nc\n");

  // Writes and deletions go to the container's upper folder, never to the layers.
  CHECK(ReadFile((*rootfs)->upper() + "/new") == "hi\n");
  REQUIRE(Run({"chroot", r, "/bin/rm", "/bin/cat"}).exit_code == 0);
  struct stat st;
  REQUIRE(::lstat(((*rootfs)->upper() + "/bin/cat").c_str(), &st) == 0);
  CHECK((S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)));
  CHECK(fs::is_symlink(f.lowers.back() + "/bin/cat"));
  for (const std::string& lower : f.lowers) CHECK(!fs::exists(lower + "/new"));

  REQUIRE(ContainerRootfs::Remove(f.container).ok());  // unmounts first
  CHECK(!fs::exists(f.container));
  CHECK(fs::exists(f.lowers.back() + "/bin/busybox"));
}

TEST_CASE("A released overlay stays mounted and is adopted, and a busy one unmounts lazily") {
  RequirePrerequisites();
  OverlayFixture f;
  {
    auto rootfs = ContainerRootfs::Mount(f.container, f.lowers);
    REQUIRE_MESSAGE(rootfs.ok(), rootfs.status());
    (*rootfs)->Release();  // the agent exits; the container keeps its root
  }
  CHECK(IsMountPoint(f.guard.path));
  auto adopted = ContainerRootfs::Mount(f.container, f.lowers);
  REQUIRE_MESSAGE(adopted.ok(), adopted.status());
  auto mounts = Run({"findmnt", "-n", "-o", "TARGET", "--mountpoint", f.guard.path});
  CHECK(std::count(mounts.out.begin(), mounts.out.end(), '\n') == 1);  // not stacked

  int busy = ::open((f.guard.path + "/etc/motd").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(busy >= 0);
  CHECK((*adopted)->Unmount().ok());
  CHECK(!IsMountPoint(f.guard.path));
  ::close(busy);
}

TEST_CASE("Many lower dirs mount through relative paths, up to the kernel's option limit") {
  RequirePrerequisites();
  TempDir tmp;
  auto lower = [&](int i) { return absl::StrFormat("%s/snapshots/%064d/fs", tmp.path(), i); };
  std::vector<std::string> lowers;
  for (int i = 0; i < 50; ++i) {  // top first
    lowers.push_back(lower(i));
    WriteFile(lower(i) + "/layer-" + std::to_string(i), "");
    WriteFile(lower(i) + "/who", std::to_string(i));
  }
  size_t absolute_options = 0;
  for (const auto& l : lowers) absolute_options += l.size() + 1;
  REQUIRE(absolute_options > 4096);  // so the relative path is what gets tested

  const std::string container = tmp.path() + "/c";
  MountGuard guard{container + "/rootfs"};
  {
    auto rootfs = ContainerRootfs::Mount(container, lowers);
    REQUIRE_MESSAGE(rootfs.ok(), rootfs.status());
    CHECK(ReadFile((*rootfs)->path() + "/who") == "0");
    CHECK(fs::exists((*rootfs)->path() + "/layer-49"));
  }
  CHECK(!IsMountPoint(guard.path));

  for (int i = 50; i < 200; ++i) lowers.push_back(lower(i));  // refused before any lookup
  auto too_many = ContainerRootfs::Mount(container, lowers);
  CHECK(absl::IsInvalidArgument(too_many.status()));
  CHECK_MESSAGE(std::string(too_many.status().message()).find("the kernel takes") !=
                    std::string::npos,
                too_many.status());
}

// Not a test of speed (nothing is asserted about time): prints the figures that
// bench/ reports. Run: bin/unpack_e2e -tc='*measure*'
TEST_CASE("measure: unpacking the busybox-static layer, median of 10") {
  RequirePrerequisites();
  Layers layers;
  TempDir out;
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  std::vector<double> apply_ms, prepare_ms;
  for (int i = 0; i < 10; ++i) {
    const std::string dest = out.path() + "/apply-" + std::to_string(i);
    fs::create_directories(dest);
    auto start = Clock::now();
    auto stats = ApplyLayer(layers.base_blob, dest);
    apply_ms.push_back(ms_since(start));
    REQUIRE_MESSAGE(stats.ok(), stats.status());
  }
  ::sync();  // so that each Prepare's syncfs flushes its own layer only
  for (int i = 0; i < 10; ++i) {
    auto snapshotter = Snapshotter::Open(out.path() + "/snap-" + std::to_string(i));
    REQUIRE(snapshotter.ok());
    auto start = Clock::now();
    auto prepared = (*snapshotter)->Prepare(layers.base_diff_id, "", layers.base_blob);
    prepare_ms.push_back(ms_since(start));
    REQUIRE_MESSAGE(prepared.ok(), prepared.status());
  }
  std::sort(apply_ms.begin(), apply_ms.end());
  std::sort(prepare_ms.begin(), prepare_ms.end());
  MESSAGE(absl::StrFormat("busybox-static layer (%d bytes gzip): ApplyLayer median %.2f ms, "
                          "Snapshotter::Prepare (with syncfs) median %.2f ms",
                          fs::file_size(layers.base_blob), (apply_ms[4] + apply_ms[5]) / 2,
                          (prepare_ms[4] + prepare_ms[5]) / 2));
}

}  // namespace
}  // namespace reef::agent::image
