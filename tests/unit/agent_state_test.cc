#include <doctest/doctest.h>

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

}  // namespace
}  // namespace reef::agent
