// Deployments through the whole loop (Deployment -> ReplicaSets -> pods -> scheduler),
// with the agents' readiness played by the test: rolling updates step by step within
// maxSurge / maxUnavailable, Recreate, scaling, undo, history, pause, deadlines.

#include <doctest/doctest.h>

#include <set>

#include "controller/reconcile/deployment_status.h"
#include "controller/reconcile/deployment_util.h"
#include "controller/reconcile/pods.h"
#include "tests/unit/workloads_fixture.h"

namespace reef::testing {
namespace {

using reconcile::IsActive;
using reconcile::IsReady;

struct Counts {
  int active = 0;
  int ready = 0;
  std::set<std::string> images;
};

Counts Count(Workloads& w, const std::string& selector) {
  Counts c;
  for (const v1::Pod& p : w.Pods(selector)) {
    if (!IsActive(p)) continue;
    ++c.active;
    c.ready += IsReady(p);
    c.images.insert(p.spec().containers(0).image());
  }
  return c;
}

const v1::DeploymentCondition* Condition(const v1::Object& d, const char* type) {
  return reconcile::FindCondition(d.deployment().status(), type);
}

// Two nodes; the Deployment rolled out and every pod ready.
struct Rolled {
  Workloads w;
  explicit Rolled(const std::string& yaml) {
    w.AddNode("n1");
    w.AddNode("n2");
    w.Apply(yaml);
    for (int i = 0; i < 10 && w.Run() > 0; ++i) w.ReadyAll();
    w.Run();
  }
};

// Flips one not-ready pod of `selector` Ready at a time, running the loops after
// each, until the Deployment `name` is complete; checks the bounds after every step.
// Returns the number of steps.
int RollOut(Workloads& w, const std::string& name, int replicas, int max_surge, int max_unavailable) {
  int steps = 0;
  for (; steps < 100; ++steps) {
    w.Run();
    Counts c = Count(w, "app=" + name);
    INFO("step ", steps, ": ", c.active, " pods, ", c.ready, " ready");
    CHECK(c.active <= replicas + max_surge);
    CHECK(c.ready >= replicas - max_unavailable);
    v1::Object d = w.Get("Deployment", name);
    if (reconcile::DeploymentComplete(d.deployment(), d.deployment().status())) break;
    for (const v1::Pod& p : w.Pods("app=" + name)) {
      if (!p.spec().node_name().empty() && !IsReady(p)) {
        w.SetReady(p);
        break;
      }
    }
  }
  return steps;
}

TEST_CASE("a Deployment makes a ReplicaSet <name>-<hash> at revision 1, and its pods") {
  Rolled r(DeploymentYaml("web", 3, "busybox:1.36"));
  Workloads& w = r.w;
  std::vector<v1::Object> sets = w.List("ReplicaSet");
  REQUIRE(sets.size() == 1);
  const v1::ReplicaSet& rs = sets[0].replica_set();
  const std::string& hash = rs.spec().template_().metadata().labels().at("pod-template-hash");
  CHECK(rs.metadata().name() == "web-" + hash);
  CHECK(rs.metadata().annotations().at("deployment.kubernetes.io/revision") == "1");
  CHECK(rs.metadata().annotations().at("deployment.kubernetes.io/desired-replicas") == "3");
  CHECK(rs.metadata().annotations().at("deployment.kubernetes.io/max-replicas") == "4");
  CHECK(rs.spec().selector().match_labels().at("pod-template-hash") == hash);
  CHECK(rs.metadata().owner_references(0).kind() == "Deployment");
  CHECK(rs.metadata().owner_references(0).controller());
  for (const v1::Pod& p : w.Pods("app=web")) CHECK(p.metadata().labels().at("pod-template-hash") == hash);

  v1::Object d = w.Get("Deployment", "web");
  const v1::DeploymentStatus& s = d.deployment().status();
  CHECK(s.observed_generation() == 1);
  CHECK(s.replicas() == 3);
  CHECK(s.updated_replicas() == 3);
  CHECK(s.ready_replicas() == 3);
  CHECK(s.available_replicas() == 3);
  CHECK(s.unavailable_replicas() == 0);
  REQUIRE(Condition(d, "Available") != nullptr);
  CHECK(Condition(d, "Available")->status() == "True");
  CHECK(Condition(d, "Available")->reason() == "MinimumReplicasAvailable");
  REQUIRE(Condition(d, "Progressing") != nullptr);
  CHECK(Condition(d, "Progressing")->reason() == "NewReplicaSetAvailable");
  CHECK(Condition(d, "Progressing")->message() == "ReplicaSet \"" + rs.metadata().name() + "\" has successfully progressed.");
  // ScalingReplicaSet recorded on the Deployment.
  bool scaled_event = false;
  for (const v1::Object& e : w.List("Event")) {
    scaled_event |= e.event().reason() == "ScalingReplicaSet" &&
                    e.event().message() == "Scaled up replica set " + rs.metadata().name() + " to 3";
  }
  CHECK(scaled_event);

  SUBCASE("once complete, the loops write nothing (the agents keep heartbeating)") {
    int64_t revision = w.Revision();
    for (int i = 0; i < 120; ++i) {
      w.Advance(absl::Seconds(5));
      w.Renew("n1");
      w.Renew("n2");
      w.Run();
    }
    CHECK(w.Revision() == revision);
  }
}

TEST_CASE("rolling update: never above replicas + maxSurge, never below replicas - maxUnavailable") {
  SUBCASE("maxSurge 1, maxUnavailable 0 (the defaults for 3 replicas)") {
    Rolled r(DeploymentYaml("web", 3, "busybox:1.36"));
    r.w.Apply(DeploymentYaml("web", 3, "busybox:1.37"));
    int steps = RollOut(r.w, "web", 3, 1, 0);
    CHECK(steps >= 3);  // one new pod at a time
  }
  SUBCASE("maxSurge 0, maxUnavailable 1") {
    std::string strategy = "  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}\n";
    Rolled r(DeploymentYaml("web", 3, "busybox:1.36", strategy));
    r.w.Apply(DeploymentYaml("web", 3, "busybox:1.37", strategy));
    RollOut(r.w, "web", 3, 0, 1);
  }
  SUBCASE("percentages: 50% of 4 is 2 either way") {
    std::string strategy = "  strategy: {rollingUpdate: {maxSurge: 50%, maxUnavailable: 50%}}\n";
    Rolled r(DeploymentYaml("web", 4, "busybox:1.36", strategy));
    r.w.Apply(DeploymentYaml("web", 4, "busybox:1.37", strategy));
    RollOut(r.w, "web", 4, 2, 2);
  }
  SUBCASE("25% of 10: surge rounds up to 3, unavailable down to 2") {
    std::string strategy = "  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}\n";
    Rolled r(DeploymentYaml("web", 10, "busybox:1.36", strategy));
    r.w.Apply(DeploymentYaml("web", 10, "busybox:1.37", strategy));
    r.w.Run();
    // 3 new and 2 old gone in the first pass; then 2 more new: 13 = 10 + 3, and 8 of
    // the old still ready = 10 - 2.
    Counts c = Count(r.w, "app=web");
    CHECK(c.active == 13);
    CHECK(c.ready == 8);
    RollOut(r.w, "web", 10, 3, 2);
  }
}

TEST_CASE("rolling update ends with the new template only, two revisions kept") {
  Rolled r(DeploymentYaml("web", 3, "busybox:1.36"));
  Workloads& w = r.w;
  w.Apply(DeploymentYaml("web", 3, "busybox:1.37"));
  RollOut(w, "web", 3, 1, 0);
  Counts c = Count(w, "app=web");
  CHECK(c.active == 3);
  CHECK(c.images == std::set<std::string>{"busybox:1.37"});
  std::map<std::string, int32_t> replicas_by_revision;
  for (const v1::Object& o : w.List("ReplicaSet")) {
    replicas_by_revision[o.replica_set().metadata().annotations().at("deployment.kubernetes.io/revision")] =
        o.replica_set().spec().replicas();
  }
  CHECK(replicas_by_revision == std::map<std::string, int32_t>{{"1", 0}, {"2", 3}});
  v1::Object d = w.Get("Deployment", "web");
  CHECK(d.deployment().status().updated_replicas() == 3);
  CHECK(Condition(d, "Progressing")->reason() == "NewReplicaSetAvailable");

  SUBCASE("undo: the old template back in the Deployment reuses its ReplicaSet, as revision 3") {
    w.Apply(DeploymentYaml("web", 3, "busybox:1.36"));
    RollOut(w, "web", 3, 1, 0);
    CHECK(Count(w, "app=web").images == std::set<std::string>{"busybox:1.36"});
    std::vector<v1::Object> sets = w.List("ReplicaSet");
    CHECK(sets.size() == 2);  // no third set
    for (const v1::Object& o : sets) {
      const auto& a = o.replica_set().metadata().annotations();
      if (o.replica_set().spec().template_().spec().containers(0).image() == "busybox:1.36") {
        CHECK(a.at("deployment.kubernetes.io/revision") == "3");
        CHECK(a.at("deployment.kubernetes.io/revision-history") == "1");
        CHECK(o.replica_set().spec().replicas() == 3);
      } else {
        CHECK(a.at("deployment.kubernetes.io/revision") == "2");
        CHECK(o.replica_set().spec().replicas() == 0);
      }
    }
  }
}

TEST_CASE("Recreate: the old pods go before any new one is made") {
  std::string strategy = "  strategy: {type: Recreate}\n";
  Rolled r(DeploymentYaml("web", 2, "busybox:1.36", strategy));
  Workloads& w = r.w;
  w.Apply(DeploymentYaml("web", 2, "busybox:1.37", strategy));
  w.Run();
  Counts c = Count(w, "app=web");
  CHECK(c.active == 2);  // the old pods were deleted, the new set took their place
  CHECK(c.images == std::set<std::string>{"busybox:1.37"});
  CHECK(w.List("ReplicaSet").size() == 2);
  w.ReadyAll();
  w.Run();
  v1::Object d = w.Get("Deployment", "web");
  CHECK(reconcile::DeploymentComplete(d.deployment(), d.deployment().status()));
}

TEST_CASE("scaling: replicas alone change the active set's size") {
  Rolled r(DeploymentYaml("web", 3, "busybox:1.36"));
  Workloads& w = r.w;
  w.Apply(DeploymentYaml("web", 5, "busybox:1.36"));
  w.Run();
  CHECK(Count(w, "app=web").active == 5);
  CHECK(w.List("ReplicaSet").size() == 1);
  w.Apply(DeploymentYaml("web", 1, "busybox:1.36"));
  w.Run();
  CHECK(Count(w, "app=web").active == 1);
  w.Apply(DeploymentYaml("web", 0, "busybox:1.36"));
  w.Run();
  CHECK(Count(w, "app=web").active == 0);
  v1::Object d = w.Get("Deployment", "web");
  CHECK(d.deployment().status().replicas() == 0);
  CHECK(Condition(d, "Available")->status() == "True");
}

TEST_CASE("scaling during a rollout is proportional over the active sets") {
  std::string strategy = "  strategy: {rollingUpdate: {maxSurge: 3, maxUnavailable: 0}}\n";
  Rolled r(DeploymentYaml("web", 6, "busybox:1.36", strategy));
  Workloads& w = r.w;
  w.Apply(DeploymentYaml("web", 6, "busybox:1.37", strategy));
  w.Run();  // new set at 3, old at 6 (none of the new ready)
  w.Apply(DeploymentYaml("web", 12, "busybox:1.37", strategy));
  w.Run();
  std::map<std::string, int32_t> sizes;
  for (const v1::Object& o : w.List("ReplicaSet")) {
    sizes[o.replica_set().spec().template_().spec().containers(0).image()] = o.replica_set().spec().replicas();
  }
  // 9 of 15 allowed became 15 of 15: 6 -> 10, 3 -> 5.
  CHECK(sizes["busybox:1.36"] == 10);
  CHECK(sizes["busybox:1.37"] == 5);
}

TEST_CASE("revisionHistoryLimit: empty old sets beyond it are deleted") {
  std::string limit = "  revisionHistoryLimit: 1\n";
  Rolled r(DeploymentYaml("web", 1, "busybox:1", limit));
  Workloads& w = r.w;
  for (const char* image : {"busybox:2", "busybox:3", "busybox:4"}) {
    w.Apply(DeploymentYaml("web", 1, image, limit));
    RollOut(w, "web", 1, 1, 0);
    w.Run();
  }
  std::vector<v1::Object> sets = w.List("ReplicaSet");
  REQUIRE(sets.size() == 2);
  std::set<std::string> revisions;
  for (const auto& o : sets) revisions.insert(o.replica_set().metadata().annotations().at("deployment.kubernetes.io/revision"));
  CHECK(revisions == std::set<std::string>{"3", "4"});
}

TEST_CASE("paused: template changes wait, scaling does not") {
  std::string paused = "  paused: true\n";
  Rolled r(DeploymentYaml("web", 2, "busybox:1.36"));
  Workloads& w = r.w;
  w.Apply(DeploymentYaml("web", 3, "busybox:1.37", paused));
  w.Run();
  CHECK(w.List("ReplicaSet").size() == 1);
  Counts c = Count(w, "app=web");
  CHECK(c.active == 3);
  CHECK(c.images == std::set<std::string>{"busybox:1.36"});
  v1::Object d = w.Get("Deployment", "web");
  CHECK(Condition(d, "Progressing")->status() == "Unknown");
  CHECK(Condition(d, "Progressing")->reason() == "DeploymentPaused");
  w.ReadyAll();  // the replica added while paused
  w.Run();

  w.Apply(DeploymentYaml("web", 3, "busybox:1.37"));
  RollOut(w, "web", 3, 1, 0);
  CHECK(Count(w, "app=web").images == std::set<std::string>{"busybox:1.37"});
}

TEST_CASE("a rollout that makes no progress past progressDeadlineSeconds says so") {
  std::string deadline = "  progressDeadlineSeconds: 30\n";
  Rolled r(DeploymentYaml("web", 1, "busybox:1.36", deadline));
  Workloads& w = r.w;
  w.Apply(DeploymentYaml("web", 1, "busybox:broken", deadline));
  w.Run();
  v1::Object d = w.Get("Deployment", "web");
  CHECK(Condition(d, "Progressing")->status() == "True");
  w.Advance(absl::Seconds(20));
  w.Run();
  CHECK(Condition(w.Get("Deployment", "web"), "Progressing")->status() == "True");
  w.Advance(absl::Seconds(15));
  w.Run();  // woken by the deadline alone
  d = w.Get("Deployment", "web");
  CHECK(Condition(d, "Progressing")->status() == "False");
  CHECK(Condition(d, "Progressing")->reason() == "ProgressDeadlineExceeded");
  CHECK(Condition(d, "Progressing")->message().find("has timed out progressing.") != std::string::npos);
}

TEST_CASE("a ReplicaSet name taken by a stranger bumps the collision count") {
  Workloads w;
  w.AddNode("n1");
  w.Apply(DeploymentYaml("web", 1, "busybox:1.36"));
  // Learn the name the Deployment would use, then take it first.
  w.Run();
  std::string name = w.List("ReplicaSet")[0].replica_set().metadata().name();
  REQUIRE(w.store->Update([](store::Txn& txn) {
                   return txn.Delete(store::Key{"Deployment", "default", "web"}, "").status();
                 }).ok());
  w.Run();  // garbage collection takes the orphaned set and pods
  CHECK(w.List("ReplicaSet").empty());
  w.Apply(reef::StrCat(R"(apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: )", name, R"(}
spec:
  replicas: 0
  selector: {matchLabels: {other: x}}
  template:
    metadata: {labels: {other: x}}
    spec:
      containers: [{name: main, image: "nginx:1"}]
)"));
  w.Apply(DeploymentYaml("web", 1, "busybox:1.36"));
  w.Run();
  v1::Object d = w.Get("Deployment", "web");
  CHECK(d.deployment().status().collision_count() == 1);
  CHECK(w.List("ReplicaSet").size() == 2);
  CHECK(Count(w, "app=web").active == 1);
}

}  // namespace
}  // namespace reef::testing
