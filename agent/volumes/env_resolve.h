#pragma once
// A container's environment values taken from ConfigMaps and Secrets, resolved the way
// the kubelet's makeEnvironmentVariables resolves them, in the shape
// runtime::SpecOptions takes (env_from, value_from).

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/volumes/config_source.h"
#include "common/status.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::volumes {

struct ResolvedEnv {
  // The variables of the container's envFrom sources: each name once, where it first
  // appeared, with the value of the last source that set it (later sources win, as in
  // Kubernetes). Within one source, keys in sorted order. The prefix is applied; keys
  // that do not make valid env names are skipped (the kubelet records an event).
  std::vector<std::pair<std::string, std::string>> env_from;
  // By env name, for each env entry with valueFrom whose value was found. An optional
  // reference to a missing object or key leaves its name out.
  std::map<std::string, std::string> value_from;
};

// NotFound, naming the container and what is missing, as the kubelet's
// CreateContainerConfigError messages do:
//   container "app": configmap "sensor-config" not found
//   container "app": couldn't find key mode in ConfigMap default/sensor-config
//   container "app": secret "db" not found
// Objects are looked up in the pod's namespace ("default" when it has none).
absl::StatusOr<ResolvedEnv> ResolveEnv(const reef::v1::Pod& pod, const reef::v1::Container& c,
                                       const ConfigSource& source);

// A Secret's data with stringData merged over it, as the API server merges them on
// write (an agent's copy normally has data only).
std::map<std::string, std::string> SecretData(const reef::v1::Secret& secret);

}  // namespace reef::agent::volumes
