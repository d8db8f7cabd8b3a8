// The ReplicaSet kind as the API serves it: its row in the kinds table, defaults,
// validation; and the DaemonSet maxSurge that is refused until it is supported.

#include <doctest/doctest.h>

#include "api/manifest/kinds.h"
#include "api/manifest/manifest.h"

namespace reef::manifest {
namespace {

TEST_CASE("ReplicaSet: apps/v1, short name rs, defaulted and validated") {
  const KindInfo* kind = ResolveResourceName("rs");
  REQUIRE(kind != nullptr);
  CHECK(kind->kind == "ReplicaSet");
  CHECK(kind->api_version == "apps/v1");
  CHECK(ResolveResourceName("replicasets.apps") == kind);
  CHECK(kind->namespaced);

  auto parsed = ParseManifest("rs.yaml", R"(apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache}
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: main, image: "redis:7"}]
)");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  const v1::ReplicaSet& rs = (*parsed)[0].replica_set();
  CHECK(rs.spec().replicas() == 1);
  CHECK(rs.spec().min_ready_seconds() == 0);
  CHECK(rs.spec().template_().spec().restart_policy() == "Always");
  CHECK(rs.metadata().namespace_() == "default");

  auto bad = ParseManifest("rs.yaml", R"(apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache}
spec:
  replicas: -1
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers: [{name: main, image: "redis:7"}]
)");
  REQUIRE(!bad.ok());
  std::string message(bad.status().message());
  CHECK(message.find("spec.replicas: must be greater than or equal to 0, got -1") != std::string::npos);
  CHECK(message.find("spec.template.metadata.labels: do not match the selector \"app=cache\"") != std::string::npos);
}

TEST_CASE("DaemonSet maxSurge is refused by name rather than ignored") {
  auto parsed = ParseManifest("ds.yaml", R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  updateStrategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: logs}}
  template:
    metadata: {labels: {app: logs}}
    spec:
      containers: [{name: tail, image: busybox}]
)");
  REQUIRE(!parsed.ok());
  CHECK(std::string(parsed.status().message()).find(
            "spec.updateStrategy.rollingUpdate.maxSurge: not supported yet: use maxUnavailable") != std::string::npos);
}

}  // namespace
}  // namespace reef::manifest
