// Bad input gets one clear error naming the problem, and nothing is written.

#include <doctest/doctest.h>

#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr char kGoodConfigMap[] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\ndata:\n  a: b\n";

// Applies `manifest` from a file, expects failure with every `expected` fragment in
// stderr, and checks that no ConfigMap, Pod or Deployment was written.
void ExpectRefused(const TestCluster& c, const std::string& manifest,
                   std::initializer_list<std::string> expected) {
  std::string file = c.WriteFile("bad.yaml", manifest);
  RunResult r = c.Ctl({"apply", "-f", file});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  for (const std::string& e : expected) CHECK_MESSAGE(Contains(r.err, e), "stderr: ", r.err);
  CHECK(Contains(r.err, "nothing was applied"));
  CHECK(CountObjects(c, "cm") == 0);
  CHECK(CountObjects(c, "pods") == 0);
  CHECK(CountObjects(c, "deploy") == 0);
}

TEST_CASE("bad manifests are refused with a clear error and write nothing") {
  TestCluster c;

  SUBCASE("malformed YAML names the line and column") {
    ExpectRefused(c, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
                  {"bad.yaml:5:1: invalid YAML"});
  }
  SUBCASE("unknown kind") {
    ExpectRefused(c, "apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n",
                  {"bad.yaml:2:7: document 1: kind: unknown kind \"Gizmo\""});
  }
  SUBCASE("unknown apiVersion") {
    ExpectRefused(c, "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n",
                  {"apiVersion: unknown apiVersion \"extensions/v1beta1\" for Deployment (Reef serves it as apps/v1)"});
  }
  SUBCASE("an unknown field is named with its path") {
    ExpectRefused(c, R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      affinity: {}
      containers: [{name: c, image: busybox}]
)",
                  {"bad.yaml:9:7: document 1 (Deployment default/web): spec.template.spec.affinity: field not supported"});
  }
  SUBCASE("an invalid name") {
    ExpectRefused(c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: My_Config}\n",
                  {"metadata.name: \"My_Config\": a lowercase RFC 1123 subdomain"});
  }
  SUBCASE("an invalid quantity") {
    ExpectRefused(c, R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox
    resources:
      limits: {memory: 64MB}
)",
                  {"bad.yaml:9:24: document 1 (Pod default/p): spec.containers[0].resources.limits[memory]: quantity \"64MB\""});
  }
  SUBCASE("a wrong type") {
    ExpectRefused(c, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: three\n",
                  {"spec.replicas: expected an integer, got the string \"three\""});
  }
  SUBCASE("one bad document in many: none is written") {
    ExpectRefused(c, std::string(kGoodConfigMap) +
                         "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n---\n" +
                         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: also-good}\n",
                  {"document 2 (Pod default/p): spec.containers: at least one container is required"});
  }
  SUBCASE("a bad file among good ones: none is written") {
    std::string dir = c.dir.path() + "/manifests";
    Run({"/bin/mkdir", "-p", dir});
    c.WriteFile("manifests/a.yaml", kGoodConfigMap);
    c.WriteFile("manifests/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: 1}\n");
    RunResult r = c.Ctl({"apply", "-f", dir});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "b.yaml:4:11: document 1 (ConfigMap default/x): data[k]: expected a string, got the number 1"));
    CHECK(CountObjects(c, "cm") == 0);
  }
  SUBCASE("a 10 MB manifest is a size error, not a crash") {
    std::string big = std::string(kGoodConfigMap) + "  big: \"" + std::string(10 * 1024 * 1024, 'x') + "\"\n";
    ExpectRefused(c, big, {"bad.yaml: 10.0 MiB is larger than the 3.0 MiB limit"});
    RunResult r = c.Ctl({"apply", "-f", "-"}, big);
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "<stdin>: 10.0 MiB is larger than the 3.0 MiB limit"));
    CHECK(CountObjects(c, "cm") == 0);
  }
  SUBCASE("an object over the server's size limit") {
    // Under the file limit but over the per-object limit (1.5 MiB).
    std::string big = std::string(kGoodConfigMap) + "  big: \"" + std::string(2 * 1024 * 1024, 'x') + "\"\n";
    ExpectRefused(c, big, {"document 1 (ConfigMap default/good): data: 2.0 MiB is larger than the 1.0 MiB limit"});
  }
  // The controller is still healthy after all that.
  RunResult r = c.Ctl({"apply", "-f", "-"}, kGoodConfigMap);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
}

}  // namespace
}  // namespace reef::testing
