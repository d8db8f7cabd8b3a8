#include "tests/store/store_conformance.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace reef::store::testing {
namespace {

using manifest::Meta;
using manifest::MutableMeta;
using Labels = std::map<std::string, std::string>;

// Yields the value of `expr`, an absl::StatusOr, or fails the test with its status.
#define REEF_MUST(expr)                                                \
  ([&]() {                                                             \
    auto reef_must_ = (expr);                                          \
    REQUIRE_MESSAGE(reef_must_.ok(), #expr ": ", reef_must_.status()); \
    return *std::move(reef_must_);                                     \
  }())

#define REEF_REQUIRE_OK(expr)                                        \
  do {                                                               \
    ::absl::Status reef_ok_ = (expr);                                \
    REQUIRE_MESSAGE(reef_ok_.ok(), #expr ": ", reef_ok_.ToString()); \
  } while (0)

// Checks that two Objects are equal in every field, showing both when not.
#define CHECK_SAME(actual, expected)                                           \
  do {                                                                         \
    const Object& reef_actual_ = (actual);                                     \
    const Object& reef_expected_ = (expected);                                 \
    CHECK_MESSAGE(manifest::Equal(reef_actual_, reef_expected_), #actual ": ", \
                  reef_actual_.ShortDebugString(), "\n" #expected ": ",        \
                  reef_expected_.ShortDebugString());                          \
  } while (0)

// ---- objects ----

Object ConfigMap(const std::string& ns, const std::string& name, const Labels& labels = {},
                 const Labels& data = {}) {
  Object o;
  reef::v1::ConfigMap* cm = o.mutable_config_map();
  cm->mutable_metadata()->set_namespace_(ns);
  cm->mutable_metadata()->set_name(name);
  cm->mutable_metadata()->mutable_labels()->insert(labels.begin(), labels.end());
  cm->mutable_data()->insert(data.begin(), data.end());
  return o;
}

Object Pod(const std::string& ns, const std::string& name, const std::string& image,
           const Labels& labels = {}) {
  Object o;
  reef::v1::Pod* pod = o.mutable_pod();
  pod->mutable_metadata()->set_namespace_(ns);
  pod->mutable_metadata()->set_name(name);
  pod->mutable_metadata()->mutable_labels()->insert(labels.begin(), labels.end());
  reef::v1::Container* c = pod->mutable_spec()->add_containers();
  c->set_name("main");
  c->set_image(image);
  return o;
}

Object WithData(Object o, const std::string& key, const std::string& value) {
  (*o.mutable_config_map()->mutable_data())[key] = value;
  return o;
}

const std::string& Rv(const Object& o) { return Meta(o).resource_version(); }

// (Named helpers rather than designated initializers, which g++ 12 flags with
// -Wmissing-field-initializers.)
ListOptions Kind(std::string kind, std::string ns = "", manifest::Selector selector = {}) {
  ListOptions options;
  options.kind = std::move(kind);
  options.ns = std::move(ns);
  options.selector = std::move(selector);
  return options;
}

WatchOptions From(int64_t revision) {
  WatchOptions options;
  options.from_revision = revision;
  return options;
}

// ---- reading and writing ----

Object Stored(Store& store, const Key& key) {
  absl::StatusOr<Object> object = store.Get(key);
  REQUIRE_MESSAGE(object.ok(), "Get ", ToString(key), ": ", object.status());
  return *std::move(object);
}

ListResult Listed(Store& store, const ListOptions& options) {
  absl::StatusOr<ListResult> result = store.List(options);
  REQUIRE_MESSAGE(result.ok(), "List ", options.kind, " in \"", options.ns,
                  "\": ", result.status());
  return *std::move(result);
}

// One operation per transaction.

absl::StatusOr<Object> InTxn(Store& store, const std::function<absl::StatusOr<Object>(Txn&)>& op) {
  absl::StatusOr<Object> result = absl::UnknownError("the transaction did not run");
  absl::StatusOr<int64_t> revision = store.Update([&](Txn& txn) {
    result = op(txn);
    return result.status();
  });
  if (!revision.ok()) return revision.status();
  return result;
}

absl::StatusOr<Object> TryCreate(Store& store, const Object& o) {
  return InTxn(store, [&](Txn& txn) { return txn.Create(o); });
}
absl::StatusOr<Object> TryUpdate(Store& store, const Object& o) {
  return InTxn(store, [&](Txn& txn) { return txn.Update(o); });
}
absl::StatusOr<Object> TryDelete(Store& store, const Object& o, const std::string& rv) {
  return InTxn(store, [&](Txn& txn) { return txn.Delete(KeyOf(o), rv); });
}

// ---- watching ----

const char* TypeName(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
  }
  return "?";
}

// "ADDED ConfigMap default/a @3, DELETED ..." for one comparison that prints well.
std::string Describe(const std::vector<Event>& events) {
  std::string out;
  for (const Event& e : events) {
    if (!out.empty()) out += ", ";
    out += reef::StrCat(TypeName(e.type), " ", ToString(KeyOf(e.object)), " @", e.revision);
  }
  return out;
}

std::string Describe(const std::vector<Object>& objects) {
  std::string out;
  for (const Object& o : objects) {
    if (!out.empty()) out += " ";
    out += ToString(KeyOf(o));
  }
  return out;
}

// Collects what a watch delivers, from whichever thread delivers it.
class Recorder {
 public:
  std::function<void(const Event&)> Sink() {
    return [this](const Event& e) {
      absl::MutexLock lock(&mu_);
      events_.push_back(e);
    };
  }

  // Every event so far, once at least `n` have arrived or a timeout passed.
  std::vector<Event> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return events_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return events_;
  }

  std::vector<Event> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<WatchHandle> MustWatch(Store& store, WatchOptions options, Recorder& recorder) {
  return REEF_MUST(store.Watch(options, recorder.Sink()));
}

// ---- the behaviours ----

void CreateAndGet(Store& store, FakeClock& clock) {
  SUBCASE("Create assigns uid, creationTimestamp, generation 1 and the new revision") {
    int64_t before = store.Revision();
    Object in = Pod("default", "web", "nginx:1");
    // The caller's values for these are not taken.
    MutableMeta(&in)->set_uid("caller-uid");
    MutableMeta(&in)->set_generation(7);
    MutableMeta(&in)->set_creation_timestamp("2001-01-01T00:00:00Z");

    Object created;
    int64_t revision = REEF_MUST(store.Update([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(created, txn.Create(in));
      return absl::OkStatus();
    }));
    CHECK(revision == before + 1);
    CHECK(store.Revision() == revision);
    CHECK(Rv(created) == std::to_string(revision));
    CHECK(Meta(created).generation() == 1);
    CHECK(!Meta(created).uid().empty());
    CHECK(Meta(created).uid() != "caller-uid");
    CHECK(Meta(created).creation_timestamp() == FormatTimestamp(clock.Now()));
    absl::StatusOr<absl::Time> parsed = ParseTimestamp(Meta(created).creation_timestamp());
    REQUIRE_MESSAGE(parsed.ok(), parsed.status());
    CHECK(*parsed == clock.Now());
    CHECK(created.pod().spec().containers(0).image() == "nginx:1");

    CHECK_SAME(Stored(store, KeyOf(in)), created);
  }

  SUBCASE("uids are unique, also across delete and re-create, and timestamps follow the clock") {
    Object a = REEF_MUST(TryCreate(store, ConfigMap("default", "a")));
    clock.Advance(absl::Seconds(90));
    Object b = REEF_MUST(TryCreate(store, ConfigMap("default", "b")));
    CHECK(Meta(a).uid() != Meta(b).uid());
    CHECK(Meta(b).creation_timestamp() == FormatTimestamp(clock.Now()));
    CHECK(Meta(a).creation_timestamp() == FormatTimestamp(clock.Now() - absl::Seconds(90)));

    REEF_MUST(TryDelete(store, a, ""));
    Object again = REEF_MUST(TryCreate(store, ConfigMap("default", "a")));
    CHECK(Meta(again).uid() != Meta(a).uid());
    CHECK(Meta(again).uid() != Meta(b).uid());
    CHECK(Meta(again).generation() == 1);
  }

  SUBCASE("Create of an existing key is AlreadyExists and changes nothing") {
    Object first = REEF_MUST(TryCreate(store, ConfigMap("default", "a", {}, {{"k", "1"}})));
    int64_t revision = store.Revision();
    absl::StatusOr<Object> second = TryCreate(store, ConfigMap("default", "a", {}, {{"k", "2"}}));
    CHECK_MESSAGE(absl::IsAlreadyExists(second.status()), second.status());
    CHECK(store.Revision() == revision);
    CHECK_SAME(Stored(store, KeyOf(first)), first);
  }

  SUBCASE("Get of a missing object is NotFound, naming it") {
    absl::StatusOr<Object> missing = store.Get(Key{"ConfigMap", "default", "nope"});
    CHECK_MESSAGE(absl::IsNotFound(missing.status()), missing.status());
    CHECK_MESSAGE(missing.status().message().find("nope") != absl::string_view::npos,
                  missing.status());

    absl::StatusOr<Object> node = store.Get(Key{"Node", "", "pi-1"});
    CHECK_MESSAGE(absl::IsNotFound(node.status()), node.status());
    CHECK_MESSAGE(node.status().message().find("pi-1") != absl::string_view::npos, node.status());

    absl::StatusOr<Object> in_txn = InTxn(store, [](Txn& txn) {
      return txn.Get(Key{"ConfigMap", "default", "nope"});
    });
    CHECK_MESSAGE(absl::IsNotFound(in_txn.status()), in_txn.status());
  }
}

void Updates(Store& store, FakeClock& clock) {
  SUBCASE("Update with a stale resourceVersion is Aborted and changes nothing") {
    Object v1 = REEF_MUST(TryCreate(store, ConfigMap("default", "a", {}, {{"k", "1"}})));
    Object v2 = REEF_MUST(TryUpdate(store, WithData(v1, "k", "2")));
    REQUIRE(Rv(v2) != Rv(v1));
    int64_t revision = store.Revision();
    Recorder recorder;
    auto watch = MustWatch(store, From(revision), recorder);

    absl::StatusOr<Object> stale = TryUpdate(store, WithData(v1, "k", "3"));
    CHECK_MESSAGE(absl::IsAborted(stale.status()), stale.status());
    CHECK_SAME(Stored(store, KeyOf(v1)), v2);
    CHECK(store.Revision() == revision);

    // No event for the failed write: the next one is the first the watch sees.
    REEF_MUST(TryCreate(store, ConfigMap("default", "next")));
    CHECK(Describe(recorder.WaitFor(1)) ==
          reef::StrCat("ADDED ConfigMap default/next @", revision + 1));
  }

  SUBCASE("Update with an empty resourceVersion overwrites") {
    Object v1 = REEF_MUST(TryCreate(store, ConfigMap("default", "a", {}, {{"k", "1"}})));
    REEF_MUST(TryUpdate(store, WithData(v1, "k", "2")));
    Object blind = WithData(v1, "k", "3");
    MutableMeta(&blind)->clear_resource_version();
    Object v3 = REEF_MUST(TryUpdate(store, blind));
    CHECK(Rv(v3) == std::to_string(store.Revision()));
    CHECK(v3.config_map().data().at("k") == "3");
    CHECK_SAME(Stored(store, KeyOf(v1)), v3);
  }

  SUBCASE("Update keeps uid and creationTimestamp whatever the caller sends") {
    Object v1 = REEF_MUST(TryCreate(store, ConfigMap("default", "a")));
    clock.Advance(absl::Hours(1));
    Object in = WithData(v1, "k", "2");
    MutableMeta(&in)->set_uid("another-uid");
    MutableMeta(&in)->set_creation_timestamp("2001-01-01T00:00:00Z");
    Object v2 = REEF_MUST(TryUpdate(store, in));
    CHECK(Meta(v2).uid() == Meta(v1).uid());
    CHECK(Meta(v2).creation_timestamp() == Meta(v1).creation_timestamp());
    Object got = Stored(store, KeyOf(v1));
    CHECK(Meta(got).uid() == Meta(v1).uid());
    CHECK(Meta(got).creation_timestamp() == Meta(v1).creation_timestamp());
  }

  SUBCASE("Update of a missing object is NotFound") {
    absl::StatusOr<Object> missing = TryUpdate(store, ConfigMap("default", "nope"));
    CHECK_MESSAGE(absl::IsNotFound(missing.status()), missing.status());
    CHECK(store.Revision() == 0);
  }

  SUBCASE("generation") {
    Object v1 = REEF_MUST(TryCreate(store, Pod("default", "web", "nginx:1")));
    REQUIRE(Meta(v1).generation() == 1);

    SUBCASE("is bumped by a spec change") {
      Object in = v1;
      in.mutable_pod()->mutable_spec()->mutable_containers(0)->set_image("nginx:2");
      Object v2 = REEF_MUST(TryUpdate(store, in));
      CHECK(Meta(v2).generation() == 2);
      CHECK(Rv(v2) != Rv(v1));
    }
    SUBCASE("is kept by a labels-only change") {
      Object in = v1;
      (*MutableMeta(&in)->mutable_labels())["tier"] = "web";
      Object v2 = REEF_MUST(TryUpdate(store, in));
      CHECK(Meta(v2).generation() == 1);
      CHECK(Rv(v2) != Rv(v1));  // still a change
      CHECK(Meta(v2).labels().at("tier") == "web");
    }
    SUBCASE("is kept by a status-only change") {
      Object in = v1;
      in.mutable_pod()->mutable_status()->set_phase("Running");
      Object v2 = REEF_MUST(TryUpdate(store, in));
      CHECK(Meta(v2).generation() == 1);
      CHECK(Rv(v2) != Rv(v1));
      CHECK(Stored(store, KeyOf(v1)).pod().status().phase() == "Running");
    }
    SUBCASE("is not taken from the caller") {
      Object in = v1;
      MutableMeta(&in)->set_generation(99);
      (*MutableMeta(&in)->mutable_annotations())["note"] = "x";
      Object v2 = REEF_MUST(TryUpdate(store, in));
      CHECK(Meta(v2).generation() == 1);
    }
  }

  SUBCASE("writing an identical object is a no-op") {
    Object v1 = REEF_MUST(TryCreate(store, Pod("default", "web", "nginx:1", {{"app", "web"}})));
    int64_t revision = store.Revision();
    Recorder recorder;
    auto watch = MustWatch(store, From(revision), recorder);

    Object same = v1;
    SUBCASE("as read") {}
    SUBCASE("without a resourceVersion") { MutableMeta(&same)->clear_resource_version(); }
    Object written;
    int64_t after = REEF_MUST(store.Update([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(written, txn.Update(same));
      return absl::OkStatus();
    }));
    CHECK(after == revision);
    CHECK(store.Revision() == revision);
    CHECK(Rv(written) == Rv(v1));
    CHECK_SAME(written, v1);
    CHECK_SAME(Stored(store, KeyOf(v1)), v1);

    REEF_MUST(TryCreate(store, ConfigMap("default", "next")));
    CHECK(Describe(recorder.WaitFor(1)) ==
          reef::StrCat("ADDED ConfigMap default/next @", revision + 1));
  }
}

void Transactions(Store& store) {
  Object to_update = REEF_MUST(TryCreate(store, ConfigMap("default", "u", {}, {{"k", "1"}})));
  Object to_delete = REEF_MUST(TryCreate(store, ConfigMap("default", "d")));
  const int64_t before = store.Revision();
  Recorder recorder;
  auto watch = MustWatch(store, From(before), recorder);

  SUBCASE("one Update with several writes is one revision, shared by all") {
    std::vector<Object> written;
    int64_t revision = REEF_MUST(store.Update([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Object a, txn.Create(ConfigMap("default", "a")));
      ASSIGN_OR_RETURN(Object b, txn.Create(ConfigMap("default", "b")));
      ASSIGN_OR_RETURN(Object u, txn.Update(WithData(to_update, "k", "2")));
      ASSIGN_OR_RETURN(Object d, txn.Delete(KeyOf(to_delete), ""));
      written = {a, b, u, d};
      return absl::OkStatus();
    }));
    CHECK(revision == before + 1);
    CHECK(store.Revision() == revision);
    REQUIRE(written.size() == 4);
    for (int i = 0; i < 3; ++i) {
      CHECK(Rv(written[i]) == std::to_string(revision));
      CHECK(Rv(Stored(store, KeyOf(written[i]))) == std::to_string(revision));
    }
    std::string rev = std::to_string(revision);
    CHECK(Describe(recorder.WaitFor(4)) == reef::StrCat("ADDED ConfigMap default/a @", rev,
                                                        ", ADDED ConfigMap default/b @", rev,
                                                        ", MODIFIED ConfigMap default/u @", rev,
                                                        ", DELETED ConfigMap default/d @", rev));
  }

  SUBCASE("an Update whose fn fails writes nothing") {
    absl::StatusOr<int64_t> failed = store.Update([&](Txn& txn) -> absl::Status {
      RETURN_IF_ERROR(txn.Create(ConfigMap("default", "a")).status());
      RETURN_IF_ERROR(txn.Update(WithData(to_update, "k", "2")).status());
      RETURN_IF_ERROR(txn.Delete(KeyOf(to_delete), "").status());
      return absl::FailedPreconditionError("changed my mind");
    });
    CHECK_MESSAGE(absl::IsFailedPrecondition(failed.status()), failed.status());
    CHECK_MESSAGE(failed.status().message().find("changed my mind") != absl::string_view::npos,
                  failed.status());
    CHECK(store.Revision() == before);
    CHECK(absl::IsNotFound(store.Get(Key{"ConfigMap", "default", "a"}).status()));
    CHECK_SAME(Stored(store, KeyOf(to_update)), to_update);
    CHECK_SAME(Stored(store, KeyOf(to_delete)), to_delete);
    CHECK(Describe(Listed(store, Kind("ConfigMap")).items) ==
          "ConfigMap default/d ConfigMap default/u");

    // The failed transaction used no revision, and no watcher saw it.
    Object next = REEF_MUST(TryCreate(store, ConfigMap("default", "next")));
    CHECK(Rv(next) == std::to_string(before + 1));
    CHECK(Describe(recorder.WaitFor(1)) ==
          reef::StrCat("ADDED ConfigMap default/next @", before + 1));
  }

  SUBCASE("a transaction reads its own writes") {
    Object created, got_created, got_updated;
    absl::Status deleted_get;
    std::string listed;
    REEF_MUST(store.Update([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(created, txn.Create(ConfigMap("default", "a")));
      ASSIGN_OR_RETURN(got_created, txn.Get(KeyOf(created)));
      RETURN_IF_ERROR(txn.Update(WithData(to_update, "k", "2")).status());
      ASSIGN_OR_RETURN(got_updated, txn.Get(KeyOf(to_update)));
      RETURN_IF_ERROR(txn.Delete(KeyOf(to_delete), "").status());
      deleted_get = txn.Get(KeyOf(to_delete)).status();
      ASSIGN_OR_RETURN(std::vector<Object> items, txn.List(Kind("ConfigMap")));
      listed = Describe(items);
      return absl::OkStatus();
    }));
    CHECK_SAME(got_created, created);
    CHECK(got_updated.config_map().data().at("k") == "2");
    CHECK_MESSAGE(absl::IsNotFound(deleted_get), deleted_get);
    CHECK(listed == "ConfigMap default/a ConfigMap default/u");
  }
}

void Deletes(Store& store) {
  SUBCASE("Delete returns the deleted object") {
    Object v1 = REEF_MUST(TryCreate(store, ConfigMap("default", "a", {}, {{"k", "1"}})));
    Object deleted = REEF_MUST(TryDelete(store, v1, ""));
    CHECK(KeyOf(deleted).name == "a");
    CHECK(Meta(deleted).uid() == Meta(v1).uid());
    CHECK(deleted.config_map().data().at("k") == "1");
    CHECK(store.Revision() == std::stoll(Rv(v1)) + 1);
    absl::StatusOr<Object> gone = store.Get(KeyOf(v1));
    CHECK_MESSAGE(absl::IsNotFound(gone.status()), gone.status());
  }

  SUBCASE("Delete with a stale resourceVersion is Aborted and changes nothing") {
    Object v1 = REEF_MUST(TryCreate(store, ConfigMap("default", "a", {}, {{"k", "1"}})));
    Object v2 = REEF_MUST(TryUpdate(store, WithData(v1, "k", "2")));
    int64_t revision = store.Revision();
    absl::StatusOr<Object> stale = TryDelete(store, v1, Rv(v1));
    CHECK_MESSAGE(absl::IsAborted(stale.status()), stale.status());
    CHECK(store.Revision() == revision);
    CHECK_SAME(Stored(store, KeyOf(v1)), v2);

    REEF_MUST(TryDelete(store, v2, Rv(v2)));
    CHECK(absl::IsNotFound(store.Get(KeyOf(v1)).status()));
  }

  SUBCASE("Delete of a missing object is NotFound") {
    absl::StatusOr<Object> missing = TryDelete(store, ConfigMap("default", "nope"), "");
    CHECK_MESSAGE(absl::IsNotFound(missing.status()), missing.status());
    CHECK(store.Revision() == 0);
  }
}

void Lists(Store& store) {
  // Created out of order, with a Pod that shares a ConfigMap's name.
  for (const auto& [ns, name, app] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"b", "x", "web"}, {"a", "y", "db"}, {"a", "b", "web"}, {"b", "a", "db"}}) {
    REEF_MUST(TryCreate(store, ConfigMap(ns, name, {{"app", app}})));
  }
  REEF_MUST(TryCreate(store, Pod("a", "b", "nginx:1", {{"app", "web"}})));
  auto list = [&](ListOptions options) { return Describe(Listed(store, options).items); };

  SUBCASE("List of a kind returns only that kind, sorted by namespace then name") {
    CHECK(list(Kind("ConfigMap")) == "ConfigMap a/b ConfigMap a/y ConfigMap b/a ConfigMap b/x");
    CHECK(list(Kind("Pod")) == "Pod a/b");
    CHECK(list(Kind("Node")) == "");
  }
  SUBCASE("List filters by namespace") {
    CHECK(list(Kind("ConfigMap", "b")) == "ConfigMap b/a ConfigMap b/x");
    CHECK(list(Kind("ConfigMap", "c")) == "");
  }
  SUBCASE("List filters by label selector") {
    manifest::Selector web = REEF_MUST(manifest::Selector::Parse("app=web"));
    CHECK(list(Kind("ConfigMap", "", web)) == "ConfigMap a/b ConfigMap b/x");
    CHECK(list(Kind("ConfigMap", "b", web)) == "ConfigMap b/x");
    manifest::Selector none = REEF_MUST(manifest::Selector::Parse("app=cache"));
    CHECK(list(Kind("ConfigMap", "", none)) == "");
  }
  SUBCASE("List's revision is the store's revision") {
    CHECK(Listed(store, Kind("ConfigMap")).revision == store.Revision());
    CHECK(store.Revision() == 5);
    Object pod = Stored(store, Key{"Pod", "a", "b"});
    REEF_MUST(TryUpdate(store, pod));  // a no-op
    REEF_MUST(TryDelete(store, pod, ""));
    ListResult result = Listed(store, Kind("ConfigMap", "a"));
    CHECK(result.revision == store.Revision());
    CHECK(result.revision == 6);
  }
}

void Watches(Store& store) {
  SUBCASE("Watch replays exactly the changes after from_revision, then live ones") {
    Object a = REEF_MUST(TryCreate(store, ConfigMap("default", "a", {}, {{"k", "1"}})));  // 1
    REEF_MUST(TryCreate(store, ConfigMap("default", "b")));                               // 2
    REEF_MUST(TryUpdate(store, WithData(a, "k", "2")));                                   // 3
    REEF_MUST(TryDelete(store, ConfigMap("default", "b"), ""));                           // 4
    REQUIRE(store.Revision() == 4);

    Recorder recorder;
    auto watch = MustWatch(store, From(1), recorder);
    std::vector<Event> replayed = recorder.WaitFor(3);
    CHECK(Describe(replayed) ==
          "ADDED ConfigMap default/b @2, MODIFIED ConfigMap default/a @3, "
          "DELETED ConfigMap default/b @4");
    for (const Event& e : replayed) {
      // Each event carries the object as of its revision (the deletion's, for DELETED).
      CHECK(Rv(e.object) == std::to_string(e.revision));
    }
    REQUIRE(replayed.size() == 3);
    CHECK(replayed[1].object.config_map().data().at("k") == "2");
    CHECK(Meta(replayed[2].object).uid() == Meta(replayed[0].object).uid());

    REEF_MUST(TryCreate(store, ConfigMap("default", "c")));
    std::vector<Event> all = recorder.WaitFor(4);
    CHECK(Describe(all) ==
          "ADDED ConfigMap default/b @2, MODIFIED ConfigMap default/a @3, "
          "DELETED ConfigMap default/b @4, ADDED ConfigMap default/c @5");
  }

  SUBCASE("Watch from the current revision sees only new changes") {
    REEF_MUST(TryCreate(store, ConfigMap("default", "a")));
    Recorder recorder;
    auto watch = MustWatch(store, From(store.Revision()), recorder);
    REEF_MUST(TryCreate(store, ConfigMap("default", "b")));
    CHECK(Describe(recorder.WaitFor(1)) == "ADDED ConfigMap default/b @2");
  }

  SUBCASE("Watch filters by kind, namespace and selector, in replay and live") {
    REEF_MUST(TryCreate(store, ConfigMap("a", "x", {{"app", "web"}})));       // 1
    REEF_MUST(TryCreate(store, ConfigMap("b", "y", {{"app", "db"}})));        // 2
    REEF_MUST(TryCreate(store, Pod("a", "p", "nginx:1", {{"app", "web"}})));  // 3

    WatchOptions options;
    std::string expected;
    SUBCASE("kind") {
      options.kind = "ConfigMap";
      expected =
          "ADDED ConfigMap a/x @1, ADDED ConfigMap b/y @2, ADDED ConfigMap a/z @4, "
          "ADDED ConfigMap b/w @6";
    }
    SUBCASE("namespace") {
      options.ns = "a";
      expected = "ADDED ConfigMap a/x @1, ADDED Pod a/p @3, ADDED ConfigMap a/z @4";
    }
    SUBCASE("selector") {
      options.selector = REEF_MUST(manifest::Selector::Parse("app=web"));
      expected =
          "ADDED ConfigMap a/x @1, ADDED Pod a/p @3, ADDED Pod b/q @5, "
          "ADDED ConfigMap b/w @6";
    }
    Recorder recorder;
    auto watch = MustWatch(store, options, recorder);
    REEF_MUST(TryCreate(store, ConfigMap("a", "z", {{"app", "db"}})));        // 4
    REEF_MUST(TryCreate(store, Pod("b", "q", "nginx:1", {{"app", "web"}})));  // 5
    REEF_MUST(TryCreate(store, ConfigMap("b", "w", {{"app", "web"}})));       // 6
    // Matches every filter above; once it arrives, nothing filtered out came before.
    REEF_MUST(TryCreate(store, ConfigMap("a", "end", {{"app", "web"}})));  // 7
    size_t count = std::count(expected.begin(), expected.end(), '@') + 1;
    CHECK(Describe(recorder.WaitFor(count)) == expected + ", ADDED ConfigMap a/end @7");
  }

  SUBCASE("destroying the WatchHandle stops delivery") {
    Recorder stopped, barrier;
    auto watch = MustWatch(store, From(store.Revision()), stopped);
    auto other = MustWatch(store, From(store.Revision()), barrier);
    REEF_MUST(TryCreate(store, ConfigMap("default", "a")));
    CHECK(stopped.WaitFor(1).size() == 1);
    watch.reset();
    REEF_MUST(TryCreate(store, ConfigMap("default", "b")));
    CHECK(barrier.WaitFor(2).size() == 2);
    CHECK(Describe(stopped.events()) == "ADDED ConfigMap default/a @1");
  }
}

void Compaction(Store& store) {
  for (const char* name : {"a", "b", "c", "d"}) {
    REEF_MUST(TryCreate(store, ConfigMap("default", name)));
  }
  REQUIRE(store.Revision() == 4);

  SUBCASE("Watch from a compacted revision is OutOfRange; from CompactedRevision() it works") {
    REEF_REQUIRE_OK(store.Compact(2));
    CHECK(store.CompactedRevision() == 2);
    CHECK(store.Revision() == 4);
    Recorder unused;
    for (int64_t from : {0, 1}) {
      CAPTURE(from);
      absl::StatusOr<std::unique_ptr<WatchHandle>> w = store.Watch(From(from), unused.Sink());
      CHECK_MESSAGE(absl::IsOutOfRange(w.status()), w.status());
    }
    Recorder recorder;
    auto watch = MustWatch(store, From(store.CompactedRevision()), recorder);
    CHECK(Describe(recorder.WaitFor(2)) ==
          "ADDED ConfigMap default/c @3, ADDED ConfigMap default/d @4");
    // Compaction drops history, not objects.
    CHECK(Listed(store, Kind("ConfigMap")).items.size() == 4);
  }

  SUBCASE("Compact to the current revision empties the log; live changes still arrive") {
    REEF_REQUIRE_OK(store.Compact(4));
    Recorder recorder;
    auto watch = MustWatch(store, From(4), recorder);
    REEF_MUST(TryCreate(store, ConfigMap("default", "e")));
    CHECK(Describe(recorder.WaitFor(1)) == "ADDED ConfigMap default/e @5");
  }

  SUBCASE("Compact beyond the current revision is an error") {
    absl::Status s = store.Compact(5);
    CHECK_MESSAGE(!s.ok(), "Compact(5) at revision 4 succeeded");
    CHECK(store.CompactedRevision() == 0);
    Recorder recorder;
    auto watch = MustWatch(store, From(0), recorder);
    CHECK(recorder.WaitFor(4).size() == 4);
  }
}

void Concurrency(Store& store) {
  SUBCASE("concurrent read-modify-write loops lose no update") {
    constexpr int kThreads = 4, kIncrements = 20;
    Object counter = REEF_MUST(TryCreate(store, ConfigMap("default", "counter", {}, {{"n", "0"}})));
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int done = 0; done < kIncrements;) {
          absl::StatusOr<Object> current = store.Get(KeyOf(counter));
          if (!current.ok()) {
            errors[t] = current.status().ToString();
            return;
          }
          int n = std::stoi(current->config_map().data().at("n"));
          absl::StatusOr<Object> written =
              TryUpdate(store, WithData(*current, "n", std::to_string(n + 1)));
          if (written.ok()) {
            ++done;
          } else if (!absl::IsAborted(written.status())) {  // Aborted: lost a race, retry
            errors[t] = written.status().ToString();
            return;
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (const std::string& e : errors) CHECK_MESSAGE(e.empty(), e);
    Object final_state = Stored(store, KeyOf(counter));
    CHECK(final_state.config_map().data().at("n") == std::to_string(kThreads * kIncrements));
    CHECK(store.Revision() == 1 + kThreads * kIncrements);
  }
}

}  // namespace

void RunStoreConformance(const StoreFactory& factory) {
  FakeClock clock;  // declared first: outlives the store
  std::unique_ptr<Store> owned = factory(&clock);
  REQUIRE(owned != nullptr);
  Store& store = *owned;
  REQUIRE(store.Revision() == 0);
  REQUIRE(store.CompactedRevision() == 0);

  // Each function holds SUBCASEs only (or set-up for its own subcases), so a run
  // enters exactly one behaviour.
  SUBCASE("create and get") { CreateAndGet(store, clock); }
  SUBCASE("update") { Updates(store, clock); }
  SUBCASE("transactions") { Transactions(store); }
  SUBCASE("delete") { Deletes(store); }
  SUBCASE("list") { Lists(store); }
  SUBCASE("watch") { Watches(store); }
  SUBCASE("compaction") { Compaction(store); }
  SUBCASE("concurrency") { Concurrency(store); }
}

}  // namespace reef::store::testing
