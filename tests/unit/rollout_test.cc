// reefctl rollout's pure parts: kubectl's status messages, which revision undo picks,
// what it writes into the Deployment.

#include <doctest/doctest.h>

#include "cli/rollout.h"

namespace reef::cli {
namespace {

v1::Object Deployment(int replicas, int generation, int observed, int updated, int total, int available) {
  v1::Object o;
  v1::Deployment* d = o.mutable_deployment();
  d->mutable_metadata()->set_name("web");
  d->mutable_metadata()->set_generation(generation);
  d->mutable_spec()->set_replicas(replicas);
  v1::DeploymentStatus* s = d->mutable_status();
  s->set_observed_generation(observed);
  s->set_updated_replicas(updated);
  s->set_replicas(total);
  s->set_available_replicas(available);
  return o;
}

TEST_CASE("rollout status: kubectl's messages, in kubectl's order") {
  auto message = [](const v1::Object& o) {
    auto p = RolloutProgressOf(o);
    REQUIRE(p.ok());
    return p->message;
  };
  CHECK(message(Deployment(3, 2, 1, 3, 3, 3)) == "Waiting for deployment spec update to be observed...");
  CHECK(message(Deployment(3, 2, 2, 1, 4, 3)) ==
        "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...");
  CHECK(message(Deployment(3, 2, 2, 3, 4, 3)) ==
        "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...");
  CHECK(message(Deployment(3, 2, 2, 3, 3, 1)) ==
        "Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available...");
  auto done = RolloutProgressOf(Deployment(3, 2, 2, 3, 3, 3));
  REQUIRE(done.ok());
  CHECK(done->done);
  CHECK(done->message == "deployment \"web\" successfully rolled out");

  v1::Object stuck = Deployment(3, 2, 2, 1, 4, 3);
  auto* c = stuck.mutable_deployment()->mutable_status()->add_conditions();
  c->set_type("Progressing");
  c->set_status("False");
  c->set_reason("ProgressDeadlineExceeded");
  auto failed = RolloutProgressOf(stuck);
  CHECK(!failed.ok());
  CHECK(failed.status().message() == "deployment \"web\" exceeded its progress deadline");

  v1::Object ds;
  ds.mutable_daemon_set()->mutable_metadata()->set_name("logs");
  ds.mutable_daemon_set()->mutable_status()->set_desired_number_scheduled(3);
  ds.mutable_daemon_set()->mutable_status()->set_updated_number_scheduled(1);
  CHECK(message(ds) == "Waiting for daemon set \"logs\" rollout to finish: 1 out of 3 new pods have been updated...");
}

v1::ReplicaSet Revision(int revision, const std::string& image) {
  v1::ReplicaSet rs;
  rs.mutable_metadata()->set_name("web-" + image);
  (*rs.mutable_metadata()->mutable_annotations())["deployment.kubernetes.io/revision"] = std::to_string(revision);
  (*rs.mutable_metadata()->mutable_annotations())["kubernetes.io/change-cause"] = "set " + image;
  (*rs.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "web";
  (*rs.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["pod-template-hash"] = image;
  rs.mutable_spec()->mutable_template_()->mutable_spec()->add_containers()->set_image(image);
  return rs;
}

TEST_CASE("rollout undo: the previous revision, or the one asked for") {
  v1::Deployment d;
  d.mutable_metadata()->set_name("web");
  std::vector<v1::ReplicaSet> revisions = {Revision(1, "v1"), Revision(2, "v2"), Revision(3, "v3")};
  auto previous = RollbackTarget(d, revisions, 0);
  REQUIRE(previous.ok());
  CHECK(previous->metadata().name() == "web-v2");
  auto first = RollbackTarget(d, revisions, 1);
  REQUIRE(first.ok());
  CHECK(first->metadata().name() == "web-v1");
  CHECK(RollbackTarget(d, revisions, 7).status().message() == "unable to find specified revision 7 in history");
  CHECK(RollbackTarget(d, {Revision(1, "v1")}, 0).status().message() ==
        "no rollout history found for deployment \"web\"");

  // The template without its hash label, and the revision's annotations.
  *d.mutable_spec()->mutable_template_() = revisions[2].spec().template_();
  d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels()->erase("pod-template-hash");
  (*d.mutable_metadata()->mutable_annotations())["kubernetes.io/change-cause"] = "set v3";
  CHECK(RollBack(&d, *previous));
  CHECK(d.spec().template_().spec().containers(0).image() == "v2");
  CHECK(d.spec().template_().metadata().labels().count("pod-template-hash") == 0);
  CHECK(d.metadata().annotations().at("kubernetes.io/change-cause") == "set v2");
  CHECK(d.metadata().annotations().count("deployment.kubernetes.io/revision") == 0);
  CHECK_FALSE(RollBack(&d, *previous));  // already there
}

TEST_CASE("revisions are the Deployment's own ReplicaSets, by revision") {
  v1::Deployment d;
  d.mutable_metadata()->set_uid("d-uid");
  std::vector<v1::Object> sets(3);
  const char* uids[] = {"d-uid", "other", "d-uid"};
  int numbers[] = {2, 1, 1};
  for (int i = 0; i < 3; ++i) {
    *sets[i].mutable_replica_set() = Revision(numbers[i], std::to_string(i));
    auto* ref = sets[i].mutable_replica_set()->mutable_metadata()->add_owner_references();
    ref->set_uid(uids[i]);
    ref->set_controller(true);
  }
  std::vector<v1::ReplicaSet> revisions = RevisionsOf(d, sets);
  REQUIRE(revisions.size() == 2);
  CHECK(RevisionNumber(revisions[0]) == 1);
  CHECK(RevisionNumber(revisions[1]) == 2);
}

}  // namespace
}  // namespace reef::cli
