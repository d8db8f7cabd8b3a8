#include "agent/state/agent_state.h"

namespace reef::agent {
namespace {

// Schema migrations in order; PRAGMA user_version counts the applied ones.
constexpr const char* kMigrations[] = {
    R"sql(
      CREATE TABLE pods (
        key TEXT PRIMARY KEY, source TEXT NOT NULL, spec_hash TEXT NOT NULL,
        pod BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE containers (
        id TEXT PRIMARY KEY, pod_key TEXT NOT NULL, name TEXT NOT NULL,
        spec_hash TEXT NOT NULL, attempt INTEGER NOT NULL, restart_count INTEGER NOT NULL,
        crashes INTEGER NOT NULL, not_before_ms INTEGER NOT NULL,
        last_exit TEXT NOT NULL, finished INTEGER NOT NULL, exit TEXT NOT NULL) WITHOUT ROWID;
    )sql",
    R"sql(
      CREATE TABLE controller_objects (key TEXT PRIMARY KEY, object BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE controller_sync (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
      INSERT INTO controller_sync (id, revision) VALUES (1, 0);
    )sql",
    R"sql(
      ALTER TABLE containers ADD COLUMN stopped_by_probe INTEGER NOT NULL DEFAULT 0;
    )sql",
};

int64_t ToMillis(absl::Time t) {
  return t == absl::InfinitePast() ? INT64_MIN : absl::ToUnixMillis(t);
}

absl::Time FromMillis(int64_t ms) {
  return ms == INT64_MIN ? absl::InfinitePast() : absl::FromUnixMillis(ms);
}

absl::Status Migrate(sqlite::Database& db) {
  ASSIGN_OR_RETURN(auto stmt, db.Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  int64_t version = row ? stmt.ColumnInt(0) : 0;
  constexpr int64_t kLatest = std::size(kMigrations);
  if (version > kLatest) {
    return absl::FailedPreconditionError(reef::StrCat(
        "agent state schema version ", version, " is newer than this agent knows (", kLatest, ")"));
  }
  for (int64_t v = version; v < kLatest; ++v) {
    ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(db));
    RETURN_IF_ERROR(db.Exec(kMigrations[v]));
    RETURN_IF_ERROR(db.Exec(reef::StrCat("PRAGMA user_version = ", v + 1)));
    RETURN_IF_ERROR(txn.Commit());
  }
  return absl::OkStatus();
}

bool IsSecretKey(const std::string& key) { return key.rfind("Secret ", 0) == 0; }

absl::StatusOr<int64_t> ReadRevision(sqlite::Database& db, const std::string& table) {
  ASSIGN_OR_RETURN(auto stmt, db.Prepare(reef::StrCat("SELECT revision FROM ", table, " WHERE id = 1")));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}

absl::Status WriteRevision(sqlite::Database& db, const std::string& table, int64_t revision) {
  ASSIGN_OR_RETURN(auto stmt, db.Prepare(reef::StrCat("UPDATE ", table, " SET revision = ? WHERE id = 1")));
  return stmt.Bind(1, revision).Run();
}

// Attaches the Secrets database. When it does not hold what the main one was synced
// to (a reboot emptied the tmpfs, or Secrets were kept on disk by an older agent), the
// main revision goes back to 0: the controller then sends everything again.
absl::Status AttachSecrets(sqlite::Database& db, const std::string& secrets_path) {
  ASSIGN_OR_RETURN(auto attach, db.Prepare("ATTACH DATABASE ? AS secrets"));
  RETURN_IF_ERROR(attach.Bind(1, secrets_path).Run());
  RETURN_IF_ERROR(db.Exec(R"sql(
      CREATE TABLE IF NOT EXISTS secrets.objects (key TEXT PRIMARY KEY, object BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS secrets.sync (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
      INSERT OR IGNORE INTO secrets.sync (id, revision) VALUES (1, 0);
  )sql"));
  ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(db));
  ASSIGN_OR_RETURN(int64_t main_revision, ReadRevision(db, "controller_sync"));
  ASSIGN_OR_RETURN(int64_t secrets_revision, ReadRevision(db, "secrets.sync"));
  ASSIGN_OR_RETURN(auto on_disk, db.Prepare("SELECT count(*) FROM controller_objects WHERE key LIKE 'Secret %'"));
  ASSIGN_OR_RETURN(bool row, on_disk.Step());
  if (main_revision != secrets_revision || (row && on_disk.ColumnInt(0) > 0)) {
    RETURN_IF_ERROR(db.Exec("DELETE FROM controller_objects WHERE key LIKE 'Secret %'; DELETE FROM secrets.objects;"));
    RETURN_IF_ERROR(WriteRevision(db, "controller_sync", 0));
    RETURN_IF_ERROR(WriteRevision(db, "secrets.sync", 0));
  }
  return txn.Commit();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentState>> AgentState::Open(const std::string& path,
                                                             const std::string& secrets_path) {
  ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path));
  // NORMAL in WAL mode: a power cut may lose the last transaction but never corrupts;
  // the agent re-learns its containers from the runtime. Fewer fsyncs, less flash wear.
  // secure_delete: deleted rows are zeroed, not left readable in free pages.
  RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"));
  RETURN_IF_ERROR(Annotate(Migrate(*db), reef::StrCat("open agent state ", path)));
  if (!secrets_path.empty()) {
    RETURN_IF_ERROR(Annotate(AttachSecrets(*db, secrets_path), reef::StrCat("open the Secrets store ", secrets_path)));
  }
  return std::unique_ptr<AgentState>(new AgentState(std::move(db), !secrets_path.empty()));
}

absl::StatusOr<std::vector<PodRecord>> AgentState::Pods() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT key, source, spec_hash, pod FROM pods ORDER BY key"));
  std::vector<PodRecord> pods;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    PodRecord p{stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2), {}};
    if (!p.pod.ParseFromString(stmt.ColumnBlob(3))) {
      return absl::DataLossError(reef::StrCat("agent state: cannot decode pod ", p.key));
    }
    pods.push_back(std::move(p));
  }
  return pods;
}

absl::Status AgentState::PutPod(const PodRecord& pod) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT OR REPLACE INTO pods (key, source, spec_hash, pod) VALUES (?, ?, ?, ?)"));
  stmt.Bind(1, pod.key).Bind(2, pod.source).Bind(3, pod.spec_hash);
  stmt.BindBlob(4, pod.pod.SerializeAsString());
  return stmt.Run();
}

absl::Status AgentState::DeletePod(const std::string& key) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto pods, db_->Prepare("DELETE FROM pods WHERE key = ?"));
  RETURN_IF_ERROR(pods.Bind(1, key).Run());
  ASSIGN_OR_RETURN(auto containers, db_->Prepare("DELETE FROM containers WHERE pod_key = ?"));
  RETURN_IF_ERROR(containers.Bind(1, key).Run());
  return txn.Commit();
}

absl::StatusOr<std::vector<ContainerRecord>> AgentState::Containers() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT id, pod_key, name, spec_hash, attempt, restart_count, crashes, not_before_ms, "
      "last_exit, finished, exit, stopped_by_probe FROM containers ORDER BY pod_key, name, attempt"));
  std::vector<ContainerRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ContainerRecord c;
    c.id = stmt.ColumnText(0);
    c.pod_key = stmt.ColumnText(1);
    c.name = stmt.ColumnText(2);
    c.spec_hash = stmt.ColumnText(3);
    c.attempt = static_cast<int>(stmt.ColumnInt(4));
    c.restart_count = static_cast<int>(stmt.ColumnInt(5));
    c.crashes = static_cast<int>(stmt.ColumnInt(6));
    c.not_before = FromMillis(stmt.ColumnInt(7));
    c.last_exit_json = stmt.ColumnText(8);
    c.finished = stmt.ColumnInt(9) != 0;
    c.exit_json = stmt.ColumnText(10);
    c.stopped_by_probe = stmt.ColumnInt(11) != 0;
    out.push_back(std::move(c));
  }
  return out;
}

absl::Status AgentState::PutContainer(const ContainerRecord& c) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT OR REPLACE INTO containers (id, pod_key, name, spec_hash, attempt, restart_count, "
      "crashes, not_before_ms, last_exit, finished, exit, stopped_by_probe) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.Bind(1, c.id).Bind(2, c.pod_key).Bind(3, c.name).Bind(4, c.spec_hash);
  stmt.Bind(5, int64_t{c.attempt}).Bind(6, int64_t{c.restart_count}).Bind(7, int64_t{c.crashes});
  stmt.Bind(8, ToMillis(c.not_before)).Bind(9, c.last_exit_json);
  stmt.Bind(10, int64_t{c.finished ? 1 : 0}).Bind(11, c.exit_json).Bind(12, int64_t{c.stopped_by_probe ? 1 : 0});
  return stmt.Run();
}

absl::Status AgentState::DeleteContainer(const std::string& id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("DELETE FROM containers WHERE id = ?"));
  return stmt.Bind(1, id).Run();
}

}  // namespace reef::agent

namespace reef::agent {

absl::StatusOr<ControllerState> AgentState::Controller() {
  absl::MutexLock lock(&mu_);
  ControllerState state;
  ASSIGN_OR_RETURN(state.revision, ReadRevision(*db_, "controller_sync"));
  std::string select = "SELECT key, object FROM controller_objects";
  if (objects_table_for_secrets_ != "controller_objects") {
    select += reef::StrCat(" UNION ALL SELECT key, object FROM ", objects_table_for_secrets_);
  }
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(select));
  while (true) {
    ASSIGN_OR_RETURN(bool more, stmt.Step());
    if (!more) break;
    reef::v1::Object object;
    if (!object.ParseFromString(stmt.ColumnBlob(1))) {
      return absl::DataLossError(reef::StrCat("agent state: cannot decode controller object ", stmt.ColumnText(0)));
    }
    state.objects[stmt.ColumnText(0)] = std::move(object);
  }
  return state;
}

absl::Status AgentState::ApplyController(const ControllerUpdate& update) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(*db_));
  const bool separate = objects_table_for_secrets_ != "controller_objects";
  auto table_of = [&](const std::string& key) {
    return IsSecretKey(key) ? objects_table_for_secrets_ : std::string("controller_objects");
  };
  if (update.replace_all) {
    RETURN_IF_ERROR(db_->Exec("DELETE FROM controller_objects"));
    if (separate) RETURN_IF_ERROR(db_->Exec(reef::StrCat("DELETE FROM ", objects_table_for_secrets_)));
  }
  for (const std::string& key : update.deletes) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(reef::StrCat("DELETE FROM ", table_of(key), " WHERE key = ?")));
    stmt.Bind(1, key);
    RETURN_IF_ERROR(stmt.Run());
  }
  for (const auto& [key, object] : update.upserts) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(reef::StrCat("INSERT OR REPLACE INTO ", table_of(key), " (key, object) VALUES (?, ?)")));
    stmt.Bind(1, key);
    stmt.BindBlob(2, object.SerializeAsString());
    RETURN_IF_ERROR(stmt.Run());
  }
  RETURN_IF_ERROR(WriteRevision(*db_, "controller_sync", update.revision));
  if (separate) RETURN_IF_ERROR(WriteRevision(*db_, "secrets.sync", update.revision));
  return txn.Commit();
}

}  // namespace reef::agent
