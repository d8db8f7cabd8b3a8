// DaemonSets: one pod per matching node, nodes joining and leaving, labels and
// taints, rolling updates within maxUnavailable, status.

#include <doctest/doctest.h>

#include "controller/reconcile/daemon_set.h"
#include "controller/reconcile/pods.h"
#include "tests/unit/workloads_fixture.h"

namespace reef::testing {
namespace {

std::string DaemonSetYaml(const std::string& image, const std::string& extra_pod_spec = "",
                          const std::string& extra_spec = "") {
  return reef::StrCat(R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
)", extra_spec, R"(  selector: {matchLabels: {app: logs}}
  template:
    metadata: {labels: {app: logs}}
    spec:
)", extra_pod_spec, R"(      containers: [{name: tail, image: ")", image, R"("}]
)");
}

v1::DaemonSetStatus Status(Workloads& w) { return w.Get("DaemonSet", "logs").daemon_set().status(); }

TEST_CASE("one pod per node, bound there, tolerating unreachable and not-ready") {
  Workloads w;
  w.AddNode("n1");
  w.AddNode("n2");
  w.Apply(DaemonSetYaml("busybox:1"));
  w.Run();
  CHECK(w.PodsPerNode("app=logs") == std::map<std::string, int>{{"n1", 1}, {"n2", 1}});
  v1::Pod pod = w.Pods("app=logs")[0];
  CHECK(pod.metadata().owner_references(0).kind() == "DaemonSet");
  CHECK(pod.metadata().labels().count("controller-revision-hash") == 1);
  bool unreachable = false, not_ready = false;
  for (const auto& t : pod.spec().tolerations()) {
    unreachable |= t.key() == "node.kubernetes.io/unreachable" && t.effect() == "NoExecute" && t.operator_() == "Exists";
    not_ready |= t.key() == "node.kubernetes.io/not-ready" && t.effect() == "NoExecute";
  }
  CHECK(unreachable);
  CHECK(not_ready);
  v1::DaemonSetStatus s = Status(w);
  CHECK(s.desired_number_scheduled() == 2);
  CHECK(s.current_number_scheduled() == 2);
  CHECK(s.updated_number_scheduled() == 2);
  CHECK(s.number_ready() == 0);
  CHECK(s.number_unavailable() == 2);

  w.ReadyAll();
  w.Run();
  s = Status(w);
  CHECK(s.number_ready() == 2);
  CHECK(s.number_available() == 2);
  CHECK(s.number_unavailable() == 0);

  SUBCASE("a node that joins later gets its pod") {
    w.AddNode("n3");
    w.Run();
    CHECK(w.PodsPerNode("app=logs")["n3"] == 1);
    CHECK(Status(w).desired_number_scheduled() == 3);
  }
  SUBCASE("a node that goes away takes its pod along") {
    REQUIRE(w.store->Update([](store::Txn& txn) { return txn.Delete(store::Key{"Node", "", "n2"}, "").status(); }).ok());
    w.Run();
    CHECK(w.PodsPerNode("app=logs") == std::map<std::string, int>{{"n1", 1}});
    CHECK(Status(w).desired_number_scheduled() == 1);
  }
  SUBCASE("a node that loses its link keeps its pod") {
    w.EditNode("n1", [](v1::Node* n) {
      n->mutable_status()->mutable_conditions(0)->set_status("Unknown");
      auto* t = n->mutable_spec()->add_taints();
      t->set_key("node.kubernetes.io/unreachable");
      t->set_effect("NoExecute");
    });
    w.Run();
    CHECK(w.PodsPerNode("app=logs")["n1"] == 1);
  }
  SUBCASE("a deleted or failed pod is replaced") {
    v1::Pod victim = w.Pods("app=logs")[0];
    REQUIRE(w.store->Update([&](store::Txn& txn) -> absl::Status {
                     ASSIGN_OR_RETURN(v1::Object o, txn.Get(store::Key{"Pod", "default", victim.metadata().name()}));
                     o.mutable_pod()->mutable_status()->set_phase("Failed");
                     return txn.Update(o).status();
                   }).ok());
    w.Run();
    CHECK(!w.Exists("Pod", victim.metadata().name()));
    CHECK(w.PodsPerNode("app=logs") == std::map<std::string, int>{{"n1", 1}, {"n2", 1}});
  }
}

TEST_CASE("nodeSelector and taints decide which nodes, and a stray pod is removed") {
  Workloads w;
  w.AddNode("pi", {{"kubernetes.io/arch", "arm64"}});
  w.AddNode("x86", {{"kubernetes.io/arch", "amd64"}});
  w.AddNode("tainted", {{"kubernetes.io/arch", "arm64"}});
  w.EditNode("tainted", [](v1::Node* n) {
    auto* t = n->mutable_spec()->add_taints();
    t->set_key("dedicated");
    t->set_value("db");
    t->set_effect("NoSchedule");
  });
  w.Apply(DaemonSetYaml("busybox:1", "      nodeSelector: {kubernetes.io/arch: arm64}\n"));
  w.Run();
  CHECK(w.PodsPerNode("app=logs") == std::map<std::string, int>{{"pi", 1}});

  SUBCASE("tolerating the taint lets it in") {
    w.Apply(DaemonSetYaml("busybox:1",
                          "      nodeSelector: {kubernetes.io/arch: arm64}\n"
                          "      tolerations: [{key: dedicated, operator: Exists}]\n"));
    w.Run();
    CHECK(w.PodsPerNode("app=logs")["tainted"] == 1);
  }
  SUBCASE("a node whose labels stop matching loses its pod") {
    w.EditNode("pi", [](v1::Node* n) { (*n->mutable_metadata()->mutable_labels())["kubernetes.io/arch"] = "arm"; });
    w.Run();
    CHECK(w.Pods("app=logs").empty());
  }
  SUBCASE("a NoSchedule taint added later keeps the pod; NoExecute removes it") {
    w.EditNode("pi", [](v1::Node* n) {
      auto* t = n->mutable_spec()->add_taints();
      t->set_key("maintenance");
      t->set_effect("NoSchedule");
    });
    w.Run();
    CHECK(w.PodsPerNode("app=logs")["pi"] == 1);
    CHECK(Status(w).desired_number_scheduled() == 0);
    CHECK(Status(w).number_misscheduled() == 1);
    w.EditNode("pi", [](v1::Node* n) { n->mutable_spec()->mutable_taints(0)->set_effect("NoExecute"); });
    w.Run();
    CHECK(w.Pods("app=logs").empty());
  }
}

TEST_CASE("rolling update: at most maxUnavailable nodes without an available pod") {
  Workloads w;
  for (const char* n : {"n1", "n2", "n3", "n4"}) w.AddNode(n);
  w.Apply(DaemonSetYaml("busybox:1"));
  w.Run();
  w.ReadyAll();
  w.Run();
  REQUIRE(Status(w).number_available() == 4);

  w.Apply(DaemonSetYaml("busybox:2"));
  int rounds = 0;
  for (; rounds < 20; ++rounds) {
    w.Run();
    int available = 0, new_pods = 0;
    for (const v1::Pod& p : w.Pods("app=logs")) {
      available += reconcile::IsReady(p);
      new_pods += p.spec().containers(0).image() == "busybox:2";
    }
    INFO("round ", rounds);
    CHECK(available >= 3);  // maxUnavailable 1 (the default)
    CHECK(w.Pods("app=logs").size() <= 4);
    if (new_pods == 4 && available == 4) break;
    w.ReadyAll();
  }
  CHECK(rounds >= 4);  // one node at a time
  v1::DaemonSetStatus s = Status(w);
  CHECK(s.updated_number_scheduled() == 4);
  CHECK(s.number_available() == 4);

  SUBCASE("maxUnavailable 50% takes two nodes at a time") {
    std::string strategy = "  updateStrategy: {rollingUpdate: {maxUnavailable: 50%}}\n";
    w.Apply(DaemonSetYaml("busybox:3", "", strategy));
    w.Run();
    int new_pods = 0;
    for (const v1::Pod& p : w.Pods("app=logs")) new_pods += p.spec().containers(0).image() == "busybox:3";
    CHECK(new_pods == 2);
  }
}

TEST_CASE("OnDelete: the template changes, pods stay until deleted") {
  Workloads w;
  w.AddNode("n1");
  std::string strategy = "  updateStrategy: {type: OnDelete}\n";
  w.Apply(DaemonSetYaml("busybox:1", "", strategy));
  w.Run();
  w.Apply(DaemonSetYaml("busybox:2", "", strategy));
  w.Run();
  REQUIRE(w.Pods("app=logs").size() == 1);
  CHECK(w.Pods("app=logs")[0].spec().containers(0).image() == "busybox:1");
  CHECK(Status(w).updated_number_scheduled() == 0);
}

}  // namespace
}  // namespace reef::testing
