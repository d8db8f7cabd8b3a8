#include "agent/pods/config_source.h"

#include "common/strings.h"

namespace reef::agent {

const reef::v1::Object* ObjectMapConfigSource::Find(const char* kind, const std::string& ns,
                                                    const std::string& name) const {
  auto it = objects_->find(reef::StrCat(kind, " ", ns, "/", name));
  return it == objects_->end() ? nullptr : &it->second;
}

std::optional<reef::v1::ConfigMap> ObjectMapConfigSource::ConfigMap(const std::string& ns,
                                                                    const std::string& name) const {
  const reef::v1::Object* o = Find("ConfigMap", ns, name);
  if (o == nullptr || !o->has_config_map()) return std::nullopt;
  return o->config_map();
}

std::optional<reef::v1::Secret> ObjectMapConfigSource::Secret(const std::string& ns, const std::string& name) const {
  const reef::v1::Object* o = Find("Secret", ns, name);
  if (o == nullptr || !o->has_secret()) return std::nullopt;
  return o->secret();
}

}  // namespace reef::agent
