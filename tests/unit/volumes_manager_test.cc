// VolumeManager without mounts (no root needed): emptyDir on disk, hostPath and
// configMap volumes, errors, Remove / List / GarbageCollect. Secret and Memory
// volumes need tmpfs mounts: e2e/volumes_tmpfs_test.cc.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/volumes/container_mounts.h"
#include "agent/volumes/volume_manager.h"
#include "tests/support/process.h"
#include "tests/unit/volumes_fake_source.h"

namespace reef::agent::volumes {
namespace {

namespace fs = std::filesystem;
using reef::testing::ReadWholeFile;
using reef::testing::TempDir;

struct ManagerFixture {
  TempDir tmp;
  VolumeManager manager{{tmp.path() + "/pods"}};
  testing::FakeSource source;
  reef::v1::Pod pod;

  ManagerFixture() {
    pod.mutable_metadata()->set_name("web");
    pod.mutable_metadata()->set_namespace_("shop");
    pod.mutable_spec()->add_containers()->set_name("app");
  }
  reef::v1::Volume* Add(const std::string& name) {
    auto* v = pod.mutable_spec()->add_volumes();
    v->set_name(name);
    return v;
  }
  PodVolumes Prepare(const std::string& sandbox = "sb1") {
    auto v = manager.Prepare(pod, sandbox, source);
    REQUIRE_MESSAGE(v.ok(), v.status());
    return *v;
  }
  std::string Dir(const std::string& kind, const std::string& name, const std::string& sandbox = "sb1") {
    return reef::StrCat(tmp.path(), "/pods/", sandbox, "/volumes/", kind, "/", name);
  }
};

TEST_CASE("volumes manager: emptyDir, hostPath and configMap volumes") {
  ManagerFixture f;
  f.Add("scratch")->mutable_empty_dir();
  f.Add("nothing");  // no source: an emptyDir, as the API server defaults it
  auto* host = f.Add("host")->mutable_host_path();
  host->set_path(f.tmp.path() + "/host/data");
  host->set_type("DirectoryOrCreate");
  auto* cm = f.Add("config")->mutable_config_map();
  cm->set_name("sensor-config");
  auto* item = cm->add_items();
  item->set_key("mode");
  item->set_path("conf/mode.txt");
  item->set_mode(0600);
  f.source.PutConfigMap("shop", "sensor-config", {{"mode", "fast"}, {"other", "x"}});

  PodVolumes v = f.Prepare();
  CHECK(v.host_paths.at("scratch") == f.Dir("empty-dir", "scratch"));
  CHECK(v.host_paths.at("nothing") == f.Dir("empty-dir", "nothing"));
  CHECK(v.host_paths.at("host") == f.tmp.path() + "/host/data");
  CHECK(v.host_paths.at("config") == f.Dir("configmap", "config"));
  CHECK(v.projected == std::set<std::string>{"config"});
  CHECK(fs::is_directory(f.tmp.path() + "/host/data"));
  CHECK((fs::status(f.Dir("empty-dir", "scratch")).permissions() & fs::perms::all) == fs::perms::all);
  CHECK(ReadWholeFile(f.Dir("configmap", "config") + "/conf/mode.txt") == "fast");
  CHECK_FALSE(fs::exists(f.Dir("configmap", "config") + "/other"));
  CHECK((fs::status(f.Dir("configmap", "config") + "/conf/mode.txt").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("volumes manager: an unchanged pod costs no writes, a changed ConfigMap is rewritten") {
  ManagerFixture f;
  f.Add("config")->mutable_config_map()->set_name("cfg");
  f.source.PutConfigMap("shop", "cfg", {{"a", "1"}});
  f.Prepare();
  const std::string dir = f.Dir("configmap", "config");
  const std::string v1 = fs::read_symlink(dir + "/..data").string();
  auto mtime = fs::last_write_time(dir);
  for (int i = 0; i < 3; ++i) f.Prepare();
  CHECK(fs::read_symlink(dir + "/..data") == v1);
  CHECK(fs::last_write_time(dir) == mtime);

  f.source.PutConfigMap("shop", "cfg", {{"a", "2"}, {"b", "3"}});
  f.Prepare();
  CHECK(fs::read_symlink(dir + "/..data") != v1);
  CHECK(ReadWholeFile(dir + "/a") == "2");
  CHECK(ReadWholeFile(dir + "/b") == "3");
}

TEST_CASE("volumes manager: a whole-folder mount sees updates, a subPath mount pins its file") {
  ManagerFixture f;
  f.Add("config")->mutable_config_map()->set_name("cfg");
  f.source.PutConfigMap("shop", "cfg", {{"a", "1"}});
  PodVolumes v = f.Prepare();
  reef::v1::Container& c = *f.pod.mutable_spec()->mutable_containers(0);
  auto* whole = c.add_volume_mounts();
  whole->set_name("config");
  whole->set_mount_path("/etc/app");
  auto* one = c.add_volume_mounts();
  one->set_name("config");
  one->set_mount_path("/etc/a");
  one->set_sub_path("a");
  auto mounts = ContainerMounts(c, v);
  REQUIRE_MESSAGE(mounts.ok(), mounts.status());
  const std::string folder = (*mounts)[0].source, pinned = (*mounts)[1].source;
  CHECK(pinned.find("/..") != std::string::npos);  // the version folder, links resolved

  f.source.PutConfigMap("shop", "cfg", {{"a", "2"}});
  f.Prepare();
  CHECK(ReadWholeFile(folder + "/a") == "2");
  // The old version is gone from the volume; a running container keeps the inode its
  // bind mount holds (as in Kubernetes, where subPath mounts see no updates).
  CHECK_FALSE(fs::exists(pinned));
}

TEST_CASE("volumes manager: missing objects and keys name the volume, optional ones are empty") {
  {
    ManagerFixture f;
    f.Add("config")->mutable_config_map()->set_name("sensor-config");
    f.Add("scratch")->mutable_empty_dir();
    auto s = f.manager.Prepare(f.pod, "sb1", f.source).status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(s.message() == "volume \"config\": configmap \"sensor-config\" not found");
    CHECK(fs::is_directory(f.Dir("empty-dir", "scratch")));  // the others still made
  }
  {
    ManagerFixture f;
    auto* cm = f.Add("config")->mutable_config_map();
    cm->set_name("cfg");
    auto* item = cm->add_items();
    item->set_key("level");
    item->set_path("level");
    f.source.PutConfigMap("shop", "cfg", {{"mode", "fast"}});
    auto s = f.manager.Prepare(f.pod, "sb1", f.source).status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(s.message() == "volume \"config\": configmap \"cfg\" references non-existent config key: level");
  }
  {
    ManagerFixture f;
    auto* secret = f.Add("creds")->mutable_secret();
    secret->set_secret_name("db");
    auto s = f.manager.Prepare(f.pod, "sb1", f.source).status();
    CHECK(s.message() == "volume \"creds\": secret \"db\" not found");
    CHECK_FALSE(fs::exists(f.Dir("secret", "creds")));  // nothing mounted for it
  }
  {
    ManagerFixture f;
    auto* cm = f.Add("config")->mutable_config_map();
    cm->set_name("gone");
    cm->set_optional(true);
    PodVolumes v = f.Prepare();
    const std::string dir = v.host_paths.at("config");
    CHECK(fs::is_symlink(dir + "/..data"));
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);
  }
  {
    ManagerFixture f;
    auto* host = f.Add("sock")->mutable_host_path();
    host->set_path(f.tmp.path() + "/missing.sock");
    host->set_type("Socket");
    auto s = f.manager.Prepare(f.pod, "sb1", f.source).status();
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(s.message() == "volume \"sock\": hostPath type check failed: " + f.tmp.path() +
                             "/missing.sock does not exist");
  }
}

TEST_CASE("volumes manager: Remove, List and GarbageCollect, hostPath contents survive") {
  ManagerFixture f;
  auto* host = f.Add("host")->mutable_host_path();
  host->set_path(f.tmp.path() + "/host");
  host->set_type("DirectoryOrCreate");
  f.Add("scratch")->mutable_empty_dir();
  f.Prepare("sb1");
  f.Prepare("sb2");
  f.Prepare("sb3");
  std::ofstream(f.tmp.path() + "/host/keep") << "keep";
  std::ofstream(f.Dir("empty-dir", "scratch", "sb1") + "/junk") << "junk";
  // A link to the hostPath inside an emptyDir: removal must not follow it.
  fs::create_symlink(f.tmp.path() + "/host", f.Dir("empty-dir", "scratch", "sb1") + "/link");

  CHECK(*f.manager.List() == std::vector<std::string>{"sb1", "sb2", "sb3"});
  CHECK(f.manager.Remove("sb1").ok());
  CHECK(f.manager.Remove("sb1").ok());  // idempotent
  CHECK(f.manager.Remove("never-existed").ok());
  CHECK(*f.manager.List() == std::vector<std::string>{"sb2", "sb3"});
  CHECK(ReadWholeFile(f.tmp.path() + "/host/keep") == "keep");

  CHECK(f.manager.GarbageCollect({"sb3"}).ok());
  CHECK(*f.manager.List() == std::vector<std::string>{"sb3"});
  CHECK(f.manager.Remove("../escape").code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.manager.Prepare(f.pod, "..", f.source).status().code() == absl::StatusCode::kInvalidArgument);

  VolumeManager empty({f.tmp.path() + "/no-such-dir"});
  CHECK(empty.List()->empty());
}

}  // namespace
}  // namespace reef::agent::volumes
