// The control loops' building blocks: the work queue, maxSurge/maxUnavailable
// arithmetic, the template hash, the object cache.

#include <doctest/doctest.h>

#include "controller/reconcile/int_or_percent.h"
#include "controller/reconcile/object_cache.h"
#include "controller/reconcile/reconcilers.h"
#include "controller/reconcile/template_hash.h"
#include "controller/reconcile/work_queue.h"
#include "controller/store/sqlite_store.h"

namespace reef::reconcile {
namespace {

TEST_CASE("work queue: an item is held once, never by two workers, requeued at Done") {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("a");
  q.Add("b");
  q.Add("a");
  CHECK(q.Size() == 2);
  auto first = q.TryGet();
  REQUIRE(first);
  CHECK(*first == "a");
  // Added while a worker holds it: not handed out again until Done.
  q.Add("a");
  auto second = q.TryGet();
  REQUIRE(second);
  CHECK(*second == "b");
  CHECK_FALSE(q.TryGet());
  q.Done("a");
  auto again = q.TryGet();
  REQUIRE(again);
  CHECK(*again == "a");
  q.Done("a");
  q.Done("b");
  CHECK_FALSE(q.TryGet());
}

TEST_CASE("work queue: delayed items wait on the clock, the earliest time wins") {
  FakeClock clock;
  WorkQueue q(&clock);
  q.AddAfter("x", absl::Seconds(10));
  q.AddAfter("x", absl::Seconds(3));
  q.AddAfter("x", absl::Seconds(20));
  CHECK_FALSE(q.TryGet());
  clock.Advance(absl::Seconds(2));
  CHECK_FALSE(q.TryGet());
  clock.Advance(absl::Seconds(1));
  auto item = q.TryGet();
  REQUIRE(item);
  CHECK(*item == "x");
  q.Done("x");
  clock.Advance(absl::Seconds(30));
  CHECK_FALSE(q.TryGet());  // the later times were dropped, not kept
}

TEST_CASE("work queue: backoff doubles per failure and resets on Forget") {
  FakeClock clock;
  WorkQueue q(&clock);
  CHECK(q.NextBackoff("k") == absl::Milliseconds(100));
  CHECK(q.NextBackoff("k") == absl::Milliseconds(200));
  CHECK(q.NextBackoff("k") == absl::Milliseconds(400));
  CHECK(q.Failures("k") == 3);
  for (int i = 0; i < 30; ++i) q.NextBackoff("k");
  CHECK(q.NextBackoff("k") == absl::Minutes(5));
  q.Forget("k");
  CHECK(q.NextBackoff("k") == absl::Milliseconds(100));
}

TEST_CASE("maxSurge rounds up, maxUnavailable down, never both zero") {
  CHECK(ScaledValue("25%", 3, true) == 1);
  CHECK(ScaledValue("25%", 3, false) == 0);
  CHECK(ScaledValue("50%", 5, true) == 3);
  CHECK(ScaledValue("50%", 5, false) == 2);
  CHECK(ScaledValue("2", 100, true) == 2);
  CHECK(ScaledValue("100%", 4, false) == 4);
  Fenceposts f = ResolveFenceposts("25%", "25%", 3);
  CHECK(f.max_surge == 1);
  CHECK(f.max_unavailable == 0);
  f = ResolveFenceposts("0", "0%", 10);
  CHECK(f.max_surge == 0);
  CHECK(f.max_unavailable == 1);
  f = ResolveFenceposts("25%", "25%", 10);
  CHECK(f.max_surge == 3);
  CHECK(f.max_unavailable == 2);
}

TEST_CASE("template hash: stable, label-safe, changes with the template and the collision count") {
  v1::PodTemplateSpec t;
  (*t.mutable_metadata()->mutable_labels())["app"] = "web";
  t.mutable_spec()->add_containers()->set_image("nginx:1.25");
  std::string h = TemplateHash(t);
  CHECK(h == TemplateHash(t));
  CHECK(!h.empty());
  CHECK(h.size() <= 10);
  CHECK(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
  v1::PodTemplateSpec other = t;
  other.mutable_spec()->mutable_containers(0)->set_image("nginx:1.26");
  CHECK(TemplateHash(other) != h);
  CHECK(TemplateHash(t, 1) != h);
  CHECK(TemplateHash(t, 1) != TemplateHash(t, 2));
}

TEST_CASE("object cache: lists, follows writes at once, indexes controlled objects") {
  FakeClock clock;
  auto store = store::OpenSqliteStore(":memory:", store::SqliteStoreOptions{&clock});
  REQUIRE(store.ok());
  auto put = [&](const std::string& name, const std::string& owner_uid) {
    v1::Object o;
    o.mutable_pod()->mutable_metadata()->set_name(name);
    o.mutable_pod()->mutable_metadata()->set_namespace_("default");
    if (!owner_uid.empty()) {
      auto* ref = o.mutable_pod()->mutable_metadata()->add_owner_references();
      ref->set_kind("ReplicaSet");
      ref->set_uid(owner_uid);
      ref->set_controller(true);
    }
    REQUIRE((*store)->Update([&](store::Txn& txn) { return txn.Create(o).status(); }).ok());
  };
  put("before", "rs-1");
  int events = 0;
  auto cache = ObjectCache::Open(store->get(), {"Pod"}, [&](const store::Event&) { ++events; });
  REQUIRE(cache.ok());
  CHECK((*cache)->List("Pod").size() == 1);
  CHECK(events == 0);  // what the list had is not replayed
  put("after", "rs-1");
  CHECK(events == 1);
  CHECK((*cache)->List("Pod", "default").size() == 2);
  CHECK((*cache)->List("Pod", "other").empty());
  CHECK((*cache)->ControlledBy("rs-1").size() == 2);
  CHECK((*cache)->Get(store::Key{"Pod", "default", "after"}) != nullptr);
  CHECK((*cache)->Holds("Pod"));
  CHECK_FALSE((*cache)->Holds("ConfigMap"));
  REQUIRE((*store)->Update([](store::Txn& txn) {
                     return txn.Delete(store::Key{"Pod", "default", "before"}, "").status();
                   }).ok());
  CHECK((*cache)->ControlledBy("rs-1").size() == 1);
  CHECK((*cache)->Get(store::Key{"Pod", "default", "before"}) == nullptr);
}

TEST_CASE("--controllers: *, NAME and -NAME, applied in order") {
  CHECK(*ParseControllers("*") == AllLoops());
  CHECK(ParseControllers("-*")->empty());
  CHECK(ParseControllers("")->empty());
  std::set<std::string> all_but = AllLoops();
  all_but.erase("scheduler");
  CHECK(*ParseControllers("*,-scheduler") == all_but);
  CHECK(*ParseControllers("deployment, replicaset") == std::set<std::string>{"deployment", "replicaset"});
  auto bad = ParseControllers("*,-bogus");
  CHECK(!bad.ok());
  CHECK(std::string(bad.status().message()).find("unknown controller \"bogus\"") != std::string::npos);
}

}  // namespace
}  // namespace reef::reconcile
