#include "controller/agents/node_objects.h"

#include <google/protobuf/util/message_differencer.h>

#include <set>

namespace reef::controller {
namespace {

void AddRefs(const v1::Container& c, std::set<std::pair<std::string, std::string>>* refs) {
  for (const v1::EnvVar& env : c.env()) {
    if (!env.value_from().config_map_key_ref().name().empty()) {
      refs->insert({"ConfigMap", env.value_from().config_map_key_ref().name()});
    }
    if (!env.value_from().secret_key_ref().name().empty()) {
      refs->insert({"Secret", env.value_from().secret_key_ref().name()});
    }
  }
  for (const v1::EnvFromSource& from : c.env_from()) {
    if (!from.config_map_ref().name().empty()) refs->insert({"ConfigMap", from.config_map_ref().name()});
    if (!from.secret_ref().name().empty()) refs->insert({"Secret", from.secret_ref().name()});
  }
}

}  // namespace

std::vector<store::Key> ReferencedConfig(const v1::Pod& pod) {
  std::set<std::pair<std::string, std::string>> refs;  // (kind, name), sorted, once
  for (const v1::Volume& v : pod.spec().volumes()) {
    if (!v.config_map().name().empty()) refs.insert({"ConfigMap", v.config_map().name()});
    if (!v.secret().secret_name().empty()) refs.insert({"Secret", v.secret().secret_name()});
  }
  const std::string& ns = pod.metadata().namespace_();
  for (const v1::Container& c : pod.spec().init_containers()) AddRefs(c, &refs);
  for (const v1::Container& c : pod.spec().containers()) AddRefs(c, &refs);
  for (const auto& secret : pod.spec().image_pull_secrets()) {
    if (!secret.name().empty()) refs.insert({"Secret", secret.name()});
  }
  std::vector<store::Key> keys;
  keys.reserve(refs.size());
  for (const auto& [kind, name] : refs) keys.push_back(store::Key{kind, ns, name});
  return keys;
}

bool ChangedForAgent(const v1::Pod& before, const v1::Pod& after) {
  v1::Pod a = before, b = after;
  for (v1::Pod* p : {&a, &b}) {
    p->clear_status();
    p->mutable_metadata()->clear_resource_version();
  }
  // Not SerializeAsString(): map order on the wire is unspecified.
  return !google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace reef::controller
