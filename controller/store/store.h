#pragma once
// The controller's desired state: every object, a global revision, and a change log
// that watchers resume from. Store is the seam for a second backend (etcd); the
// conformance suite in tests/store runs against any implementation.
//
// Contract, as etcd's: every write transaction that changes something gets the next
// revision; each object it touched carries that revision as its resourceVersion. A
// write conditioned on a resourceVersion that is no longer current fails with
// Aborted (a conflict) and changes nothing. A transaction that returns OK from
// Update() is durable (it survives kill -9 and power loss).
//
// Thread safety: all methods may be called from any thread.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/manifest/object.h"
#include "api/manifest/selector.h"
#include "common/clock.h"
#include "common/status.h"

namespace reef::store {

using manifest::Object;

struct Key {
  std::string kind;  // "Pod"
  std::string ns;    // empty for cluster-scoped kinds
  std::string name;
};
Key KeyOf(const Object& object);
std::string ToString(const Key& key);

struct ListOptions {
  std::string kind;  // required
  std::string ns;    // empty: every namespace
  manifest::Selector selector;
};

struct ListResult {
  std::vector<Object> items;  // sorted by namespace, then name
  int64_t revision = 0;       // the store's revision when the list was read
};

enum class EventType { kAdded = 1, kModified = 2, kDeleted = 3 };

struct Event {
  EventType type;
  Object object;  // for kDeleted: the last state, with resourceVersion = the deletion
  int64_t revision = 0;
};

struct WatchOptions {
  std::string kind;  // empty: every kind
  std::string ns;    // empty: every namespace
  manifest::Selector selector;
  int64_t from_revision = 0;  // events with a revision above this one
};

// Cancels its watch when destroyed. Must not be destroyed from inside the sink, and
// must be destroyed before the Store that made it.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

// The operations of one write transaction. Objects read through it see its own writes.
class Txn {
 public:
  virtual ~Txn() = default;
  virtual absl::StatusOr<Object> Get(const Key& key) = 0;  // NotFound
  virtual absl::StatusOr<std::vector<Object>> List(const ListOptions& options) = 0;
  // Assigns uid, creationTimestamp, generation 1 and the resourceVersion.
  // AlreadyExists if the key is taken.
  virtual absl::StatusOr<Object> Create(Object object) = 0;
  // Replaces the stored object, keeping its uid and creationTimestamp. When the given
  // object carries a resourceVersion it must be the current one (else Aborted).
  // generation is bumped when anything but metadata and status changed. Writing an
  // object equal to the stored one is a no-op that keeps the old resourceVersion.
  virtual absl::StatusOr<Object> Update(Object object) = 0;
  // Returns the deleted object. A non-empty `resource_version` must be current.
  virtual absl::StatusOr<Object> Delete(const Key& key, const std::string& resource_version) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual absl::StatusOr<Object> Get(const Key& key) = 0;
  virtual absl::StatusOr<ListResult> List(const ListOptions& options) = 0;

  // Runs `fn` in one write transaction: all of its writes commit together when it
  // returns OK, none when it returns an error (which Update returns). Returns the
  // store's revision after the commit. `fn` runs with the store's lock held: it reads
  // and writes through the Txn only, never through the Store.
  virtual absl::StatusOr<int64_t> Update(const std::function<absl::Status(Txn&)>& fn) = 0;

  // Delivers every matching change after options.from_revision (from the change log),
  // then every new one, in revision order, to `sink`. The sink runs with the store's
  // lock held: it must be quick and must not call the store. OutOfRange when
  // from_revision is older than the compacted revision (re-list, then watch).
  virtual absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(
      const WatchOptions& options, std::function<void(const Event&)> sink) = 0;

  virtual int64_t Revision() = 0;
  // Changes at or below this revision are gone from the change log.
  virtual int64_t CompactedRevision() = 0;
  virtual absl::Status Compact(int64_t revision) = 0;
};

// "the object has been modified" conflict, phrased as Kubernetes does.
absl::Status ConflictError(const Object& object);
absl::Status NotFoundError(const Key& key);

}  // namespace reef::store
