#pragma once
// The embedded Store: one SQLite file in WAL mode. Objects are stored as serialized
// reef.v1.Object rows keyed by (kind, namespace, name); every write transaction also
// appends its changes to a change log that watchers replay from.
//
// Durability: synchronous=FULL, so a transaction that Update() acknowledged survives
// a crash of the process or of the box. Idle clusters write nothing.

#include <memory>
#include <string>

#include "controller/store/store.h"

namespace reef::store {

struct SqliteStoreOptions {
  const Clock* clock = &Clock::Real();
  // How many revisions of change log to keep for watchers; older ones are compacted
  // automatically (a watcher further behind re-lists).
  int64_t history_revisions = 10000;
};

// Opens or creates the database at `path` (":memory:" for a private one), migrating
// its schema to the current version.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                       const SqliteStoreOptions& options = {});

}  // namespace reef::store
