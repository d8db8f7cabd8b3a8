// Garbage collection: orphans whose owners are gone are deleted, owners the loops
// cannot see are trusted, old events expire.

#include <doctest/doctest.h>

#include "tests/unit/workloads_fixture.h"

namespace reef::testing {
namespace {

std::string PodOwnedBy(const std::string& name, const std::string& kind, const std::string& owner,
                       const std::string& uid) {
  return reef::StrCat("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ", name,
                      "\n  ownerReferences:\n  - {apiVersion: v1, kind: ", kind, ", name: ", owner,
                      ", uid: ", uid, ", controller: true}\nspec:\n  nodeName: nowhere\n"
                      "  containers: [{name: c, image: busybox}]\n");
}

reconcile::ReconcilerOptions OnlyGc() {
  reconcile::ReconcilerOptions o;
  o.enabled = {"garbagecollector"};
  return o;
}

TEST_CASE("an object whose owner does not exist is deleted, and its dependents follow") {
  Workloads w(OnlyGc());
  w.Apply(R"(apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: stray
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: gone, uid: 11111111-2222-3333-4444-555555555555, controller: true}]
spec:
  replicas: 0
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers: [{name: c, image: busybox}]
)");
  std::string rs_uid = w.Get("ReplicaSet", "stray").replica_set().metadata().uid();
  w.Apply(PodOwnedBy("child", "ReplicaSet", "stray", rs_uid));
  w.Run();
  CHECK(!w.Exists("ReplicaSet", "stray"));
  CHECK(!w.Exists("Pod", "child"));
}

TEST_CASE("an owner with the same name but another uid is not the owner") {
  Workloads w(OnlyGc());
  w.Apply(R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers: [{name: c, image: busybox}]
)");
  std::string uid = w.Get("DaemonSet", "ds").daemon_set().metadata().uid();
  w.Apply(PodOwnedBy("mine", "DaemonSet", "ds", uid));
  w.Apply(PodOwnedBy("old", "DaemonSet", "ds", "99999999-2222-3333-4444-555555555555"));
  w.Run();
  CHECK(w.Exists("Pod", "mine"));
  CHECK(!w.Exists("Pod", "old"));
}

TEST_CASE("owners of kinds the loops do not hold are taken as present") {
  Workloads w(OnlyGc());
  w.Apply(PodOwnedBy("by-configmap", "ConfigMap", "whatever", "99999999-2222-3333-4444-555555555555"));
  w.Run();
  CHECK(w.Exists("Pod", "by-configmap"));
}

TEST_CASE("events older than the TTL go") {
  reconcile::ReconcilerOptions o = OnlyGc();
  o.event_ttl = absl::Minutes(30);
  Workloads w(o);
  w.Apply(R"(apiVersion: v1
kind: Event
metadata: {name: old.1}
involvedObject: {kind: Pod, name: p, namespace: default}
reason: Test
message: hello
)");
  w.Run();
  CHECK(w.Exists("Event", "old.1"));
  w.Advance(absl::Minutes(31));
  w.Run();  // the collector's periodic pass
  CHECK(!w.Exists("Event", "old.1"));
}

}  // namespace
}  // namespace reef::testing
