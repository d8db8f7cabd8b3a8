// The scheduler: filters (ready, cordon, taints, nodeSelector, ports, resources),
// scores (spread, zones, least allocated), kube-scheduler's message when nothing
// fits, and no write while nothing changes.

#include <doctest/doctest.h>

#include "controller/reconcile/pods.h"
#include "controller/scheduler/scheduler.h"
#include "tests/unit/workloads_fixture.h"

namespace reef::testing {
namespace {

std::string PodYaml(const std::string& name, const std::string& extra_spec = "",
                    const std::string& resources = "") {
  return reef::StrCat(R"(apiVersion: v1
kind: Pod
metadata: {name: )", name, R"(, labels: {app: )", name, R"(}}
spec:
)", extra_spec, R"(  containers:
  - name: main
    image: busybox:1.36
)", resources);
}

std::string NodeOf(Workloads& w, const std::string& pod) { return w.Get("Pod", pod).pod().spec().node_name(); }

const v1::PodCondition* Scheduled(Workloads& w, const std::string& pod) {
  static v1::Object keep;
  keep = w.Get("Pod", pod);
  return reconcile::FindPodCondition(keep.pod().status(), "PodScheduled");
}

TEST_CASE("replicas spread over nodes: 3 over 2 nodes is 2 and 1, a third node evens it") {
  Workloads w;
  w.AddNode("n1");
  w.AddNode("n2");
  w.Apply(DeploymentYaml("web", 3, "busybox:1.36"));
  w.Run();
  std::map<std::string, int> per_node = w.PodsPerNode("app=web");
  CHECK(per_node.count("") == 0);
  CHECK(per_node.size() == 2);
  CHECK(((per_node["n1"] == 2 && per_node["n2"] == 1) || (per_node["n1"] == 1 && per_node["n2"] == 2)));
  for (const v1::Pod& p : w.Pods("app=web")) {
    const v1::PodCondition* c = reconcile::FindPodCondition(p.status(), "PodScheduled");
    REQUIRE(c != nullptr);
    CHECK(c->status() == "True");
  }
  bool event = false;
  for (const v1::Object& e : w.List("Event")) {
    event |= e.event().reason() == "Scheduled" && e.event().source().component() == "reef-scheduler" &&
             e.event().message().rfind("Successfully assigned default/web-", 0) == 0;
  }
  CHECK(event);

  w.AddNode("n3");
  w.Apply(DeploymentYaml("web", 6, "busybox:1.36"));
  w.Run();
  CHECK(w.PodsPerNode("app=web") == std::map<std::string, int>{{"n1", 2}, {"n2", 2}, {"n3", 2}});
}

TEST_CASE("replicas spread over zones too") {
  Workloads w;
  w.AddNode("a1", {{"topology.kubernetes.io/zone", "a"}});
  w.AddNode("a2", {{"topology.kubernetes.io/zone", "a"}});
  w.AddNode("b1", {{"topology.kubernetes.io/zone", "b"}});
  w.Apply(DeploymentYaml("web", 2, "busybox:1.36"));
  w.Run();
  std::map<std::string, int> per_node = w.PodsPerNode("app=web");
  CHECK(per_node["b1"] == 1);  // not both in zone a
}

TEST_CASE("least allocated: the emptier node wins, requests count") {
  Workloads w;
  w.AddNode("big", {}, "4", "8Gi");
  w.AddNode("small", {}, "1", "1Gi");
  std::string requests = "    resources: {requests: {cpu: 500m, memory: 256Mi}}\n";
  w.Apply(PodYaml("a", "", requests));
  w.Run();
  CHECK(NodeOf(w, "a") == "big");
  w.Apply(PodYaml("b", "", "    resources: {requests: {cpu: \"3\", memory: 1Gi}}\n"));
  w.Run();
  CHECK(NodeOf(w, "b") == "big");
  w.Apply(PodYaml("c", "", requests));
  w.Run();
  CHECK(NodeOf(w, "c") == "small");  // big is 87% allocated now
}

TEST_CASE("nothing fits: PodScheduled=False, kube-scheduler's message, one warning event") {
  Workloads w;
  w.AddNode("pi", {{"kubernetes.io/arch", "arm64"}});
  w.AddNode("x86", {{"kubernetes.io/arch", "amd64"}});
  w.EditNode("x86", [](v1::Node* n) { n->mutable_spec()->set_unschedulable(true); });
  w.Apply(PodYaml("p", "  nodeSelector: {kubernetes.io/arch: amd64}\n"));
  w.Run();
  CHECK(NodeOf(w, "p").empty());
  const v1::PodCondition* c = Scheduled(w, "p");
  REQUIRE(c != nullptr);
  CHECK(c->status() == "False");
  CHECK(c->reason() == "Unschedulable");
  CHECK(c->message() ==
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) were unschedulable.");
  std::vector<v1::Object> events = w.List("Event");
  int failed = 0;
  for (const v1::Object& e : events) {
    if (e.event().reason() != "FailedScheduling") continue;
    ++failed;
    CHECK(e.event().type() == "Warning");
    CHECK(e.event().count() == 1);
    CHECK(e.event().involved_object().name() == "p");
    CHECK(e.event().message() == c->message());
  }
  CHECK(failed == 1);

  // Another pass with nothing changed: no write at all.
  int64_t revision = w.Revision();
  w.Advance(absl::Seconds(31));  // the scheduler's periodic retry
  w.Renew("pi");
  w.Renew("x86");
  w.Run();
  CHECK(w.Revision() == revision);

  // Uncordoned: it goes there.
  w.EditNode("x86", [](v1::Node* n) { n->mutable_spec()->set_unschedulable(false); });
  w.Run();
  CHECK(NodeOf(w, "p") == "x86");
  CHECK(Scheduled(w, "p")->status() == "True");
}

TEST_CASE("filters, one at a time") {
  Workloads w;
  w.AddNode("n1", {}, "1", "1Gi");
  SUBCASE("not ready") {
    w.EditNode("n1", [](v1::Node* n) { n->mutable_status()->mutable_conditions(0)->set_status("False"); });
    w.Apply(PodYaml("p"));
    w.Run();
    CHECK(Scheduled(w, "p")->message() == "0/1 nodes are available: 1 node(s) were not ready.");
  }
  SUBCASE("taints: NoSchedule keeps pods off unless tolerated; PreferNoSchedule does not") {
    w.EditNode("n1", [](v1::Node* n) {
      auto* t = n->mutable_spec()->add_taints();
      t->set_key("dedicated");
      t->set_value("db");
      t->set_effect("NoSchedule");
      auto* soft = n->mutable_spec()->add_taints();
      soft->set_key("soft");
      soft->set_effect("PreferNoSchedule");
    });
    w.Apply(PodYaml("p"));
    w.Run();
    CHECK(Scheduled(w, "p")->message() ==
          "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.");
    w.Apply(PodYaml("q", "  tolerations: [{key: dedicated, value: db, effect: NoSchedule}]\n"));
    w.Run();
    CHECK(NodeOf(w, "q") == "n1");
  }
  SUBCASE("resources: requests against allocatable minus what is bound there") {
    w.Apply(PodYaml("big", "", "    resources: {requests: {cpu: 800m, memory: 900Mi}}\n"));
    w.Run();
    CHECK(NodeOf(w, "big") == "n1");
    w.Apply(PodYaml("more", "", "    resources: {requests: {cpu: 300m, memory: 200Mi}}\n"));
    w.Run();
    CHECK(Scheduled(w, "more")->message() ==
          "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
    // The big one finishes: there is room.
    w.WriteStatus("apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nstatus: {phase: Succeeded}\n");
    w.Run();
    CHECK(NodeOf(w, "more") == "n1");
  }
  SUBCASE("host ports: one pod per node per port") {
    std::string port = "    ports: [{containerPort: 80, hostPort: 8080}]\n";
    w.Apply(PodYaml("a", "", port));
    w.Apply(PodYaml("b", "", port));
    w.Run();
    CHECK(NodeOf(w, "a") == "n1");
    CHECK(Scheduled(w, "b")->message() ==
          "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.");
  }
  SUBCASE("pods with a nodeName are left alone, even on a node that does not exist") {
    w.Apply(PodYaml("pinned", "  nodeName: elsewhere\n"));
    w.Run();
    CHECK(NodeOf(w, "pinned") == "elsewhere");
    CHECK(Scheduled(w, "pinned") == nullptr);
  }
}

TEST_CASE("no nodes at all") {
  Workloads w;
  w.Apply(PodYaml("p"));
  w.Run();
  CHECK(Scheduled(w, "p")->message() == "no nodes available to schedule pods");
}

TEST_CASE("Schedule is pure: a snapshot, a pod, a decision") {
  auto node = [](const std::string& name) {
    auto o = std::make_shared<v1::Object>();
    o->mutable_node()->mutable_metadata()->set_name(name);
    auto* c = o->mutable_node()->mutable_status()->add_conditions();
    c->set_type("Ready");
    c->set_status("True");
    (*o->mutable_node()->mutable_status()->mutable_allocatable())["cpu"] = "2";
    (*o->mutable_node()->mutable_status()->mutable_allocatable())["memory"] = "2Gi";
    return reconcile::ObjectPtr(o);
  };
  scheduler::Snapshot snapshot({node("b"), node("a")}, {});
  v1::Pod pod;
  (*pod.mutable_spec()->add_containers()->mutable_resources()->mutable_requests())["cpu"] = "1";
  scheduler::PodInfo info = scheduler::PodInfo::Of(pod);
  scheduler::Decision first = scheduler::Schedule(info, snapshot);
  REQUIRE(first.node != nullptr);
  CHECK(first.node->name() == "a");  // equal nodes: by name
  snapshot.Add(first.node, info);
  scheduler::Decision second = scheduler::Schedule(info, snapshot);
  REQUIRE(second.node != nullptr);
  CHECK(second.node->name() == "b");
  snapshot.Add(second.node, info);
  snapshot.Add(first.node, info);   // a full
  snapshot.Add(second.node, info);  // b full
  scheduler::Decision third = scheduler::Schedule(info, snapshot);
  CHECK(third.node == nullptr);
  CHECK(third.message == "0/2 nodes are available: 2 Insufficient cpu.");
}

}  // namespace
}  // namespace reef::testing
