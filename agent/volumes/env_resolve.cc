#include "agent/volumes/env_resolve.h"

#include <algorithm>
#include <optional>

#include "api/manifest/names.h"

namespace reef::agent::volumes {
namespace {

using reef::v1::Container;

absl::Status Missing(const Container& c, std::string_view what) {
  return absl::NotFoundError(reef::StrCat("container \"", c.name(), "\": ", what));
}

// Looks each object up once per call, as the kubelet caches them per container, so
// that one ConfigMap used by many env entries reads the same version for all of them.
class Lookups {
 public:
  Lookups(const ConfigSource& source, std::string ns) : source_(source), ns_(std::move(ns)) {}

  const std::optional<reef::v1::ConfigMap>& ConfigMap(const std::string& name) {
    auto it = config_maps_.find(name);
    if (it == config_maps_.end()) it = config_maps_.emplace(name, source_.ConfigMap(ns_, name)).first;
    return it->second;
  }
  const std::optional<std::map<std::string, std::string>>& Secret(const std::string& name) {
    auto it = secrets_.find(name);
    if (it == secrets_.end()) {
      std::optional<std::map<std::string, std::string>> data;
      if (auto s = source_.Secret(ns_, name)) data = SecretData(*s);
      it = secrets_.emplace(name, std::move(data)).first;
    }
    return it->second;
  }
  const std::string& ns() const { return ns_; }

 private:
  const ConfigSource& source_;
  std::string ns_;
  std::map<std::string, std::optional<reef::v1::ConfigMap>> config_maps_;
  std::map<std::string, std::optional<std::map<std::string, std::string>>> secrets_;
};

// Keeps each name at its first position with its last value.
void Set(ResolvedEnv& env, std::map<std::string, size_t>& index, const std::string& name,
         const std::string& value) {
  auto [it, inserted] = index.emplace(name, env.env_from.size());
  if (inserted) {
    env.env_from.emplace_back(name, value);
  } else {
    env.env_from[it->second].second = value;
  }
}

// Adds the variables of one envFrom source. Only ConfigMap `data` counts, not
// binaryData, as in Kubernetes.
template <typename Map>
void AddAll(ResolvedEnv& env, std::map<std::string, size_t>& index, const std::string& prefix,
            const Map& data) {
  std::map<std::string, std::string> sorted(data.begin(), data.end());  // proto maps are unordered
  for (const auto& [key, value] : sorted) {
    std::string name = prefix + key;
    if (!reef::manifest::ValidateEnvVarName(name).ok()) continue;
    Set(env, index, name, value);
  }
}

}  // namespace

std::map<std::string, std::string> SecretData(const reef::v1::Secret& secret) {
  std::map<std::string, std::string> data(secret.data().begin(), secret.data().end());
  for (const auto& [k, v] : secret.string_data()) data[k] = v;
  return data;
}

absl::StatusOr<ResolvedEnv> ResolveEnv(const reef::v1::Pod& pod, const Container& c,
                                       const ConfigSource& source) {
  std::string ns = pod.metadata().namespace_().empty() ? "default" : pod.metadata().namespace_();
  Lookups lookups(source, ns);
  ResolvedEnv env;
  std::map<std::string, size_t> index;

  for (const reef::v1::EnvFromSource& from : c.env_from()) {
    if (from.has_config_map_ref()) {
      const auto& ref = from.config_map_ref();
      const auto& cm = lookups.ConfigMap(ref.name());
      if (!cm) {
        if (ref.optional()) continue;
        return Missing(c, reef::StrCat("configmap \"", ref.name(), "\" not found"));
      }
      AddAll(env, index, from.prefix(), cm->data());
    } else if (from.has_secret_ref()) {
      const auto& ref = from.secret_ref();
      const auto& data = lookups.Secret(ref.name());
      if (!data) {
        if (ref.optional()) continue;
        return Missing(c, reef::StrCat("secret \"", ref.name(), "\" not found"));
      }
      AddAll(env, index, from.prefix(), *data);
    }
  }

  for (const reef::v1::EnvVar& var : c.env()) {
    if (!var.has_value_from()) continue;
    const reef::v1::EnvVarSource& from = var.value_from();
    if (from.has_config_map_key_ref()) {
      const auto& ref = from.config_map_key_ref();
      const auto& cm = lookups.ConfigMap(ref.name());
      if (!cm) {
        if (ref.optional()) continue;
        return Missing(c, reef::StrCat("configmap \"", ref.name(), "\" not found"));
      }
      auto it = cm->data().find(ref.key());
      if (it == cm->data().end()) {
        if (ref.optional()) continue;
        return Missing(c, reef::StrCat("couldn't find key ", ref.key(), " in ConfigMap ", ns, "/",
                                       ref.name()));
      }
      env.value_from[var.name()] = it->second;
    } else if (from.has_secret_key_ref()) {
      const auto& ref = from.secret_key_ref();
      const auto& data = lookups.Secret(ref.name());
      if (!data) {
        if (ref.optional()) continue;
        return Missing(c, reef::StrCat("secret \"", ref.name(), "\" not found"));
      }
      auto it = data->find(ref.key());
      if (it == data->end()) {
        if (ref.optional()) continue;
        return Missing(c, reef::StrCat("couldn't find key ", ref.key(), " in Secret ", ns, "/",
                                       ref.name()));
      }
      env.value_from[var.name()] = it->second;
    }
  }
  return env;
}

}  // namespace reef::agent::volumes
