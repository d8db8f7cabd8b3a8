#include "controller/store/sqlite_store.h"

#include <list>

#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "common/uuid.h"

namespace reef::store {
namespace {

using manifest::Meta;
using manifest::MutableMeta;

// Schema migrations, applied in order; PRAGMA user_version counts those applied.
// Append new steps, never edit old ones.
constexpr const char* kMigrations[] = {
    R"sql(
      CREATE TABLE objects (
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        revision INTEGER NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (kind, namespace, name)) WITHOUT ROWID;
      CREATE TABLE changes (
        revision INTEGER NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL,
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (revision, seq)) WITHOUT ROWID;
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO counters VALUES ('revision', 0), ('compacted', 0);
    )sql",
};

absl::StatusOr<Object> Decode(const std::string& bytes, const Key& key) {
  Object o;
  if (!o.ParseFromString(bytes)) {
    return absl::DataLossError(reef::StrCat("store: cannot decode ", ToString(key)));
  }
  return o;
}

bool Matches(const Object& o, const std::string& kind, const std::string& ns,
             const manifest::Selector& selector) {
  Key k = KeyOf(o);
  return (kind.empty() || k.kind == kind) && (ns.empty() || k.ns == ns) &&
         selector.Matches(Meta(o).labels());
}

class SqliteStore;

struct Watcher {
  WatchOptions options;
  std::function<void(const Event&)> sink;
};

class SqliteWatchHandle : public WatchHandle {
 public:
  SqliteWatchHandle(SqliteStore* store, std::list<Watcher>::iterator it) : store_(store), it_(it) {}
  ~SqliteWatchHandle() override;

 private:
  SqliteStore* store_;
  std::list<Watcher>::iterator it_;
};

class SqliteStore : public Store {
 public:
  SqliteStore(std::unique_ptr<sqlite::Database> db, const SqliteStoreOptions& options)
      : db_(std::move(db)), options_(options) {}

  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(db_->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
    RETURN_IF_ERROR(Migrate());
    ASSIGN_OR_RETURN(revision_, ReadCounter("revision"));
    ASSIGN_OR_RETURN(compacted_, ReadCounter("compacted"));
    return absl::OkStatus();
  }

  absl::StatusOr<Object> Get(const Key& key) override {
    absl::MutexLock lock(&mu_);
    return GetLocked(key);
  }

  absl::StatusOr<ListResult> List(const ListOptions& options) override {
    absl::MutexLock lock(&mu_);
    ListResult result;
    ASSIGN_OR_RETURN(result.items, ListLocked(options));
    result.revision = revision_;
    return result;
  }

  absl::StatusOr<int64_t> Update(const std::function<absl::Status(Txn&)>& fn) override;

  absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(
      const WatchOptions& options, std::function<void(const Event&)> sink) override {
    absl::MutexLock lock(&mu_);
    if (options.from_revision < compacted_) {
      return absl::OutOfRangeError(reef::StrCat("revision ", options.from_revision,
                                                " has been compacted (oldest kept: ",
                                                compacted_ + 1, ")"));
    }
    // Replay and registration happen under one lock, so no change falls between.
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "SELECT revision, type, kind, namespace, name, data FROM changes "
        "WHERE revision > ? ORDER BY revision, seq"));
    stmt.Bind(1, options.from_revision);
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      Key key{stmt.ColumnText(2), stmt.ColumnText(3), stmt.ColumnText(4)};
      ASSIGN_OR_RETURN(Object o, Decode(stmt.ColumnBlob(5), key));
      if (!Matches(o, options.kind, options.ns, options.selector)) continue;
      sink(Event{static_cast<EventType>(stmt.ColumnInt(1)), std::move(o), stmt.ColumnInt(0)});
    }
    watchers_.push_back(Watcher{options, std::move(sink)});
    return std::unique_ptr<WatchHandle>(new SqliteWatchHandle(this, std::prev(watchers_.end())));
  }

  int64_t Revision() override {
    absl::MutexLock lock(&mu_);
    return revision_;
  }

  int64_t CompactedRevision() override {
    absl::MutexLock lock(&mu_);
    return compacted_;
  }

  absl::Status Compact(int64_t revision) override {
    absl::MutexLock lock(&mu_);
    return CompactLocked(revision);
  }

  void RemoveWatcher(std::list<Watcher>::iterator it) {
    absl::MutexLock lock(&mu_);
    watchers_.erase(it);
  }

  // ---- used by SqliteTxn, with mu_ held ----

  absl::StatusOr<Object> GetLocked(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "SELECT data FROM objects WHERE kind = ? AND namespace = ? AND name = ?"));
    stmt.Bind(1, key.kind).Bind(2, key.ns).Bind(3, key.name);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError(key);
    return Decode(stmt.ColumnBlob(0), key);
  }

  absl::StatusOr<std::vector<Object>> ListLocked(const ListOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        options.ns.empty()
            ? "SELECT namespace, name, data FROM objects WHERE kind = ?1 ORDER BY namespace, name"
            : "SELECT namespace, name, data FROM objects WHERE kind = ?1 AND namespace = ?2 "
              "ORDER BY name"));
    stmt.Bind(1, options.kind);
    if (!options.ns.empty()) stmt.Bind(2, options.ns);
    std::vector<Object> items;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(Object o, Decode(stmt.ColumnBlob(2),
                                        Key{options.kind, stmt.ColumnText(0), stmt.ColumnText(1)}));
      if (options.selector.Matches(Meta(o).labels())) items.push_back(std::move(o));
    }
    return items;
  }

  absl::Status PutLocked(const Object& o, int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Key key = KeyOf(o);
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "INSERT OR REPLACE INTO objects (kind, namespace, name, revision, data) "
        "VALUES (?, ?, ?, ?, ?)"));
    stmt.Bind(1, key.kind).Bind(2, key.ns).Bind(3, key.name).Bind(4, revision);
    stmt.BindBlob(5, o.SerializeAsString());
    return stmt.Run();
  }

  absl::Status EraseLocked(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?"));
    stmt.Bind(1, key.kind).Bind(2, key.ns).Bind(3, key.name);
    return stmt.Run();
  }

  absl::Status LogLocked(const Event& e, int seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Key key = KeyOf(e.object);
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "INSERT INTO changes (revision, seq, type, kind, namespace, name, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"));
    stmt.Bind(1, e.revision).Bind(2, seq).Bind(3, static_cast<int64_t>(e.type));
    stmt.Bind(4, key.kind).Bind(5, key.ns).Bind(6, key.name);
    stmt.BindBlob(7, e.object.SerializeAsString());
    return stmt.Run();
  }

  int64_t revision() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return revision_; }
  const Clock& clock() const { return *options_.clock; }

 private:
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    int64_t version = row ? stmt.ColumnInt(0) : 0;
    constexpr int64_t kLatest = std::size(kMigrations);
    if (version > kLatest) {
      return absl::FailedPreconditionError(reef::StrCat(
          "store schema version ", version, " is newer than this controller knows (", kLatest,
          "): run a newer reef-controller"));
    }
    for (int64_t v = version; v < kLatest; ++v) {
      ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(*db_));
      RETURN_IF_ERROR(db_->Exec(kMigrations[v]));
      RETURN_IF_ERROR(db_->Exec(reef::StrCat("PRAGMA user_version = ", v + 1)));
      RETURN_IF_ERROR(txn.Commit());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> ReadCounter(const char* name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT value FROM counters WHERE name = ?"));
    stmt.Bind(1, std::string_view(name));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::DataLossError(reef::StrCat("store: counter ", name, " missing"));
    return stmt.ColumnInt(0);
  }

  absl::Status CompactLocked(int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (revision <= compacted_) return absl::OkStatus();
    if (revision > revision_) {
      return absl::InvalidArgumentError(reef::StrCat("cannot compact to ", revision,
                                                     ": the store is at ", revision_));
    }
    ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(*db_));
    ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM changes WHERE revision <= ?"));
    RETURN_IF_ERROR(del.Bind(1, revision).Run());
    ASSIGN_OR_RETURN(auto set, db_->Prepare("UPDATE counters SET value = ? WHERE name = 'compacted'"));
    RETURN_IF_ERROR(set.Bind(1, revision).Run());
    RETURN_IF_ERROR(txn.Commit());
    compacted_ = revision;
    return absl::OkStatus();
  }

  friend class SqliteTxn;
  absl::Mutex mu_;
  std::unique_ptr<sqlite::Database> db_ ABSL_GUARDED_BY(mu_);
  SqliteStoreOptions options_;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t compacted_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<Watcher> watchers_ ABSL_GUARDED_BY(mu_);
};

SqliteWatchHandle::~SqliteWatchHandle() { store_->RemoveWatcher(it_); }

// Runs inside SqliteStore::Update with the store's mutex held and a SQLite
// transaction open; collects the events to publish after the commit.
class SqliteTxn : public Txn {
 public:
  explicit SqliteTxn(SqliteStore* store) : store_(store) {}

  absl::StatusOr<Object> Get(const Key& key) override {
    store_->mu_.AssertHeld();
    return store_->GetLocked(key);
  }

  absl::StatusOr<std::vector<Object>> List(const ListOptions& options) override {
    store_->mu_.AssertHeld();
    return store_->ListLocked(options);
  }

  absl::StatusOr<Object> Create(Object object) override {
    store_->mu_.AssertHeld();
    Key key = KeyOf(object);
    if (store_->GetLocked(key).ok()) {
      return absl::AlreadyExistsError(reef::StrCat(ToString(key), " already exists"));
    }
    manifest::ObjectMeta* meta = MutableMeta(&object);
    meta->set_uid(NewUuid());
    meta->set_creation_timestamp(FormatTimestamp(store_->clock().Now()));
    meta->set_generation(1);
    return Write(std::move(object), EventType::kAdded);
  }

  absl::StatusOr<Object> Update(Object object) override {
    store_->mu_.AssertHeld();
    Key key = KeyOf(object);
    ASSIGN_OR_RETURN(Object current, store_->GetLocked(key));
    const manifest::ObjectMeta& cur = Meta(current);
    manifest::ObjectMeta* meta = MutableMeta(&object);
    if (!meta->resource_version().empty() && meta->resource_version() != cur.resource_version()) {
      return ConflictError(object);
    }
    meta->set_uid(cur.uid());
    meta->set_creation_timestamp(cur.creation_timestamp());
    meta->set_generation(manifest::SameSpec(object, current) ? cur.generation() : cur.generation() + 1);
    meta->set_resource_version(cur.resource_version());
    if (manifest::Equal(object, current)) return current;
    return Write(std::move(object), EventType::kModified);
  }

  absl::StatusOr<Object> Delete(const Key& key, const std::string& resource_version) override {
    store_->mu_.AssertHeld();
    ASSIGN_OR_RETURN(Object current, store_->GetLocked(key));
    if (!resource_version.empty() && resource_version != Meta(current).resource_version()) {
      Object stale = current;
      MutableMeta(&stale)->set_resource_version(resource_version);
      return ConflictError(stale);
    }
    RETURN_IF_ERROR(store_->EraseLocked(key));
    MutableMeta(&current)->set_resource_version(std::to_string(NextRevision()));
    events_.push_back(Event{EventType::kDeleted, current, NextRevision()});
    RETURN_IF_ERROR(store_->LogLocked(events_.back(), events_.size()));
    return current;
  }

  bool wrote() const { return !events_.empty(); }
  int64_t NextRevision() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return store_->revision_ + 1; }
  std::vector<Event>& events() { return events_; }

 private:
  absl::StatusOr<Object> Write(Object object, EventType type) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    int64_t rev = NextRevision();
    MutableMeta(&object)->set_resource_version(std::to_string(rev));
    RETURN_IF_ERROR(store_->PutLocked(object, rev));
    events_.push_back(Event{type, object, rev});
    RETURN_IF_ERROR(store_->LogLocked(events_.back(), events_.size()));
    return object;
  }

  SqliteStore* store_;
  std::vector<Event> events_;
};

absl::StatusOr<int64_t> SqliteStore::Update(const std::function<absl::Status(Txn&)>& fn) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto sql_txn, sqlite::Transaction::Begin(*db_));
  SqliteTxn txn(this);
  RETURN_IF_ERROR(fn(txn));
  if (!txn.wrote()) return revision_;  // nothing changed: nothing written, no revision
  int64_t rev = revision_ + 1;
  ASSIGN_OR_RETURN(auto set, db_->Prepare("UPDATE counters SET value = ? WHERE name = 'revision'"));
  RETURN_IF_ERROR(set.Bind(1, rev).Run());
  RETURN_IF_ERROR(sql_txn.Commit());
  revision_ = rev;
  for (const Event& e : txn.events()) {
    for (const Watcher& w : watchers_) {
      if (e.revision > w.options.from_revision &&
          Matches(e.object, w.options.kind, w.options.ns, w.options.selector)) {
        w.sink(e);
      }
    }
  }
  // Keep the change log bounded; compacting in batches keeps it off the write path
  // most of the time.
  if (revision_ - compacted_ > options_.history_revisions + options_.history_revisions / 10 + 1) {
    CompactLocked(revision_ - options_.history_revisions).IgnoreError();
  }
  return revision_;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path));
  auto store = std::make_unique<SqliteStore>(std::move(db), options);
  RETURN_IF_ERROR(Annotate(store->Init(), reef::StrCat("open store ", path)));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace reef::store
