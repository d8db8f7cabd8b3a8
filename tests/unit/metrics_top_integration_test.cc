// `reefctl top` end to end without containers: a real reef-controller and reefctl, and
// a node's stream opened in this process with a node certificate (the agent's join
// library) that sends heartbeats carrying figures, as reef-agent's collector would.

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <thread>

#include "agent/cluster/join.h"
#include "common/files.h"
#include "reef/v1/agent.grpc.pb.h"
#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// One node's Connect stream, as an agent would hold it.
class FakeAgent {
 public:
  FakeAgent(const Controller& controller, const std::string& node) {
    auto token = ReadFileLimited(controller.node_token_file(), 4096);
    REQUIRE(token.ok());
    agent::JoinOptions join{controller.address(), Trimmed(*token), node, dir_.path(), absl::Seconds(20)};
    absl::Status joined = agent::JoinCluster(join);
    REQUIRE_MESSAGE(joined.ok(), joined.ToString());
    auto credentials = agent::LoadNodeCredentials(dir_.path());
    REQUIRE(credentials.ok());
    stub_ = v1::AgentService::NewStub(grpc::CreateChannel(controller.address(), *credentials));
    stream_ = stub_->Connect(&ctx_);
    v1::AgentMessage hello;
    v1::Node* n = hello.mutable_hello()->mutable_node();
    n->mutable_metadata()->set_name(node);
    (*n->mutable_status()->mutable_capacity())["cpu"] = "4";
    (*n->mutable_status()->mutable_capacity())["memory"] = "4Gi";
    (*n->mutable_status()->mutable_allocatable())["cpu"] = "4";
    (*n->mutable_status()->mutable_allocatable())["memory"] = "4Gi";
    REQUIRE(stream_->Write(hello));
    v1::ControllerMessage welcome;
    REQUIRE(stream_->Read(&welcome));
    REQUIRE(welcome.has_welcome());
  }
  ~FakeAgent() { Close(); }

  void Beat(const v1::Heartbeat& heartbeat) {
    v1::AgentMessage m;
    *m.mutable_heartbeat() = heartbeat;
    REQUIRE(stream_->Write(m));
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    stream_->WritesDone();
    v1::ControllerMessage ignored;
    while (stream_->Read(&ignored)) {
    }
    stream_->Finish().ok();
  }

 private:
  TempDir dir_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>> stream_;
  bool closed_ = false;
};

v1::Heartbeat Figures() {
  v1::Heartbeat h;
  v1::NodeMetrics* node = h.mutable_node_metrics();
  node->mutable_metadata()->set_name("edge-1");
  node->set_timestamp("2026-12-03T13:03:02Z");
  node->set_window("10s");
  (*node->mutable_usage())["cpu"] = "1";
  (*node->mutable_usage())["memory"] = "1Gi";
  for (const char* name : {"web", "db"}) {
    v1::PodMetrics* pod = h.add_pod_metrics();
    pod->mutable_metadata()->set_namespace_("default");
    pod->mutable_metadata()->set_name(name);
    v1::ContainerMetrics* c = pod->add_containers();
    c->set_name("main");
    (*c->mutable_usage())["cpu"] = std::string(name) == "web" ? "12345678n" : "250m";
    (*c->mutable_usage())["memory"] = std::string(name) == "web" ? "34Mi" : "100Mi";
  }
  return h;
}

// Runs reefctl until its exit code is `code` (figures arrive asynchronously), for up
// to ten seconds; returns the last run.
RunResult CtlUntil(const TestCluster& c, const std::vector<std::string>& args, int code) {
  RunResult r;
  for (int i = 0; i < 100; ++i) {
    r = c.Ctl(args);
    if (r.exit_code == code) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return r;
}

TEST_CASE("top: a node's heartbeat figures reach reefctl top, and go when its stream ends") {
  TestCluster c({"--controllers=-*"});
  RunResult r = c.Ctl({"top", "nodes"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: metrics not available yet\n");
  r = c.Ctl({"top", "pods"});
  CHECK(r.exit_code == 0);
  CHECK(r.err == "No resources found in default namespace.\n");

  FakeAgent agent(*c.controller, "edge-1");
  agent.Beat(v1::Heartbeat());  // an agent that does not measure: still nothing
  r = c.Ctl({"top", "nodes"});
  CHECK(r.err == "error: metrics not available yet\n");

  agent.Beat(Figures());
  r = CtlUntil(c, {"top", "nodes"}, 0);
  CHECK(r.out ==
        "NAME     CPU(cores)   CPU%   MEMORY(bytes)   MEMORY%\n"
        "edge-1   1000m        25%    1024Mi          25%\n");
  r = c.Ctl({"top", "pods", "--sort-by", "cpu"});
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "NAME   CPU(cores)   MEMORY(bytes)\n"
        "db     250m         100Mi\n"
        "web    13m          34Mi\n");
  r = c.Ctl({"top", "pod", "web", "--containers"});
  CHECK(r.out ==
        "POD   NAME   CPU(cores)   MEMORY(bytes)\n"
        "web   main   13m          34Mi\n");
  r = c.Ctl({"top", "pods", "-n", "ops"});
  CHECK(r.exit_code == 0);
  CHECK(r.err == "No resources found in ops namespace.\n");
  r = c.Ctl({"top", "nodes", "edge-9"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("not found") != std::string::npos);

  agent.Close();
  r = CtlUntil(c, {"top", "nodes"}, 1);
  CHECK(r.err == "error: metrics not available yet\n");
}

}  // namespace
}  // namespace reef::testing
