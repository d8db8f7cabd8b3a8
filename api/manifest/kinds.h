#pragma once
// The table of kinds Reef serves: one row each, used by the codec (apiVersion + kind
// -> message), the store (namespaced or not) and reefctl (plural and short names).

#include <string_view>
#include <vector>

namespace reef::manifest {

struct KindInfo {
  std::string_view kind;         // "Deployment"
  std::string_view api_version;  // "apps/v1"
  std::string_view plural;       // "deployments"
  std::string_view short_name;   // "deploy" (kubectl's); may be empty
  // kubectl's "resource.group" spelling used in messages: "deployment.apps".
  std::string_view group_resource;
  bool namespaced;
  int object_field;  // field number of this kind in the reef.v1.Object oneof
};

const std::vector<KindInfo>& AllKinds();

// By the exact kind name ("Deployment"); nullptr when unknown.
const KindInfo* FindKind(std::string_view kind);

// What a person types after `reefctl get`: "po", "pod", "pods", "Pod",
// "deployment.apps", case-insensitive. nullptr when unknown.
const KindInfo* ResolveResourceName(std::string_view text);

}  // namespace reef::manifest
