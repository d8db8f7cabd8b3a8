#pragma once
// Manifests tests apply, built from the parts a test varies.

#include <string>

namespace reef::testing {

// A Deployment `name` of `replicas` pods labelled app=`name`, whose pod template's
// spec is `pod_spec` (YAML written from column 0); `spec_extra` (lines indented by
// two spaces) goes in the Deployment's own spec, a strategy say.
std::string DeploymentManifest(const std::string& name, int replicas, const std::string& pod_spec,
                               const std::string& spec_extra = "");

}  // namespace reef::testing
