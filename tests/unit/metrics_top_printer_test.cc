// `reefctl top` tables: kubectl top's units (millicores, Mi), percentages of the
// node's allocatable, nodes without figures, pod sums, sorting.

#include <doctest/doctest.h>

#include "cli/top.h"

namespace reef::cli {
namespace {

v1::NodeMetrics NodeUsage(const std::string& name, const std::string& cpu, const std::string& memory) {
  v1::NodeMetrics m;
  m.mutable_metadata()->set_name(name);
  if (!cpu.empty()) (*m.mutable_usage())["cpu"] = cpu;
  if (!memory.empty()) (*m.mutable_usage())["memory"] = memory;
  return m;
}

v1::Node Node(const std::string& name, const std::string& cpu, const std::string& memory) {
  v1::Node n;
  n.mutable_metadata()->set_name(name);
  (*n.mutable_status()->mutable_allocatable())["cpu"] = cpu;
  (*n.mutable_status()->mutable_allocatable())["memory"] = memory;
  return n;
}

v1::ContainerMetrics Container(const std::string& name, const std::string& cpu, const std::string& memory) {
  v1::ContainerMetrics c;
  c.set_name(name);
  if (!cpu.empty()) (*c.mutable_usage())["cpu"] = cpu;
  if (!memory.empty()) (*c.mutable_usage())["memory"] = memory;
  return c;
}

v1::PodMetrics PodUsage(const std::string& ns, const std::string& name, std::vector<v1::ContainerMetrics> containers) {
  v1::PodMetrics p;
  p.mutable_metadata()->set_namespace_(ns);
  p.mutable_metadata()->set_name(name);
  for (auto& c : containers) *p.add_containers() = std::move(c);
  return p;
}

TEST_CASE("top nodes: millicores, Mi, percentages of allocatable, nodes without figures last") {
  std::vector<v1::Node> nodes = {Node("pi-2", "4", "8Gi"), Node("pi-1", "2", "4Gi"), Node("pi-3", "1", "1Gi")};
  std::vector<v1::NodeMetrics> metrics = {
      NodeUsage("pi-2", "1234567891n", "3Gi"),  // MilliValue rounds up: 1235m, 30%
      NodeUsage("pi-1", "250m", "1Gi"),         // 12.5% is 12% (truncated, as kubectl)
  };
  CHECK(RenderTopNodes(metrics, nodes, "") ==
        "NAME   CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\n"
        "pi-1   250m         12%         1024Mi          25%\n"
        "pi-2   1235m        30%         3072Mi          37%\n"
        "pi-3   <unknown>    <unknown>   <unknown>       <unknown>\n");
}

TEST_CASE("top nodes: sorted by cpu or memory, highest first, a figure not reported yet is <unknown>") {
  std::vector<v1::Node> nodes = {Node("a", "2", "2Gi"), Node("b", "2", "2Gi"), Node("c", "2", "2Gi")};
  std::vector<v1::NodeMetrics> metrics = {NodeUsage("a", "100m", "1Gi"), NodeUsage("b", "", "512Mi"),
                                          NodeUsage("c", "1", "100Mi")};
  CHECK(RenderTopNodes(metrics, nodes, "cpu") ==
        "NAME   CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\n"
        "c      1000m        50%         100Mi           4%\n"
        "a      100m         5%          1024Mi          50%\n"
        "b      <unknown>    <unknown>   512Mi           25%\n");
  std::string by_memory = RenderTopNodes(metrics, nodes, "memory");
  CHECK(by_memory.find("\na ") < by_memory.find("\nb "));
  CHECK(by_memory.find("\nb ") < by_memory.find("\nc "));
  // A node whose Node object is gone: no allocatable, no percentage.
  CHECK(RenderTopNodes({NodeUsage("x", "5m", "2Mi")}, {}, "") ==
        "NAME   CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\n"
        "x      5m           <unknown>   2Mi             <unknown>\n");
}

TEST_CASE("top pods: the pod cgroup's figure, else the sum of its containers") {
  v1::PodMetrics web = PodUsage("default", "web", {Container("app", "12m", "30Mi"), Container("log", "3m", "4Mi")});
  v1::PodMetrics db = PodUsage("default", "db", {Container("pg", "100m", "200Mi")});
  (*db.mutable_usage())["cpu"] = "150m";  // the whole pod: more than its live container
  (*db.mutable_usage())["memory"] = "256Mi";
  v1::PodMetrics fresh = PodUsage("ops", "fresh", {Container("main", "", "1Mi"), Container("side", "1m", "1Mi")});
  CHECK(RenderTopPods({web, db}, {}) ==
        "NAME   CPU(cores)   MEMORY(bytes)\n"
        "db     150m         256Mi\n"
        "web    15m          34Mi\n");
  CHECK(RenderTopPods({fresh, web, db}, TopPodsFormat{true, false, ""}) ==
        "NAMESPACE   NAME    CPU(cores)   MEMORY(bytes)\n"
        "default     db      150m         256Mi\n"
        "default     web     15m          34Mi\n"
        "ops         fresh   <unknown>    2Mi\n");
  CHECK(RenderTopPods({web, db}, TopPodsFormat{false, false, "memory"}) ==
        "NAME   CPU(cores)   MEMORY(bytes)\n"
        "db     150m         256Mi\n"
        "web    15m          34Mi\n");
  CHECK(RenderTopPods({db, web}, TopPodsFormat{false, false, "cpu"}).find("db ") <
        RenderTopPods({db, web}, TopPodsFormat{false, false, "cpu"}).find("web "));
}

TEST_CASE("top pods --containers: one row per container, POD first") {
  v1::PodMetrics web = PodUsage("default", "web", {Container("log", "3m", "4Mi"), Container("app", "12m", "30Mi")});
  CHECK(RenderTopPods({web}, TopPodsFormat{false, true, ""}) ==
        "POD   NAME   CPU(cores)   MEMORY(bytes)\n"
        "web   app    12m          30Mi\n"
        "web   log    3m           4Mi\n");
  CHECK(RenderTopPods({web}, TopPodsFormat{true, true, "memory"}) ==
        "NAMESPACE   POD   NAME   CPU(cores)   MEMORY(bytes)\n"
        "default     web   app    12m          30Mi\n"
        "default     web   log    3m           4Mi\n");
}

}  // namespace
}  // namespace reef::cli
