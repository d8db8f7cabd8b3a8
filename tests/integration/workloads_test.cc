// Deployments, the scheduler and node lifecycle through the real reef-controller,
// driven only with reefctl.
//
// No agent runs here. What agents would report is written with
// `reefctl apply --subresource=status`: the nodes' Ready condition and allocatable,
// and the pods' Ready condition. A node that never had a lease since the controller
// started gets one lease duration of grace (node lifecycle), during which its stored
// Ready=True is trusted: these tests start the controller with a lease long enough
// for the whole test, or short enough to watch the nodes go NotReady.

#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr char kNodes[] = R"(apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {kubernetes.io/arch: amd64, kubernetes.io/os: linux, kubernetes.io/hostname: n1}
---
apiVersion: v1
kind: Node
metadata:
  name: n2
  labels: {kubernetes.io/arch: amd64, kubernetes.io/os: linux, kubernetes.io/hostname: n2}
)";

std::string NodeStatus(const std::string& name) {
  return reef::StrCat(R"(apiVersion: v1
kind: Node
metadata: {name: )", name, R"(}
status:
  allocatable: {cpu: "2", memory: 2Gi, pods: "110"}
  conditions: [{type: Ready, status: "True", reason: AgentReady, message: reef-agent is posting ready status}]
)");
}

std::string WebDeployment(const std::string& image, int replicas) {
  return reef::StrCat(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: )", replicas, R"(
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: )", image, R"(
        resources: {requests: {cpu: 100m, memory: 32Mi}}
)");
}

// A controller with two Ready nodes.
struct Cluster {
  TempDir dir;
  std::unique_ptr<Controller> controller;
  explicit Cluster(const std::vector<std::string>& flags) {
    controller = std::make_unique<Controller>(dir.path() + "/data", flags);
    Ok({"apply", "-f", "-"}, kNodes);
    Ok({"apply", "--subresource=status", "-f", "-"}, NodeStatus("n1") + "---\n" + NodeStatus("n2"));
  }
  std::string Ok(const std::vector<std::string>& args, const std::string& stdin_data = "") const {
    RunResult r = controller->Ctl(args, stdin_data);
    INFO("reefctl ", args.front(), " ", args.size() > 1 ? args[1] : "", ": ", r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
  RunResult Ctl(const std::vector<std::string>& args) const { return controller->Ctl(args); }
};

// Rows of `get pods -o wide`: name -> node ("<none>" when unbound).
std::map<std::string, std::string> PodNodes(const Cluster& c, const std::string& selector) {
  std::map<std::string, std::string> out;
  std::istringstream lines(c.Ok({"get", "pods", "-l", selector, "-o", "wide"}));
  std::string line;
  std::getline(lines, line);  // header
  static const std::regex kGap(" {3,}");
  while (std::getline(lines, line)) {
    std::vector<std::string> cells(std::sregex_token_iterator(line.begin(), line.end(), kGap, -1),
                                   std::sregex_token_iterator());
    if (cells.size() >= 7) out[cells[0]] = cells[6];
  }
  return out;
}

// Waits until `done` holds (polling every 100 ms, up to 30 s).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 300; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

std::map<std::string, int> PerNode(const std::map<std::string, std::string>& pods) {
  std::map<std::string, int> out;
  for (const auto& [pod, node] : pods) ++out[node];
  return out;
}

// The agents' part: every bound pod of `selector` reports Ready.
void MarkReady(const Cluster& c, const std::string& selector) {
  std::string status;
  for (const auto& [pod, node] : PodNodes(c, selector)) {
    if (node == "<none>") continue;
    status += reef::StrCat("---\napiVersion: v1\nkind: Pod\nmetadata: {name: ", pod, "}\nstatus:\n",
                           "  phase: Running\n  conditions: [{type: Ready, status: \"True\"}]\n");
  }
  if (!status.empty()) c.Ok({"apply", "--subresource=status", "-f", "-"}, status);
}

// Marks pods ready until `rollout status` says the rollout is complete.
void RollOut(const Cluster& c) {
  bool done = Eventually([&] {
    MarkReady(c, "app=web");
    RunResult r = c.Ctl({"rollout", "status", "deployment/web", "--watch=false"});
    return r.exit_code == 0 && Contains(r.out, "successfully rolled out");
  });
  REQUIRE(done);
}

TEST_CASE("a Deployment of 3 over 2 Ready nodes: spread 2/1, rolled out, scaled, restarted, undone") {
  Cluster c({"--node-lease-duration", "10m"});
  c.Ok({"apply", "-f", "-"}, WebDeployment("busybox:1.36", 3));

  std::map<std::string, std::string> pods;
  REQUIRE(Eventually([&] {
    pods = PodNodes(c, "app=web");
    return pods.size() == 3 && PerNode(pods).count("<none>") == 0;
  }));
  std::map<std::string, int> per_node = PerNode(pods);
  CHECK(per_node.size() == 2);
  CHECK(((per_node["n1"] == 2 && per_node["n2"] == 1) || (per_node["n1"] == 1 && per_node["n2"] == 2)));

  // Not ready yet: the Deployment's status says so, and rollout status waits.
  std::string out = c.Ok({"get", "deploy", "web"});
  CHECK(Contains(out, "NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n"));
  CHECK(Contains(out, "web    0/3     3            0           "));
  RunResult waiting = c.Ctl({"rollout", "status", "deployment/web", "--timeout", "1s"});
  CHECK(waiting.exit_code == 1);
  CHECK(Contains(waiting.out,
                 "Waiting for deployment \"web\" rollout to finish: 0 of 3 updated replicas are available...\n"));
  CHECK(Contains(waiting.err, "error: timed out waiting for the condition"));

  // rollout status follows the rollout as the pods turn ready.
  Process follow = c.controller->StartCtl({"rollout", "status", "deploy", "web", "--timeout", "60s"});
  MarkReady(c, "app=web");
  CHECK(follow.Wait(std::chrono::seconds(60)) == 0);
  CHECK(Contains(follow.Output(), "deployment \"web\" successfully rolled out\n"));
  out = c.Ok({"get", "deploy", "web"});
  CHECK(Contains(out, "web    3/3     3            3           "));

  // get rs: kubectl's columns; -o wide adds the template and the selector.
  out = c.Ok({"get", "rs"});
  CHECK(out.rfind("NAME", 0) == 0);
  CHECK(Contains(out, "DESIRED   CURRENT   READY   AGE\n"));
  CHECK(std::regex_search(out, std::regex("\nweb-[a-z0-9]+ +3 +3 +3 +")));
  out = c.Ok({"get", "replicasets", "-o", "wide"});
  CHECK(Contains(out, "CONTAINERS   IMAGES         SELECTOR"));
  CHECK(Contains(out, "httpd        busybox:1.36   app=web,pod-template-hash="));

  // scale.
  CHECK(c.Ok({"scale", "deployment/web", "--replicas", "4"}) == "deployment.apps/web scaled\n");
  REQUIRE(Eventually([&] { return PodNodes(c, "app=web").size() == 4; }));
  CHECK(PerNode(PodNodes(c, "app=web")) == std::map<std::string, int>{{"n1", 2}, {"n2", 2}});
  RollOut(c);

  // restart: a new template, a second revision, every pod replaced.
  std::map<std::string, std::string> before = PodNodes(c, "app=web");
  CHECK(c.Ok({"rollout", "restart", "deployment/web"}) == "deployment.apps/web restarted\n");
  RollOut(c);
  std::map<std::string, std::string> after = PodNodes(c, "app=web");
  CHECK(after.size() == 4);
  for (const auto& [pod, node] : after) CHECK(before.count(pod) == 0);
  out = c.Ok({"rollout", "history", "deployment/web"});
  CHECK(out == "deployment.apps/web\nREVISION   CHANGE-CAUSE\n1          <none>\n2          <none>\n");

  // undo: back to the first template, as revision 3.
  CHECK(c.Ok({"rollout", "undo", "deployment/web"}) == "deployment.apps/web rolled back\n");
  RollOut(c);
  out = c.Ok({"rollout", "history", "deploy", "web"});
  CHECK(out == "deployment.apps/web\nREVISION   CHANGE-CAUSE\n2          <none>\n3          <none>\n");
  CHECK(!Contains(c.Ok({"get", "deploy", "web", "-o", "yaml"}), "restartedAt"));
  RunResult missing = c.Ctl({"rollout", "undo", "deployment/web", "--to-revision", "9"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "error: unable to find specified revision 9 in history\n");

  // Deleting the Deployment takes its ReplicaSets and pods.
  c.Ok({"delete", "deploy", "web"});
  CHECK(Eventually([&] { return PodNodes(c, "app=web").empty(); }));
  CHECK(c.Ok({"get", "rs", "-o", "name"}).empty());
}

TEST_CASE("a pod that fits nowhere says why, as kube-scheduler does") {
  Cluster c({"--node-lease-duration", "10m"});
  c.Ok({"cordon", "n2"});
  c.Ok({"apply", "-f", "-"}, R"(apiVersion: v1
kind: Pod
metadata: {name: arm-only}
spec:
  nodeSelector: {kubernetes.io/arch: arm64}
  containers: [{name: main, image: busybox:1.36}]
)");
  std::string described;
  REQUIRE(Eventually([&] {
    described = c.Ok({"describe", "pod", "arm-only"});
    return Contains(described, "FailedScheduling");
  }));
  CHECK(Contains(described,
                 "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                 "1 node(s) were unschedulable."));
}

TEST_CASE("nodes whose agents are silent go NotReady, and ReplicaSet pods are evicted after the timeout") {
  Cluster c({"--node-lease-duration", "3s", "--pod-eviction-timeout", "2s"});
  c.Ok({"apply", "-f", "-"}, WebDeployment("busybox:1.36", 2));
  c.Ok({"apply", "-f", "-"}, R"(apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  nodeName: n1
  containers: [{name: main, image: busybox:1.36}]
)");
  std::map<std::string, std::string> first;
  REQUIRE(Eventually([&] {
    first = PodNodes(c, "app=web");
    return first.size() == 2 && PerNode(first).count("<none>") == 0;
  }));
  // No agent renews the leases: after the grace, both nodes are NotReady and tainted.
  REQUIRE(Eventually([&] {
    std::string nodes = c.Ok({"get", "nodes"});
    return std::regex_search(nodes, std::regex("\nn1 +NotReady")) &&
           std::regex_search(nodes, std::regex("\nn2 +NotReady"));
  }));
  CHECK(Contains(c.Ok({"describe", "node", "n1"}), "node.kubernetes.io/unreachable:NoExecute"));
  // Then the Deployment's pods are replaced, and the replacements have nowhere to go.
  std::map<std::string, std::string> replaced;
  REQUIRE(Eventually([&] {
    replaced = PodNodes(c, "app=web");
    if (replaced.size() != 2) return false;
    for (const auto& [pod, node] : replaced) {
      if (first.count(pod) || node != "<none>") return false;
    }
    return true;
  }));
  CHECK(Contains(c.Ok({"get", "pod", "solo", "-o", "wide"}), "n1"));  // standalone pods stay
  std::string described = c.Ok({"describe", "pod", replaced.begin()->first});
  CHECK(Contains(described, "0/2 nodes are available: 2 node(s) were not ready."));
}

}  // namespace
}  // namespace reef::testing
