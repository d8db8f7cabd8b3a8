#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "agent/volumes/container_mounts.h"
#include "tests/support/process.h"

namespace reef::agent::volumes {
namespace {

namespace fs = std::filesystem;
using reef::testing::TempDir;

// A volume folder next to a folder outside it, so escapes have somewhere to go.
struct SubPathFixture {
  TempDir tmp;
  std::string vol = tmp.path() + "/vol";
  std::string outside = tmp.path() + "/outside";

  SubPathFixture() {
    fs::create_directories(vol + "/conf/nested");
    fs::create_directories(outside);
    std::ofstream(vol + "/conf/app.yaml") << "a: 1";
    std::ofstream(outside + "/secret") << "no";
    ::chmod(vol.c_str(), 0777);
  }

  absl::StatusOr<std::string> Resolve(const std::string& sub, bool create = false) {
    return ResolveSubPath(vol, sub, create);
  }
};

TEST_CASE("volumes subPath: plain paths resolve inside the volume") {
  SubPathFixture f;
  CHECK(*f.Resolve("conf/app.yaml") == f.vol + "/conf/app.yaml");
  CHECK(*f.Resolve("conf//nested/") == f.vol + "/conf/nested");
  CHECK(*f.Resolve("./conf") == f.vol + "/conf");
}

TEST_CASE("volumes subPath: links are followed while they stay inside") {
  SubPathFixture f;
  fs::create_symlink("conf/nested", f.vol + "/rel");
  fs::create_symlink("../app.yaml", f.vol + "/conf/nested/up");
  fs::create_symlink(f.vol + "/conf", f.vol + "/abs");
  CHECK(*f.Resolve("rel") == f.vol + "/conf/nested");
  CHECK(*f.Resolve("rel/up") == f.vol + "/conf/app.yaml");
  CHECK(*f.Resolve("abs/app.yaml") == f.vol + "/conf/app.yaml");
}

TEST_CASE("volumes subPath: absolute paths, .. and links out of the volume are refused") {
  SubPathFixture f;
  fs::create_symlink("../outside", f.vol + "/up");
  fs::create_symlink(f.outside, f.vol + "/abs");
  fs::create_symlink("/etc", f.vol + "/etc");
  fs::create_symlink("nested/../../../outside/secret", f.vol + "/conf/sneaky");
  fs::create_symlink("loop", f.vol + "/loop");
  for (std::string bad : {"/etc", "../outside", "conf/../../outside"}) {
    CAPTURE(bad);
    CHECK(f.Resolve(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
  for (std::string escape : {"up", "up/secret", "abs/secret", "etc/passwd", "conf/sneaky"}) {
    CAPTURE(escape);
    auto r = f.Resolve(escape, /*create=*/true);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(r.status().message()).find("resolves outside the volume") != std::string::npos);
  }
  CHECK(std::string(f.Resolve("loop").status().message()).find("too many links") != std::string::npos);
  CHECK_FALSE(fs::exists(f.outside + "/x"));
}

TEST_CASE("volumes subPath: missing folders are created with the volume's mode, or refused") {
  SubPathFixture f;
  CHECK(f.Resolve("new/dir").status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(f.vol + "/new"));
  auto made = f.Resolve("new/dir", /*create=*/true);
  REQUIRE_MESSAGE(made.ok(), made.status());
  CHECK(*made == f.vol + "/new/dir");
  CHECK(fs::is_directory(f.vol + "/new/dir"));
  struct stat st;
  REQUIRE(::stat(made->c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0777);
  // Through a link that stays inside, too.
  fs::create_symlink("conf", f.vol + "/c");
  CHECK(*f.Resolve("c/made", true) == f.vol + "/conf/made");
}

struct MountsFixture {
  SubPathFixture f;
  reef::v1::Container c;
  PodVolumes volumes;

  MountsFixture() {
    c.set_name("app");
    volumes.host_paths["data"] = f.vol;
    volumes.host_paths["config"] = f.vol + "/conf";
    volumes.projected.insert("config");
  }
  reef::v1::VolumeMount* Mount(const std::string& name, const std::string& path,
                               const std::string& sub = "", bool ro = false) {
    auto* m = c.add_volume_mounts();
    m->set_name(name);
    m->set_mount_path(path);
    m->set_sub_path(sub);
    m->set_read_only(ro);
    return m;
  }
};

TEST_CASE("volumes ContainerMounts: sources, cleaned destinations, read-only") {
  MountsFixture m;
  m.Mount("data", "/data/");
  m.Mount("data", "/ro", "", true);
  m.Mount("config", "/etc/app");
  m.Mount("config", "/etc/app.yaml", "app.yaml");
  m.Mount("data", "/logs", "logs");
  auto mounts = ContainerMounts(m.c, m.volumes);
  REQUIRE_MESSAGE(mounts.ok(), mounts.status());
  REQUIRE(mounts->size() == 5);
  CHECK((*mounts)[0].source == m.f.vol);
  CHECK((*mounts)[0].destination == "/data");
  CHECK_FALSE((*mounts)[0].read_only);
  CHECK((*mounts)[1].read_only);
  CHECK((*mounts)[2].source == m.f.vol + "/conf");
  CHECK((*mounts)[2].read_only);  // configMap and secret volumes always are
  CHECK((*mounts)[3].source == m.f.vol + "/conf/app.yaml");
  CHECK((*mounts)[3].read_only);
  CHECK((*mounts)[4].source == m.f.vol + "/logs");
  CHECK(fs::is_directory(m.f.vol + "/logs"));
}

TEST_CASE("volumes ContainerMounts: errors name the container and the mount") {
  {
    MountsFixture m;
    m.Mount("data", "/x", "../outside");
    auto s = ContainerMounts(m.c, m.volumes).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() ==
          "container \"app\": volume mount \"data\" at /x: subPath \"../outside\" must not contain '..'");
  }
  {
    MountsFixture m;
    fs::create_symlink("/etc", m.f.vol + "/etc");
    m.Mount("data", "/x", "etc");
    auto s = ContainerMounts(m.c, m.volumes).status();
    CHECK(s.message() ==
          "container \"app\": volume mount \"data\" at /x: subPath \"etc\" resolves outside the volume");
  }
  {
    MountsFixture m;
    m.Mount("config", "/x", "missing");
    auto s = ContainerMounts(m.c, m.volumes).status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK_FALSE(fs::exists(m.f.vol + "/conf/missing"));  // projected volumes are not written
  }
  {
    MountsFixture m;
    m.Mount("nope", "/x");
    auto s = ContainerMounts(m.c, m.volumes).status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(std::string(s.message()).starts_with("container \"app\": volume mount \"nope\" at /x: "));
  }
  {
    MountsFixture m;
    m.Mount("data", "relative");
    CHECK(ContainerMounts(m.c, m.volumes).status().code() == absl::StatusCode::kInvalidArgument);
    MountsFixture n;
    n.Mount("data", "/a/../b");
    CHECK(ContainerMounts(n.c, n.volumes).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace reef::agent::volumes
