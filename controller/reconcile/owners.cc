#include "controller/reconcile/owners.h"

namespace reef::reconcile {

const v1::OwnerReference* ControllerRef(const v1::ObjectMeta& meta) {
  for (const v1::OwnerReference& ref : meta.owner_references()) {
    if (ref.controller()) return &ref;
  }
  return nullptr;
}

bool IsControlledBy(const v1::ObjectMeta& meta, std::string_view uid, std::string_view kind) {
  const v1::OwnerReference* ref = ControllerRef(meta);
  return ref != nullptr && ref->uid() == uid && (kind.empty() || ref->kind() == kind);
}

v1::OwnerReference NewControllerRef(const v1::Object& owner) {
  const manifest::KindInfo* kind = manifest::KindOf(owner);
  const v1::ObjectMeta& meta = manifest::Meta(owner);
  v1::OwnerReference ref;
  ref.set_api_version(std::string(kind->api_version));
  ref.set_kind(std::string(kind->kind));
  ref.set_name(meta.name());
  ref.set_uid(meta.uid());
  ref.set_controller(true);
  ref.set_block_owner_deletion(true);
  return ref;
}

}  // namespace reef::reconcile
