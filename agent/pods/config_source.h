#pragma once
// The ConfigMaps and Secrets a pod's env and volumes read, from what the controller
// last sent this node (ControllerLink::ConfigObjects), keyed "Kind namespace/name".
// Static pods see none: a standalone box has no ConfigMaps.

#include <map>
#include <memory>
#include <string>

#include "agent/volumes/config_source.h"
#include "reef/v1/api.pb.h"

namespace reef::agent {

using ObjectMap = std::map<std::string, reef::v1::Object>;

class ObjectMapConfigSource : public volumes::ConfigSource {
 public:
  explicit ObjectMapConfigSource(std::shared_ptr<const ObjectMap> objects)
      : objects_(objects ? std::move(objects) : std::make_shared<const ObjectMap>()) {}

  std::optional<reef::v1::ConfigMap> ConfigMap(const std::string& ns, const std::string& name) const override;
  std::optional<reef::v1::Secret> Secret(const std::string& ns, const std::string& name) const override;

 private:
  const reef::v1::Object* Find(const char* kind, const std::string& ns, const std::string& name) const;
  std::shared_ptr<const ObjectMap> objects_;
};

}  // namespace reef::agent
