#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/state/agent_state.h"
#include "tests/support/process.h"

namespace reef::agent {
namespace {

TEST_CASE("agent state keeps pods and containers across reopen") {
  reef::testing::TempDir dir;
  std::string path = dir.path() + "/agent.db";
  {
    auto state = AgentState::Open(path);
    REQUIRE_MESSAGE(state.ok(), state.status().message());
    PodRecord pod{"default/web-n", "static:/m/web.yaml", "abc", {}};
    pod.pod.mutable_metadata()->set_name("web-n");
    pod.pod.mutable_status()->set_phase("Running");
    REQUIRE((*state)->PutPod(pod).ok());
    ContainerRecord c;
    c.id = "x-httpd-1";
    c.pod_key = "default/web-n";
    c.name = "httpd";
    c.spec_hash = "abc";
    c.attempt = 1;
    c.restart_count = 1;
    c.crashes = 2;
    c.not_before = absl::FromUnixMillis(1'700'000'123'456);
    c.last_exit_json = R"({"exit_code":3})";
    c.stopped_by_probe = true;
    REQUIRE((*state)->PutContainer(c).ok());
  }
  auto state = AgentState::Open(path);
  REQUIRE(state.ok());
  auto pods = (*state)->Pods();
  REQUIRE(pods.ok());
  REQUIRE(pods->size() == 1);
  CHECK((*pods)[0].source == "static:/m/web.yaml");
  CHECK((*pods)[0].pod.status().phase() == "Running");
  auto containers = (*state)->Containers();
  REQUIRE(containers.ok());
  REQUIRE(containers->size() == 1);
  const ContainerRecord& c = (*containers)[0];
  CHECK(c.id == "x-httpd-1");
  CHECK(c.crashes == 2);
  CHECK(c.not_before == absl::FromUnixMillis(1'700'000'123'456));
  CHECK(c.last_exit_json == R"({"exit_code":3})");
  CHECK(c.stopped_by_probe);
  CHECK_FALSE(c.finished);

  ContainerRecord never_backed_off = c;
  never_backed_off.id = "y";
  never_backed_off.not_before = absl::InfinitePast();
  REQUIRE((*state)->PutContainer(never_backed_off).ok());
  containers = (*state)->Containers();
  REQUIRE(containers->size() == 2);
  CHECK((*containers)[1].not_before == absl::InfinitePast());

  // Deleting the pod takes its containers.
  REQUIRE((*state)->DeletePod("default/web-n").ok());
  CHECK((*state)->Pods()->empty());
  CHECK((*state)->Containers()->empty());
}

TEST_CASE("agent state opens a database of the previous schema and keeps its containers") {
  reef::testing::TempDir dir;
  const std::string path = dir.path() + "/agent.db";
  {
    // The schema before stopped_by_probe (user_version 2), with one container in it.
    auto db = sqlite::Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE((*db)->Exec(R"sql(
      CREATE TABLE pods (key TEXT PRIMARY KEY, source TEXT NOT NULL, spec_hash TEXT NOT NULL,
        pod BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE containers (id TEXT PRIMARY KEY, pod_key TEXT NOT NULL, name TEXT NOT NULL,
        spec_hash TEXT NOT NULL, attempt INTEGER NOT NULL, restart_count INTEGER NOT NULL,
        crashes INTEGER NOT NULL, not_before_ms INTEGER NOT NULL,
        last_exit TEXT NOT NULL, finished INTEGER NOT NULL, exit TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE controller_objects (key TEXT PRIMARY KEY, object BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE controller_sync (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
      INSERT INTO controller_sync (id, revision) VALUES (1, 7);
      INSERT INTO containers VALUES ('old-1', 'default/web', 'main', 'abc', 0, 4, 0, 0, '', 0, '');
      PRAGMA user_version = 2;
    )sql").ok());
  }
  auto state = AgentState::Open(path);
  REQUIRE_MESSAGE(state.ok(), state.status().message());
  auto containers = (*state)->Containers();
  REQUIRE(containers.ok());
  REQUIRE(containers->size() == 1);
  CHECK((*containers)[0].id == "old-1");
  CHECK((*containers)[0].restart_count == 4);
  CHECK_FALSE((*containers)[0].stopped_by_probe);
}

ControllerUpdate SecretAndConfigMap(int64_t revision) {
  ControllerUpdate u;
  u.revision = revision;
  auto& secret = u.upserts["Secret default/db"];
  secret.mutable_secret()->mutable_metadata()->set_name("db");
  (*secret.mutable_secret()->mutable_data())["password"] = "hunter2-very-secret";
  auto& cm = u.upserts["ConfigMap default/cfg"];
  cm.mutable_config_map()->mutable_metadata()->set_name("cfg");
  (*cm.mutable_config_map()->mutable_data())["mode"] = "fast";
  return u;
}

TEST_CASE("agent state keeps Secrets in their own database, never in the main one") {
  reef::testing::TempDir dir;
  const std::string main_db = dir.path() + "/agent.db", secrets_db = dir.path() + "/volatile/secrets.db";
  std::filesystem::create_directories(dir.path() + "/volatile");
  {
    auto state = AgentState::Open(main_db, secrets_db);
    REQUIRE_MESSAGE(state.ok(), state.status().message());
    REQUIRE((*state)->ApplyController(SecretAndConfigMap(7)).ok());
    auto read = (*state)->Controller();
    REQUIRE(read.ok());
    CHECK(read->revision == 7);
    REQUIRE(read->objects.size() == 2);
    CHECK(read->objects.at("Secret default/db").secret().data().at("password") == "hunter2-very-secret");
  }
  // Every byte the main database left on disk (WAL included) is free of the Secret.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.is_regular_file()) CHECK_MESSAGE(reef::testing::ReadWholeFile(e.path()).find("hunter2-very-secret") == std::string::npos, e.path());
  }
  CHECK(reef::testing::ReadWholeFile(secrets_db).find("hunter2-very-secret") != std::string::npos);

  SUBCASE("a reopen with the Secrets database in place keeps everything") {
    auto state = AgentState::Open(main_db, secrets_db);
    REQUIRE(state.ok());
    CHECK((*state)->Controller()->revision == 7);
    CHECK((*state)->Controller()->objects.size() == 2);
  }
  SUBCASE("after a reboot (the tmpfs emptied) the revision goes back to 0 for a full snapshot") {
    std::filesystem::remove(secrets_db);
    auto state = AgentState::Open(main_db, secrets_db);
    REQUIRE(state.ok());
    auto read = (*state)->Controller();
    CHECK(read->revision == 0);
    CHECK(read->objects.count("ConfigMap default/cfg") == 1);  // pods and ConfigMaps run on
    CHECK(read->objects.count("Secret default/db") == 0);
  }
}

}  // namespace
}  // namespace reef::agent
