// Node lifecycle with a FakeClock: a lease that runs out makes the node Unknown and
// tainted (one write), pods of ReplicaSets are replaced elsewhere only after the
// eviction timeout, DaemonSet and standalone pods stay, and a renewed lease brings
// the node back.

#include <doctest/doctest.h>

#include "controller/reconcile/node_lifecycle.h"
#include "controller/reconcile/pods.h"
#include "controller/scheduler/predicates.h"
#include "tests/unit/workloads_fixture.h"

namespace reef::testing {
namespace {

reconcile::ReconcilerOptions Options() {
  reconcile::ReconcilerOptions o;
  o.node_lease_duration = absl::Seconds(40);
  o.pod_eviction_timeout = absl::Seconds(30);
  return o;
}

const v1::NodeCondition* Ready(Workloads& w, const std::string& node) {
  static v1::Object keep;
  keep = w.Get("Node", node);
  return scheduler::FindNodeCondition(keep.node().status(), "Ready");
}

bool HasTaint(Workloads& w, const std::string& node, const std::string& key) {
  v1::Object o = w.Get("Node", node);
  for (const auto& t : o.node().spec().taints()) {
    if (t.key() == key && t.effect() == "NoExecute") return true;
  }
  return false;
}

// Advances the clock in steps, the agent of each node in `alive` heartbeating.
void Pass(Workloads& w, absl::Duration total, const std::vector<std::string>& alive) {
  for (absl::Duration d; d < total; d += absl::Seconds(5)) {
    w.Advance(absl::Seconds(5));
    for (const std::string& n : alive) w.Renew(n);
    w.Run();
  }
}

struct TwoNodes {
  Workloads w{Options()};
  TwoNodes() {
    w.AddNode("n1");
    w.AddNode("n2");
    w.Apply(DeploymentYaml("web", 4, "busybox:1.36"));
    w.Apply(R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  selector: {matchLabels: {app: logs}}
  template:
    metadata: {labels: {app: logs}}
    spec:
      containers: [{name: tail, image: busybox:1.36}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  nodeName: n1
  containers: [{name: main, image: busybox:1.36}]
)");
    w.Run();
    w.ReadyAll();
    w.Run();
  }
};

TEST_CASE("a silent node goes Unknown after the lease, with one write, and pods wait") {
  TwoNodes t;
  Workloads& w = t.w;
  REQUIRE(w.PodsPerNode("app=web") == (std::map<std::string, int>{{"n1", 2}, {"n2", 2}}));
  Pass(w, absl::Seconds(35), {"n1", "n2"});
  CHECK(Ready(w, "n1")->status() == "True");
  CHECK(w.loops->NodeLifecycleWrites() == 0);

  // n1's agent goes quiet (last heard at 35 s): Unknown once 40 s have passed, seen
  // at the 80 s pass.
  Pass(w, absl::Seconds(45), {"n2"});
  const v1::NodeCondition* ready = Ready(w, "n1");
  CHECK(ready->status() == "Unknown");
  CHECK(ready->reason() == "NodeStatusUnknown");
  CHECK(ready->message() == "reef-agent stopped posting node status.");
  CHECK(HasTaint(w, "n1", "node.kubernetes.io/unreachable"));
  CHECK(Ready(w, "n2")->status() == "True");
  CHECK(w.loops->NodeLifecycleWrites() == 1);
  // Its pods are still there: edge autonomy, until the eviction timeout.
  CHECK(w.PodsPerNode("app=web")["n1"] == 2);

  // Time passes with nothing new: no more writes.
  int64_t revision = w.Revision();
  Pass(w, absl::Seconds(20), {"n2"});
  CHECK(w.Revision() == revision);
  CHECK(w.PodsPerNode("app=web")["n1"] == 2);

  // Past the timeout (30 s after the transition at 80 s): ReplicaSet pods are replaced
  // on n2.
  Pass(w, absl::Seconds(15), {"n2"});
  CHECK(w.PodsPerNode("app=web") == std::map<std::string, int>{{"n2", 4}});
  CHECK(w.PodsPerNode("app=logs") == std::map<std::string, int>{{"n1", 1}, {"n2", 1}});
  CHECK(w.Exists("Pod", "solo"));
  CHECK(w.loops->NodeLifecycleWrites() == 3);  // the node, then its two pods

  SUBCASE("the agent comes back: Ready, untainted, and the rest left alone") {
    w.Renew("n1");
    w.Run();
    CHECK(Ready(w, "n1")->status() == "True");
    CHECK(!HasTaint(w, "n1", "node.kubernetes.io/unreachable"));
    CHECK(w.PodsPerNode("app=web") == std::map<std::string, int>{{"n2", 4}});
    CHECK(w.PodsPerNode("app=logs") == std::map<std::string, int>{{"n1", 1}, {"n2", 1}});
    CHECK(w.Exists("Pod", "solo"));
  }
}

TEST_CASE("an agent that says Ready=False gets the not-ready taint, and its node the same eviction") {
  TwoNodes t;
  Workloads& w = t.w;
  w.EditNode("n2", [&](v1::Node* n) {
    auto* c = n->mutable_status()->mutable_conditions(0);
    c->set_status("False");
    c->set_last_transition_time(FormatTimestamp(w.clock.Now()));
  });
  w.Run();
  CHECK(HasTaint(w, "n2", "node.kubernetes.io/not-ready"));
  // The clock starts at the controller's start + the lease (40 s): evicted at 70 s.
  Pass(w, absl::Seconds(65), {"n1", "n2"});
  CHECK(w.PodsPerNode("app=web")["n2"] == 2);
  Pass(w, absl::Seconds(10), {"n1", "n2"});
  CHECK(Ready(w, "n2")->status() == "False");  // the agent's word stands
  CHECK(w.PodsPerNode("app=web") == std::map<std::string, int>{{"n1", 4}});
}

TEST_CASE("after a controller start, nodes get one lease duration of grace") {
  Workloads w(Options());
  w.Apply(R"(apiVersion: v1
kind: Node
metadata: {name: old}
)");
  w.WriteStatus(R"(apiVersion: v1
kind: Node
metadata: {name: old}
status:
  allocatable: {cpu: "2", memory: 2Gi}
  conditions: [{type: Ready, status: "True"}]
)");
  w.Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: main, image: busybox:1.36}]
)");
  w.Run();
  // The stored Ready condition is trusted meanwhile: the scheduler may use the node.
  CHECK(w.Get("Pod", "p").pod().spec().node_name() == "old");
  Pass(w, absl::Seconds(35), {});
  CHECK(Ready(w, "old")->status() == "True");
  Pass(w, absl::Seconds(10), {});
  CHECK(Ready(w, "old")->status() == "Unknown");
}

TEST_CASE("a pod's toleration of the taint sets its own eviction timeout") {
  Workloads w(Options());
  w.AddNode("n1");
  w.AddNode("n2");
  std::string patient =
      "  template:\n"
      "    metadata: {labels: {app: patient}}\n"
      "    spec:\n"
      "      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, "
      "tolerationSeconds: 100}]\n"
      "      containers: [{name: main, image: busybox:1.36}]\n";
  w.Apply(reef::StrCat("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: patient}\nspec:\n"
                       "  replicas: 2\n  selector: {matchLabels: {app: patient}}\n",
                       patient));
  w.Run();
  REQUIRE(w.PodsPerNode("app=patient")["n1"] == 1);
  Pass(w, absl::Seconds(45), {"n2"});  // n1 Unknown at ~40 s
  Pass(w, absl::Seconds(60), {"n2"});  // past the default 30 s
  CHECK(w.PodsPerNode("app=patient")["n1"] == 1);
  Pass(w, absl::Seconds(45), {"n2"});  // past its own 100 s
  CHECK(w.PodsPerNode("app=patient")["n1"] == 0);
}

TEST_CASE("PlanNodeLifecycle is pure: leases, nodes and pods in, decisions out") {
  auto node = std::make_shared<v1::Object>();
  node->mutable_node()->mutable_metadata()->set_name("n");
  absl::Time start = absl::FromUnixSeconds(1000);
  reconcile::NodeLifecycleOptions options;
  std::map<std::string, absl::Time, std::less<>> leases{{"n", start}};
  auto plan = reconcile::PlanNodeLifecycle({node}, {}, leases, start, options, start + absl::Seconds(10));
  REQUIRE(plan.nodes.size() == 1);  // no Ready condition yet: one saying True
  CHECK(plan.nodes[0].node().status().conditions(0).status() == "True");
  CHECK(plan.requeue_after == absl::Seconds(31));  // when the lease would run out
  // No lease yet and no condition, within the grace after a start: left alone.
  auto grace = reconcile::PlanNodeLifecycle({node}, {}, {}, start, options, start + absl::Seconds(10));
  CHECK(grace.nodes.empty());
  CHECK(grace.evict.empty());
  plan = reconcile::PlanNodeLifecycle({node}, {}, leases, start, options, start + absl::Seconds(41));
  REQUIRE(plan.nodes.size() == 1);
  CHECK(plan.nodes[0].node().status().conditions(0).status() == "Unknown");
  CHECK(plan.nodes[0].node().spec().taints(0).key() == "node.kubernetes.io/unreachable");
}

}  // namespace
}  // namespace reef::testing
