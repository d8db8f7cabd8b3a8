#pragma once
// An in-memory ConfigSource for the volume tests.

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "agent/volumes/config_source.h"

namespace reef::agent::volumes::testing {

class FakeSource : public ConfigSource {
 public:
  void PutConfigMap(const std::string& ns, const std::string& name,
                    std::map<std::string, std::string> data,
                    std::map<std::string, std::string> binary = {}) {
    reef::v1::ConfigMap cm;
    cm.mutable_metadata()->set_namespace_(ns);
    cm.mutable_metadata()->set_name(name);
    for (auto& [k, v] : data) (*cm.mutable_data())[k] = v;
    for (auto& [k, v] : binary) (*cm.mutable_binary_data())[k] = v;
    config_maps_[{ns, name}] = cm;
  }
  void PutSecret(const std::string& ns, const std::string& name,
                 std::map<std::string, std::string> data) {
    reef::v1::Secret s;
    s.mutable_metadata()->set_namespace_(ns);
    s.mutable_metadata()->set_name(name);
    for (auto& [k, v] : data) (*s.mutable_data())[k] = v;
    secrets_[{ns, name}] = s;
  }
  void Clear() {
    config_maps_.clear();
    secrets_.clear();
  }

  std::optional<reef::v1::ConfigMap> ConfigMap(const std::string& ns,
                                               const std::string& name) const override {
    auto it = config_maps_.find({ns, name});
    if (it == config_maps_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<reef::v1::Secret> Secret(const std::string& ns,
                                         const std::string& name) const override {
    auto it = secrets_.find({ns, name});
    if (it == secrets_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::pair<std::string, std::string>, reef::v1::ConfigMap> config_maps_;
  std::map<std::pair<std::string, std::string>, reef::v1::Secret> secrets_;
};

}  // namespace reef::agent::volumes::testing
