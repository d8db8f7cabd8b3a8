// The cluster end to end: a controller and agents, each agent in its own network
// namespace "host", joined with the node token; real runc containers from an image
// imported into each agent (no registry needed); everything driven through reefctl.

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/cluster_fixture.h"

namespace reef::testing {
namespace {

std::string CounterDeployment(int replicas) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: counter}
spec:
  replicas: )" + std::to_string(replicas) + R"(
  selector: {matchLabels: {app: counter}}
  template:
    metadata: {labels: {app: counter}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/busybox:1
        imagePullPolicy: Never
        command: [sh, -c, 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']
)";
}

// The names of the pods a `get pods -o wide` lists on `node`.
std::vector<std::string> PodsOn(const std::string& wide, const std::string& node) {
  std::vector<std::string> names;
  std::istringstream lines(wide);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" " + node + " ") != std::string::npos) names.push_back(line.substr(0, line.find(' ')));
  }
  return names;
}

TEST_CASE("cluster: two agents join with the token, a Deployment spreads over them, logs follow") {
  ClusterFixture f(2);
  std::string nodes = f.WaitForCtl({"get", "nodes"}, [](const std::string& o) {
    return Count(o, " Ready ") == 2;
  });
  CHECK(Contains(nodes, "host0"));
  CHECK(Contains(nodes, "host1"));

  RunResult applied = f.Ctl({"apply", "-f", "-"}, CounterDeployment(3));
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  std::string pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 3;
  });
  // Spread over both nodes, each pod with an address from its node's pod CIDR (the
  // controller hands out 10.42.0.0/24, 10.42.1.0/24, ... in join order).
  CHECK(Contains(pods, "host0"));
  CHECK(Contains(pods, "host1"));
  CHECK(Contains(pods, "10.42.0."));
  CHECK(Contains(pods, "10.42.1."));

  // The node's view of the pod: its log, relayed.
  std::string name = pods.substr(pods.find("counter-"));
  name = name.substr(0, name.find(' '));
  f.WaitForCtl({"logs", name, "--tail", "2"}, [](const std::string& o) { return Count(o, "line ") == 2; });

  Process follow = Process::Start(f.CtlArgv({"logs", "-f", "--tail", "1", name}), IsolatedEnv());
  auto first = follow.WaitForLine([](const std::string& l) { return l.rfind("line ", 0) == 0; }, kWait);
  REQUIRE_MESSAGE(first.has_value(), follow.Stderr());
  int first_n = std::stoi(first->substr(5));
  // Lines written after the call started keep arriving.
  auto later = follow.WaitForLine(
      [&](const std::string& l) { return l.rfind("line ", 0) == 0 && std::stoi(l.substr(5)) >= first_n + 10; }, kWait);
  CHECK_MESSAGE(later.has_value(), follow.Output() << follow.Stderr());
}

TEST_CASE("cluster: a node cut off keeps its containers, is replaced after the eviction timeout, and heals") {
  ClusterFixture f(2, {"--node-lease-duration", "4s", "--pod-eviction-timeout", "6s"});
  f.WaitForReadyNodes(2);
  RunResult applied = f.Ctl({"apply", "-f", "-"}, CounterDeployment(2));
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  std::string pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 2 && Contains(o, " host0 ") && Contains(o, " host1 ");
  });
  std::vector<std::string> on_host1 = PodsOn(pods, "host1");
  REQUIRE(on_host1.size() == 1);
  const std::string lost = on_host1[0];

  f.hosts().Cut(1);
  f.WaitForCtl({"get", "nodes"}, [](const std::string& o) {
    std::string line = o.substr(o.find("host1"));
    return Contains(line.substr(0, line.find('\n')), "NotReady");
  });
  // Edge autonomy: the box keeps running its pod while the controller cannot see it.
  CHECK(Contains(f.AgentPs(1), lost));
  // After the eviction timeout its pod is replaced on the node that is still there.
  pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [&](const std::string& o) {
    return !Contains(o, lost) && PodsOn(o, "host0").size() == 2 && Count(o, "Running") == 2;
  });
  std::string box = f.AgentPs(1);
  CHECK_MESSAGE(Contains(box, lost), box);
  CHECK_MESSAGE(Contains(box, "Running"), box);

  f.hosts().Heal(1);
  f.WaitForReadyNodes(2);
  // The replaced copy goes from the box; the cluster still has exactly its 2 pods.
  f.WaitForAgentPs(1, [&](const std::string& o) { return !Contains(o, lost); });
  pods = f.Ctl({"get", "pods", "-o", "wide"}).out;
  CHECK_MESSAGE(Count(pods, "Running") == 2, pods);
  CHECK_MESSAGE(PodsOn(pods, "host0").size() == 2, pods);
}

TEST_CASE("cluster: a DaemonSet runs one pod per node, also on a node that joins later") {
  ClusterFixture f(1, {}, 2);
  f.WaitForReadyNodes(1);
  RunResult applied = f.Ctl({"apply", "-f", "-"}, R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: shipper}
spec:
  selector: {matchLabels: {app: shipper}}
  template:
    metadata: {labels: {app: shipper}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: localhost/busybox:1, imagePullPolicy: Never, command: [sleep, "3600"]}
)");
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 1 && PodsOn(o, "host0").size() == 1;
  });
  f.StartAgent(1);
  std::string pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 2 && PodsOn(o, "host1").size() == 1;
  });
  CHECK(PodsOn(pods, "host0").size() == 1);
  f.WaitForCtl({"get", "ds"}, [](const std::string& o) { return Contains(o, "shipper"); });
}

TEST_CASE("cluster: changing the template rolls the Deployment within maxUnavailable, undo goes back") {
  ClusterFixture f(2);
  f.WaitForReadyNodes(2);
  auto deployment = [](const std::string& value) {
    return R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/busybox:1
        imagePullPolicy: Never
        command: [sh, -c, 'echo version $VERSION; exec sleep 3600']
        env: [{name: VERSION, value: ")" + value + R"("}]
)";
  };
  REQUIRE(f.Ctl({"apply", "-f", "-"}, deployment("one")).exit_code == 0);
  f.WaitForCtl({"get", "deploy", "web"}, [](const std::string& o) { return Contains(o, "3/3"); });
  std::string before = f.Ctl({"get", "pods", "-o", "name"}).out;

  REQUIRE(f.Ctl({"apply", "-f", "-"}, deployment("two")).exit_code == 0);
  // Watch the rollout: never fewer than replicas - maxUnavailable pods Running.
  int min_running = 3;
  bool rolled = false;
  for (auto end = std::chrono::steady_clock::now() + kWait; std::chrono::steady_clock::now() < end && !rolled;) {
    std::string pods = f.Ctl({"get", "pods"}).out;
    min_running = std::min(min_running, Count(pods, "Running"));
    std::string status = f.Ctl({"rollout", "status", "deployment/web", "--watch=false"}).out;
    rolled = Contains(status, "successfully rolled out");
  }
  CHECK_MESSAGE(rolled, f.Logs());
  CHECK(min_running >= 2);
  std::string after = f.Ctl({"get", "pods", "-o", "name"}).out;
  for (std::istringstream names(before); !names.eof();) {
    std::string name;
    std::getline(names, name);
    if (!name.empty()) CHECK_MESSAGE(!Contains(after, name), name << " survived the rollout");
  }
  std::string name = after.substr(after.find("pod/") + 4);
  name = name.substr(0, name.find('\n'));
  f.WaitForCtl({"logs", name}, [](const std::string& o) { return Contains(o, "version two"); });

  RunResult undo = f.Ctl({"rollout", "undo", "deployment/web"});
  CHECK_MESSAGE(undo.exit_code == 0, undo.err);
  f.WaitForCtl({"rollout", "status", "deployment/web", "--watch=false"},
               [](const std::string& o) { return Contains(o, "successfully rolled out"); });
  std::string spec = f.Ctl({"get", "deploy", "web", "-o", "yaml"}).out;
  CHECK(Contains(spec, "value: one"));
}

TEST_CASE("cluster: the agent renews its certificate before expiry and reconnects with it, no restart") {
  ClusterFixture f(1, {"--node-cert-validity", "9s"});
  f.WaitForReadyNodes(1);
  // Renewed at two thirds of 9 s, twice; each time the stream comes back on the new
  // certificate (the old one would be expired by the second renewal).
  for (auto end = std::chrono::steady_clock::now() + kWait;
       std::chrono::steady_clock::now() < end && Count(f.ControllerLog(), "renew: node \"host0\" has a new certificate") < 2;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  REQUIRE_MESSAGE(Count(f.ControllerLog(), "renew: node \"host0\" has a new certificate") >= 2, f.Logs());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(f.AgentRunning(0));
  CHECK_MESSAGE(Count(f.AgentLog(0), "connected to the controller") >= 3, f.AgentLog(0));
  f.WaitForReadyNodes(1);
}

}  // namespace
}  // namespace reef::testing
