#pragma once
// What the control loops read: a read-only, in-memory view of the cluster (Nomad's
// scheduler sees the world through a State like this one). Objects are shared and
// immutable: copying an ObjectPtr costs a reference count, so a scheduling pass over
// thousands of pods allocates little. The one implementation is ObjectCache
// (object_cache.h), which is current with the store after every committed write.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controller/store/store.h"

namespace reef::reconcile {

using ObjectPtr = std::shared_ptr<const v1::Object>;

class State {
 public:
  virtual ~State() = default;

  // nullptr when there is no such object.
  virtual ObjectPtr Get(const store::Key& key) const = 0;
  // Every object of `kind` in `ns` ("" for every namespace), by namespace then name.
  virtual std::vector<ObjectPtr> List(std::string_view kind, std::string_view ns = "") const = 0;
  // The objects whose ownerReferences name `uid` with controller: true.
  virtual std::vector<ObjectPtr> ControlledBy(std::string_view uid) const = 0;
  // Whether this view holds `kind` at all: a reference to a kind it does not hold
  // cannot be judged (the garbage collector leaves such objects alone).
  virtual bool Holds(std::string_view kind) const = 0;
};

}  // namespace reef::reconcile
