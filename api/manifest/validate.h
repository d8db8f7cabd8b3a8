#pragma once
// Semantic validation of a (defaulted) object, as the Kubernetes API server does it:
// names, required fields, enumerations, quantities, references between fields.
// Every error names the field path. The controller runs it on every write; reefctl
// runs it first to point errors at the file and line.

#include "api/manifest/field_error.h"
#include "api/manifest/object.h"

namespace reef::manifest {

// The largest object the store accepts, serialized (etcd's default limit).
inline constexpr size_t kMaxObjectBytes = 1536 * 1024;

FieldErrors Validate(const Object& object);

// For a write of the status alone (`apply --subresource=status`): the name and
// namespace that find the object, the quantities anywhere in it, the size. The spec
// is neither read nor written by such a write.
FieldErrors ValidateForStatus(const Object& object);

}  // namespace reef::manifest
