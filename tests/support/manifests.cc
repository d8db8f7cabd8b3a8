#include "tests/support/manifests.h"

#include <sstream>

namespace reef::testing {

std::string DeploymentManifest(const std::string& name, int replicas, const std::string& pod_spec,
                               const std::string& spec_extra) {
  std::string yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + "}\nspec:\n" +
                     "  replicas: " + std::to_string(replicas) + "\n" + spec_extra +
                     "  selector: {matchLabels: {app: " + name + "}}\n" +
                     "  template:\n" +
                     "    metadata: {labels: {app: " + name + "}}\n" +
                     "    spec:\n";
  std::istringstream lines(pod_spec);
  for (std::string line; std::getline(lines, line);) yaml += "      " + line + "\n";
  return yaml;
}

}  // namespace reef::testing
