#pragma once
// ownerReferences, as the control loops use them: who controls an object, and the
// reference a controller puts on what it creates.

#include <string_view>

#include "api/manifest/object.h"

namespace reef::reconcile {

// The ownerReference with controller: true, or nullptr.
const v1::OwnerReference* ControllerRef(const v1::ObjectMeta& meta);

// Whether `meta`'s controller is the object with this uid (and, if given, this kind).
bool IsControlledBy(const v1::ObjectMeta& meta, std::string_view uid, std::string_view kind = "");

// The reference a controller sets on what it creates: controller and
// blockOwnerDeletion true, as Kubernetes' controllers do.
v1::OwnerReference NewControllerRef(const v1::Object& owner);

}  // namespace reef::reconcile
