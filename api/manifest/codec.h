#pragma once
// Objects back to the text people read and write: YAML and JSON with Kubernetes'
// field names, apiVersion and kind first, then the fields in schema order, map keys
// sorted. Unset fields are left out, so that YAML -> object -> YAML is stable.

#include <string>
#include <vector>

#include "api/manifest/object.h"

namespace reef::manifest {

std::string ToYaml(const Object& object);
std::string ToJson(const Object& object);

// A kubectl-style "kind: List" holding the items (apply -f accepts it back).
std::string ListToYaml(const std::vector<Object>& items);
std::string ListToJson(const std::vector<Object>& items);

}  // namespace reef::manifest
