#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "agent/pods/static_pods.h"
#include "tests/support/process.h"

namespace reef::agent {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

constexpr char kPod[] = R"(apiVersion: v1
kind: Pod
metadata: {name: sensor, labels: {app: sensor}}
spec:
  containers: [{name: main, image: busybox:1.36, command: [sleep, "3600"]}]
)";

constexpr char kDeployment[] = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: httpd, image: busybox:1.36}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
)";

TEST_CASE("static pods come from Pods and workload templates, named after the node") {
  reef::testing::TempDir dir;
  Write(dir.path() + "/pod.yaml", kPod);
  Write(dir.path() + "/web.yaml", kDeployment);
  Write(dir.path() + "/notes.txt", "not a manifest");
  StaticPodSet set = LoadStaticPods(dir.path(), "pi-1");
  CHECK(set.errors.empty());
  REQUIRE(set.pods.size() == 2);
  REQUIRE(set.pods.count("default/sensor-pi-1"));
  REQUIRE(set.pods.count("shop/web-pi-1"));
  const StaticPod& web = set.pods["shop/web-pi-1"];
  CHECK(web.pod.spec().node_name() == "pi-1");
  CHECK(web.pod.metadata().labels().at("app") == "web");
  CHECK(web.pod.spec().restart_policy() == "Always");  // defaults applied
  CHECK(web.source == dir.path() + "/web.yaml");
  CHECK(web.spec_hash.size() == 64);
}

TEST_CASE("the spec hash changes with the pod's desired state, and only then") {
  reef::testing::TempDir dir;
  Write(dir.path() + "/pod.yaml", kPod);
  std::string before = LoadStaticPods(dir.path(), "n").pods["default/sensor-n"].spec_hash;
  CHECK(LoadStaticPods(dir.path(), "n").pods["default/sensor-n"].spec_hash == before);
  std::string changed = kPod;
  changed.replace(changed.find("3600"), 4, "7200");
  Write(dir.path() + "/pod.yaml", changed);
  CHECK(LoadStaticPods(dir.path(), "n").pods["default/sensor-n"].spec_hash != before);
}

TEST_CASE("an invalid file is reported and the others still run") {
  reef::testing::TempDir dir;
  Write(dir.path() + "/good.yaml", kPod);
  Write(dir.path() + "/bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: []\n");
  Write(dir.path() + "/dup.yaml", kPod);
  StaticPodSet set = LoadStaticPods(dir.path(), "n");
  CHECK(set.pods.size() == 1);
  REQUIRE(set.errors.size() == 2);
  CHECK_MESSAGE(set.errors[0].find("bad.yaml:5:15: document 1 (Pod default/bad): spec.containers: at least one container is required") != std::string::npos, set.errors[0]);
  CHECK(set.errors[1].find("is defined twice") != std::string::npos);
}

TEST_CASE("a missing manifest folder is an empty set") {
  StaticPodSet set = LoadStaticPods("/nonexistent/reef-manifests", "n");
  CHECK(set.pods.empty());
  CHECK(set.errors.empty());
}

}  // namespace
}  // namespace reef::agent
