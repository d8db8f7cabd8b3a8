#pragma once
// Where the agent looks up the ConfigMaps and Secrets that pods refer to: its own copy
// of what the controller sent (or, for static pods, none at all). Lookups are local and
// cheap; the volume and env code calls them on every sync pass.

#include <optional>
#include <string>

#include "reef/v1/core.pb.h"

namespace reef::agent::volumes {

class ConfigSource {
 public:
  ConfigSource() = default;
  ConfigSource(const ConfigSource&) = delete;
  ConfigSource& operator=(const ConfigSource&) = delete;
  virtual ~ConfigSource() = default;

  // nullopt when the namespace has no object of that name.
  virtual std::optional<reef::v1::ConfigMap> ConfigMap(const std::string& ns,
                                                       const std::string& name) const = 0;
  virtual std::optional<reef::v1::Secret> Secret(const std::string& ns,
                                                 const std::string& name) const = 0;
};

}  // namespace reef::agent::volumes
