#include "api/manifest/kinds.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/strings.h"
#include "reef/v1/api.pb.h"

namespace reef::manifest {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const std::vector<KindInfo>& AllKinds() {
  using O = reef::v1::Object;
  static const auto* kinds = new std::vector<KindInfo>{
      {"Namespace", "v1", "namespaces", "ns", "namespace", false, O::kNamespaceFieldNumber},
      {"Node", "v1", "nodes", "no", "node", false, O::kNodeFieldNumber},
      {"Pod", "v1", "pods", "po", "pod", true, O::kPodFieldNumber},
      {"ConfigMap", "v1", "configmaps", "cm", "configmap", true, O::kConfigMapFieldNumber},
      {"Secret", "v1", "secrets", "", "secret", true, O::kSecretFieldNumber},
      {"Event", "v1", "events", "ev", "event", true, O::kEventFieldNumber},
      {"Deployment", "apps/v1", "deployments", "deploy", "deployment.apps", true,
       O::kDeploymentFieldNumber},
      {"DaemonSet", "apps/v1", "daemonsets", "ds", "daemonset.apps", true,
       O::kDaemonSetFieldNumber},
      {"ReplicaSet", "apps/v1", "replicasets", "rs", "replicaset.apps", true,
       O::kReplicaSetFieldNumber},
  };
  return *kinds;
}

const KindInfo* FindKind(std::string_view kind) {
  for (const KindInfo& k : AllKinds()) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

const KindInfo* ResolveResourceName(std::string_view text) {
  for (const KindInfo& k : AllKinds()) {
    std::string_view group = k.group_resource;  // "deployment.apps" -> also "deployments.apps"
    std::string plural_group =
        reef::StrCat(k.plural, group.substr(std::min(group.find('.'), group.size())));
    if (EqualsIgnoreCase(text, k.kind) || EqualsIgnoreCase(text, k.plural) ||
        (!k.short_name.empty() && EqualsIgnoreCase(text, k.short_name)) ||
        EqualsIgnoreCase(text, group) || EqualsIgnoreCase(text, plural_group)) {
      return &k;
    }
  }
  return nullptr;
}

}  // namespace reef::manifest
