#pragma once
// The control loops' copy of the kinds they read, kept current by one Store watch
// (an informer, in Kubernetes' words).
//
// Read-your-writes: the store calls watch sinks synchronously after each commit,
// before Update() returns, so a loop that wrote through the store sees its write here
// at once. That is why no "expectations" bookkeeping is needed to avoid, say,
// creating the same pod twice.
//
// Thread safety: every method may be called from any thread. The sink runs under the
// store's lock and takes only this cache's mutex; nothing holding the cache's mutex
// calls the store, so the two locks are always taken in that order.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/reconcile/state.h"

namespace reef::reconcile {

class ObjectCache : public State {
 public:
  // Told about every change once the cache holds it. Runs under the store's lock:
  // quick, and no store calls.
  using Listener = std::function<void(const store::Event& event)>;

  // Lists `kinds` and follows their changes from then on.
  static absl::StatusOr<std::unique_ptr<ObjectCache>> Open(store::Store* store,
                                                           std::vector<std::string> kinds,
                                                           Listener listener);
  // Stops following the store (must happen before the store goes).
  ~ObjectCache() override;

  ObjectPtr Get(const store::Key& key) const override;
  std::vector<ObjectPtr> List(std::string_view kind, std::string_view ns = "") const override;
  std::vector<ObjectPtr> ControlledBy(std::string_view uid) const override;
  bool Holds(std::string_view kind) const override;

 private:
  using NsName = std::pair<std::string, std::string>;
  struct Table {
    std::map<NsName, ObjectPtr, std::less<>> objects;
    int64_t listed_at = 0;  // events at or below this revision are already in `objects`
  };
  using ObjectId = std::tuple<std::string, std::string, std::string>;  // kind, ns, name

  ObjectCache(std::vector<std::string> kinds, Listener listener)
      : kinds_(std::move(kinds)), listener_(std::move(listener)) {}
  absl::Status Load(store::Store* store);
  void Apply(const store::Event& event);
  void Index(const ObjectId& id, const v1::Object* before, const v1::Object* after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<std::string> kinds_;
  const Listener listener_;
  mutable absl::Mutex mu_;
  std::map<std::string, Table, std::less<>> tables_ ABSL_GUARDED_BY(mu_);
  // controller uid -> the objects it controls.
  std::map<std::string, std::set<ObjectId>, std::less<>> controlled_by_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<store::WatchHandle> watch_;
};

}  // namespace reef::reconcile
