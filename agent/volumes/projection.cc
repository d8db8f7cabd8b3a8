#include "agent/volumes/projection.h"

#include <map>

#include "agent/volumes/env_resolve.h"

namespace reef::agent::volumes {
namespace {

constexpr int kDefaultMode = 0644;

// What configMap and secret volume sources share.
template <typename Source>
absl::StatusOr<Payload> Project(const std::string& volume, std::string_view kind,
                                const std::string& name, const Source& source,
                                const std::optional<std::map<std::string, std::string>>& data) {
  auto context = [&](const absl::Status& s) {
    return reef::Annotate(s, reef::StrCat("volume \"", volume, "\""));
  };
  Payload payload;
  if (!data) {
    if (source.optional()) return payload;
    return context(absl::NotFoundError(reef::StrCat(kind, " \"", name, "\" not found")));
  }
  // Modes outside 0777 are refused by validation; masking keeps setuid bits out anyway.
  const int default_mode = (source.has_default_mode() ? source.default_mode() : kDefaultMode) & 0777;
  if (source.items_size() == 0) {
    for (const auto& [key, value] : *data) {
      RETURN_IF_ERROR(context(ValidatePayloadPath(key)));
      payload[key] = {value, default_mode};
    }
    return payload;
  }
  for (const reef::v1::KeyToPath& item : source.items()) {
    auto it = data->find(item.key());
    if (it == data->end()) {
      if (source.optional()) continue;
      std::string_view what = kind == "secret" ? "secret" : "config";
      return context(absl::NotFoundError(reef::StrCat(
          kind, " \"", name, "\" references non-existent ", what, " key: ", item.key())));
    }
    RETURN_IF_ERROR(context(ValidatePayloadPath(item.path())));
    payload[item.path()] = {it->second, item.has_mode() ? (item.mode() & 0777) : default_mode};
  }
  return payload;
}

}  // namespace

absl::StatusOr<Payload> ConfigMapPayload(const std::string& volume,
                                         const reef::v1::ConfigMapVolumeSource& source,
                                         const std::optional<reef::v1::ConfigMap>& object) {
  std::optional<std::map<std::string, std::string>> data;
  if (object) {
    data.emplace(object->data().begin(), object->data().end());
    for (const auto& [k, v] : object->binary_data()) (*data)[k] = v;
  }
  return Project(volume, "configmap", source.name(), source, data);
}

absl::StatusOr<Payload> SecretPayload(const std::string& volume,
                                      const reef::v1::SecretVolumeSource& source,
                                      const std::optional<reef::v1::Secret>& object) {
  std::optional<std::map<std::string, std::string>> data;
  if (object) data = SecretData(*object);
  return Project(volume, "secret", source.secret_name(), source, data);
}

}  // namespace reef::agent::volumes
