// ReplicaSets: pods made to match replicas, which go first when there are too many,
// and the status.

#include <doctest/doctest.h>

#include <regex>

#include "controller/reconcile/pods.h"
#include "controller/reconcile/replica_set.h"
#include "tests/unit/workloads_fixture.h"

namespace reef::testing {
namespace {

std::string ReplicaSetYaml(int replicas, const std::string& extra_spec = "") {
  return reef::StrCat(R"(apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache}
spec:
  replicas: )", replicas, "\n", extra_spec, R"(  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}, annotations: {note: kept}}
    spec:
      containers: [{name: main, image: "redis:7"}]
)");
}

// Only the ReplicaSet loop, so that the tests place pods themselves.
reconcile::ReconcilerOptions OnlyReplicaSets() {
  reconcile::ReconcilerOptions o;
  o.enabled = {"replicaset"};
  return o;
}

void Bind(Workloads& w, const v1::Pod& pod, const std::string& node) {
  auto written = w.store->Update([&](store::Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Object o, txn.Get(store::Key{"Pod", "default", pod.metadata().name()}));
    o.mutable_pod()->mutable_spec()->set_node_name(node);
    return txn.Update(o).status();
  });
  REQUIRE(written.ok());
}

TEST_CASE("a ReplicaSet creates its pods: named <rs>-xxxxx, owned, from the template") {
  Workloads w(OnlyReplicaSets());
  w.Apply(ReplicaSetYaml(3));
  w.Run();
  std::vector<v1::Pod> pods = w.Pods("app=cache");
  REQUIRE(pods.size() == 3);
  v1::Object rs = w.Get("ReplicaSet", "cache");
  for (const v1::Pod& p : pods) {
    CHECK(std::regex_match(p.metadata().name(), std::regex("cache-[bcdfghjklmnpqrstvwxz2456789]{5}")));
    REQUIRE(p.metadata().owner_references_size() == 1);
    const auto& ref = p.metadata().owner_references(0);
    CHECK(ref.kind() == "ReplicaSet");
    CHECK(ref.api_version() == "apps/v1");
    CHECK(ref.uid() == rs.replica_set().metadata().uid());
    CHECK(ref.controller());
    CHECK(p.metadata().annotations().at("note") == "kept");
    CHECK(p.spec().containers(0).image() == "redis:7");
    CHECK(p.status().phase() == "Pending");
  }
  const auto& st = rs.replica_set().status();
  CHECK(st.replicas() == 3);
  CHECK(st.fully_labeled_replicas() == 3);
  CHECK(st.ready_replicas() == 0);
  CHECK(st.available_replicas() == 0);
  CHECK(st.observed_generation() == rs.replica_set().metadata().generation());

  SUBCASE("a deleted pod is replaced") {
    REQUIRE(w.store->Update([&](store::Txn& txn) {
                     return txn.Delete(store::Key{"Pod", "default", pods[0].metadata().name()}, "").status();
                   }).ok());
    w.Run();
    CHECK(w.Pods("app=cache").size() == 3);
  }
  SUBCASE("nothing changes, nothing is written") {
    int64_t revision = w.Revision();
    w.loops->RunUntilIdleForTest();
    w.Apply(ReplicaSetYaml(3));  // the same spec: no write either
    w.Run();
    CHECK(w.Revision() == revision);
  }
}

TEST_CASE("scaling down removes unscheduled, then not ready, then doubled-up pods first") {
  Workloads w(OnlyReplicaSets());
  w.Apply(ReplicaSetYaml(5));
  w.Run();
  std::vector<v1::Pod> pods = w.Pods();
  REQUIRE(pods.size() == 5);
  // pods[0] stays unbound; [1] bound, not ready; [2], [3] ready on n1; [4] ready on n2.
  Bind(w, pods[1], "n1");
  Bind(w, pods[2], "n1");
  Bind(w, pods[3], "n1");
  Bind(w, pods[4], "n2");
  pods = w.Pods();
  w.SetReady(pods[2]);
  w.SetReady(pods[3]);
  w.SetReady(pods[4]);
  w.Run();
  CHECK(w.Get("ReplicaSet", "cache").replica_set().status().ready_replicas() == 3);

  w.Apply(ReplicaSetYaml(3));
  w.Run();
  std::map<std::string, int> per_node = w.PodsPerNode();
  CHECK(per_node[""] == 0);  // the unscheduled one went first
  CHECK(w.Get("ReplicaSet", "cache").replica_set().status().ready_replicas() == 3);

  w.Apply(ReplicaSetYaml(2));
  w.Run();
  per_node = w.PodsPerNode();
  // Of three ready pods, one of the two doubled up on n1 goes.
  CHECK(per_node["n1"] == 1);
  CHECK(per_node["n2"] == 1);
}

TEST_CASE("available only after minReadySeconds, and the set looks again by itself") {
  Workloads w(OnlyReplicaSets());
  w.Apply(ReplicaSetYaml(1, "  minReadySeconds: 10\n"));
  w.Run();
  v1::Pod pod = w.Pods()[0];
  Bind(w, pod, "n1");
  w.SetReady(w.Pods()[0]);
  w.Run();
  auto status = [&] { return w.Get("ReplicaSet", "cache").replica_set().status(); };
  CHECK(status().ready_replicas() == 1);
  CHECK(status().available_replicas() == 0);
  w.Advance(absl::Seconds(9));
  w.Run();
  CHECK(status().available_replicas() == 0);
  w.Advance(absl::Seconds(1));
  w.Run();  // the timed requeue, no event needed
  CHECK(status().available_replicas() == 1);
}

TEST_CASE("PlanReplicaSet is pure: finished pods are not replicas") {
  v1::ReplicaSet rs;
  rs.mutable_spec()->set_replicas(2);
  std::vector<reconcile::ObjectPtr> pods;
  for (const char* phase : {"Running", "Failed", "Succeeded"}) {
    auto o = std::make_shared<v1::Object>();
    o->mutable_pod()->mutable_metadata()->set_name(phase);
    o->mutable_pod()->mutable_status()->set_phase(phase);
    pods.push_back(o);
  }
  reconcile::ReplicaSetPlan plan = reconcile::PlanReplicaSet(rs, pods, absl::Now());
  CHECK(plan.create == 1);
  CHECK(plan.remove.empty());
  CHECK(plan.status.replicas() == 2);
}

}  // namespace
}  // namespace reef::testing
