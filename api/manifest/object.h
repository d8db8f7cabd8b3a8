#pragma once
// Generic access to any reef.v1.Object: its kind, its metadata, its spec and status,
// through protobuf reflection, so that the store, the API service and reefctl need no
// per-kind switch.

#include <string>

#include "api/manifest/kinds.h"
#include "common/status.h"
#include "reef/v1/api.pb.h"

namespace reef::manifest {

using reef::v1::Object;
using reef::v1::ObjectMeta;

// nullptr when no kind is set.
const KindInfo* KindOf(const Object& object);

// An Object of the given kind with an empty message set.
Object NewObject(const KindInfo& kind);

// The kind's message inside the Object (a Pod, a Deployment...). The Object must
// have a kind set.
const google::protobuf::Message& Inner(const Object& object);
google::protobuf::Message* MutableInner(Object* object);

const ObjectMeta& Meta(const Object& object);
ObjectMeta* MutableMeta(Object* object);

// "Deployment default/web", "Node pi-1": how messages name an object.
std::string DisplayName(const Object& object);
// kubectl's "deployment.apps/web".
std::string ResourceName(const Object& object);

// Whether two objects have the same desired state: everything but metadata and
// status. A difference bumps metadata.generation.
bool SameSpec(const Object& a, const Object& b);

// Copies `from`'s status (if its kind has one) over `to`'s.
void CopyStatus(const Object& from, Object* to);
void ClearStatus(Object* object);

// Whether the two objects are equal in every field.
bool Equal(const Object& a, const Object& b);

}  // namespace reef::manifest
