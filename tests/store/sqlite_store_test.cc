// The SQLite Store: the conformance suite, then what only a file-backed store does
// (reopening, automatic compaction, refusing a schema it does not know).

#include "controller/store/sqlite_store.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/store/store_conformance.h"
#include "tests/support/process.h"

namespace reef::store {
namespace {

using manifest::Equal;
using manifest::Meta;

#define REEF_MUST(expr)                                                \
  ([&]() {                                                             \
    auto reef_must_ = (expr);                                          \
    REQUIRE_MESSAGE(reef_must_.ok(), #expr ": ", reef_must_.status()); \
    return *std::move(reef_must_);                                     \
  }())

SqliteStoreOptions Options(const Clock* clock) {
  SqliteStoreOptions options;
  options.clock = clock;
  return options;
}

WatchOptions From(int64_t revision) {
  WatchOptions options;
  options.from_revision = revision;
  return options;
}

// A store in a fresh folder that is removed with it.
class TempSqliteStore : public Store {
 public:
  explicit TempSqliteStore(const Clock* clock)
      : store_(REEF_MUST(OpenSqliteStore(dir_.path() + "/reef.db", Options(clock)))) {}

  absl::StatusOr<Object> Get(const Key& key) override { return store_->Get(key); }
  absl::StatusOr<ListResult> List(const ListOptions& options) override {
    return store_->List(options);
  }
  absl::StatusOr<int64_t> Update(const std::function<absl::Status(Txn&)>& fn) override {
    return store_->Update(fn);
  }
  absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(
      const WatchOptions& options, std::function<void(const Event&)> sink) override {
    return store_->Watch(options, std::move(sink));
  }
  int64_t Revision() override { return store_->Revision(); }
  int64_t CompactedRevision() override { return store_->CompactedRevision(); }
  absl::Status Compact(int64_t revision) override { return store_->Compact(revision); }

 private:
  ::reef::testing::TempDir dir_;  // declared first: outlives the database in it
  std::unique_ptr<Store> store_;
};

TEST_CASE("Store conformance: SQLite file") {
  testing::RunStoreConformance([](const Clock* clock) -> std::unique_ptr<Store> {
    return std::make_unique<TempSqliteStore>(clock);
  });
}

TEST_CASE("Store conformance: SQLite :memory:") {
  testing::RunStoreConformance([](const Clock* clock) -> std::unique_ptr<Store> {
    return REEF_MUST(OpenSqliteStore(":memory:", Options(clock)));
  });
}

absl::StatusOr<Object> Create(Store& store, Object object) {
  Object created;
  absl::StatusOr<int64_t> revision = store.Update([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(created, txn.Create(object));
    return absl::OkStatus();
  });
  if (!revision.ok()) return revision.status();
  return created;
}

Object ConfigMap(const std::string& name, const std::string& value) {
  Object o;
  o.mutable_config_map()->mutable_metadata()->set_namespace_("default");
  o.mutable_config_map()->mutable_metadata()->set_name(name);
  (*o.mutable_config_map()->mutable_data())["k"] = value;
  return o;
}

// Runs `sql` on the file through a connection of its own.
void ExecOnFile(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, "open ", path, ": ", sqlite3_errstr(rc));
  char* error = nullptr;
  rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, sql, ": ", message);
}

int64_t UserVersion(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int64_t version = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    version = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

TEST_CASE("SqliteStore: objects, revision and compacted revision survive reopening") {
  ::reef::testing::TempDir dir;
  const std::string path = dir.path() + "/reef.db";
  FakeClock clock;
  Object a, b;
  int64_t revision = 0, compacted = 0;
  {
    std::unique_ptr<Store> store = REEF_MUST(OpenSqliteStore(path, Options(&clock)));
    REEF_MUST(Create(*store, ConfigMap("a", "1")));          // 1
    b = REEF_MUST(Create(*store, ConfigMap("b", "1")));      // 2
    REEF_MUST(Create(*store, ConfigMap("gone", "1")));       // 3
    REEF_MUST(store->Update([&](Txn& txn) -> absl::Status {  // 4
      ASSIGN_OR_RETURN(Object next, txn.Get(Key{"ConfigMap", "default", "a"}));
      (*next.mutable_config_map()->mutable_data())["k"] = std::string("2");
      ASSIGN_OR_RETURN(a, txn.Update(next));
      return txn.Delete(Key{"ConfigMap", "default", "gone"}, "").status();
    }));
    REQUIRE(store->Compact(2).ok());
    revision = store->Revision();
    compacted = store->CompactedRevision();
    REQUIRE(revision == 4);
    REQUIRE(compacted == 2);
  }

  std::unique_ptr<Store> store = REEF_MUST(OpenSqliteStore(path, Options(&clock)));
  CHECK(store->Revision() == revision);
  CHECK(store->CompactedRevision() == compacted);
  for (const Object& before : {a, b}) {
    absl::StatusOr<Object> after = store->Get(KeyOf(before));
    REQUIRE_MESSAGE(after.ok(), after.status());
    CHECK_MESSAGE(Equal(*after, before), after->ShortDebugString(), "\n",
                  before.ShortDebugString());
  }
  CHECK(absl::IsNotFound(store->Get(Key{"ConfigMap", "default", "gone"}).status()));

  // The change log survives too: a watcher resumes where it left off.
  std::vector<Event> events;
  auto sink = [&](const Event& e) { events.push_back(e); };
  CHECK(absl::IsOutOfRange(store->Watch(From(compacted - 1), sink).status()));
  {
    auto watch = REEF_MUST(store->Watch(From(compacted), sink));
    REQUIRE(events.size() == 3);
    CHECK(events[0].revision == 3);
    CHECK(events[1].type == EventType::kModified);
    CHECK(events[2].type == EventType::kDeleted);
    CHECK(events[2].revision == 4);
  }

  Object c = REEF_MUST(Create(*store, ConfigMap("c", "1")));
  CHECK(Meta(c).resource_version() == std::to_string(revision + 1));
}

TEST_CASE("SqliteStore: automatic compaction keeps the change log bounded") {
  constexpr int64_t kHistory = 5;
  FakeClock clock;
  SqliteStoreOptions options = Options(&clock);
  options.history_revisions = kHistory;
  std::unique_ptr<Store> store = REEF_MUST(OpenSqliteStore(":memory:", options));
  Object counter = REEF_MUST(Create(*store, ConfigMap("counter", "0")));
  for (int i = 1; i < 20; ++i) {
    REEF_MUST(store->Update([&](Txn& txn) -> absl::Status {
      (*counter.mutable_config_map()->mutable_data())["k"] = std::to_string(i);
      ASSIGN_OR_RETURN(counter, txn.Update(counter));
      return absl::OkStatus();
    }));
    // At least the configured history, and not much more (compaction runs in batches).
    int64_t kept = store->Revision() - store->CompactedRevision();
    CAPTURE(store->Revision());
    CHECK(kept >= std::min<int64_t>(kHistory, store->Revision()));
    CHECK(kept <= 2 * kHistory);
  }
  REQUIRE(store->Revision() == 20);

  auto ignore = [](const Event&) {};
  absl::StatusOr<std::unique_ptr<WatchHandle>> old = store->Watch(From(1), ignore);
  CHECK_MESSAGE(absl::IsOutOfRange(old.status()), old.status());

  int replayed = 0;
  auto recent = REEF_MUST(
      store->Watch(From(store->Revision() - kHistory), [&](const Event&) { ++replayed; }));
  CHECK(replayed == kHistory);
}

TEST_CASE("SqliteStore: a database with a newer schema is refused, untouched") {
  ::reef::testing::TempDir dir;
  const std::string path = dir.path() + "/reef.db";
  ExecOnFile(path, "PRAGMA user_version = 99");

  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  REQUIRE_FALSE(store.ok());
  CHECK_MESSAGE(absl::IsFailedPrecondition(store.status()), store.status());
  std::string message(store.status().message());
  CHECK_MESSAGE(message.find("99") != std::string::npos, message);
  CHECK_MESSAGE(message.find("newer") != std::string::npos, message);
  CHECK_MESSAGE(message.find(path) != std::string::npos, message);
  CHECK(UserVersion(path) == 99);
}

}  // namespace
}  // namespace reef::store
