// The agent's resource usage collector against a fake cgroup v2 tree and a fake
// /proc in a temp folder, with a fake clock: cpu rates between two collections, the
// working set, cgroups that are missing, new, reset or no longer asked for.

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "agent/metrics/collector.h"
#include "agent/metrics/pod_cgroups.h"
#include "common/files.h"
#include "common/strings.h"
#include "tests/support/process.h"

namespace reef::agent::metrics {
namespace {

constexpr uint64_t kMi = 1024 * 1024;

class FakeHost {
 public:
  FakeHost() : cgroups_(dir_.path() + "/cgroup"), proc_(dir_.path() + "/proc") {
    REQUIRE(MakeDirs(cgroups_, 0755).ok());
    REQUIRE(MakeDirs(proc_, 0755).ok());
    Write(cgroups_ + "/cgroup.controllers", "cpuset cpu io memory pids\n");  // v2
  }
  CollectorOptions Options() {
    return CollectorOptions{cgroups_, proc_, &clock_, 100};
  }
  // One cgroup's files: cpu.stat, memory.current, memory.stat.
  void Cgroup(const std::string& path, uint64_t usage_usec, uint64_t memory_current, uint64_t inactive_file) {
    std::string dir = cgroups_ + path;
    REQUIRE(MakeDirs(dir, 0755).ok());
    Write(dir + "/cpu.stat", StrCat("usage_usec ", usage_usec, "\nuser_usec 1\nsystem_usec 2\n"));
    Write(dir + "/memory.current", StrCat(memory_current, "\n"));
    Write(dir + "/memory.stat", StrCat("anon 1\nfile 2\nactive_file 3\ninactive_file ", inactive_file, "\nslab 4\n"));
  }
  // The same on a cgroup v1 host: cpuacct and memory hierarchies, no cgroup.controllers.
  void CgroupV1(const std::string& path, uint64_t usage_nanos, uint64_t memory_usage, uint64_t inactive_file) {
    std::remove((cgroups_ + "/cgroup.controllers").c_str());
    REQUIRE(MakeDirs(cgroups_ + "/cpuacct" + path, 0755).ok());
    REQUIRE(MakeDirs(cgroups_ + "/memory" + path, 0755).ok());
    Write(cgroups_ + "/cpuacct" + path + "/cpuacct.usage", StrCat(usage_nanos, "\n"));
    Write(cgroups_ + "/memory" + path + "/memory.usage_in_bytes", StrCat(memory_usage, "\n"));
    Write(cgroups_ + "/memory" + path + "/memory.stat",
          StrCat("cache 5\ninactive_file 1\ntotal_cache 5\ntotal_inactive_file ", inactive_file, "\n"));
  }
  // /proc/stat's cpu line (in ticks of 1/100 s) and /proc/meminfo.
  void Node(const std::string& cpu_line, uint64_t total_kb, uint64_t available_kb) {
    Write(proc_ + "/stat", cpu_line + "\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2 3\n");
    Write(proc_ + "/meminfo", StrCat("MemTotal:       ", total_kb, " kB\nMemFree:          1000 kB\n",
                                     "MemAvailable:   ", available_kb, " kB\nBuffers:  10 kB\n"));
  }
  void Advance(absl::Duration d) { clock_.Advance(d); }
  absl::Time Now() const { return clock_.Now(); }

 private:
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  testing::TempDir dir_;
  std::string cgroups_, proc_;
  FakeClock clock_;
};

using Usage = std::map<std::string, std::string>;

Usage Of(const google::protobuf::Map<std::string, std::string>& m) { return Usage(m.begin(), m.end()); }

struct Result {
  v1::NodeMetrics node;
  google::protobuf::RepeatedPtrField<v1::PodMetrics> pods;
};

Result Collect(MetricsCollector& c, const std::vector<PodCgroups>& pods) {
  Result r;
  c.Collect("edge-1", pods, &r.node, &r.pods);
  return r;
}

const PodCgroups kWeb{"default", "web", "/reef/edge-1/aaaa", {{"app", "/reef/edge-1/aaaa/c1"}, {"sidecar", "/reef/edge-1/aaaa/c2"}}};

TEST_CASE("collector: memory at once, cpu as a rate over the window between two collections") {
  FakeHost host;
  host.Node("cpu  100 0 50 1000 10 0 0 0 0 0", 4 * 1024 * 1024, 3 * 1024 * 1024);
  host.Cgroup("/reef/edge-1/aaaa", 1'000'000, 100 * kMi, 30 * kMi);
  host.Cgroup("/reef/edge-1/aaaa/c1", 500'000, 50 * kMi + 1000, 1000);
  host.Cgroup("/reef/edge-1/aaaa/c2", 100'000, 1'000'000, 0);
  MetricsCollector collector(host.Options());

  // First: no rate yet, so no "cpu" and a zero window; the working set is there.
  Result first = Collect(collector, {kWeb});
  CHECK(first.node.metadata().name() == "edge-1");
  CHECK(first.node.timestamp() == FormatTimestamp(host.Now()));
  CHECK(first.node.window() == "0s");
  CHECK(Of(first.node.usage()) == Usage{{"memory", "1Gi"}});  // 4Gi total - 3Gi available
  REQUIRE(first.pods.size() == 1);
  const v1::PodMetrics& p1 = first.pods[0];
  CHECK(p1.metadata().namespace_() == "default");
  CHECK(p1.metadata().name() == "web");
  CHECK(p1.window() == "0s");
  CHECK(Of(p1.usage()) == Usage{{"memory", "70Mi"}});  // memory.current - inactive_file
  REQUIRE(p1.containers_size() == 2);
  CHECK(p1.containers(0).name() == "app");
  CHECK(Of(p1.containers(0).usage()) == Usage{{"memory", "50Mi"}});
  CHECK(p1.containers(1).name() == "sidecar");
  CHECK(Of(p1.containers(1).usage()) == Usage{{"memory", "1000000"}});  // not a whole Ki: plain bytes

  // Ten seconds later: 2.5 s of cpu for the pod is 250m.
  host.Advance(absl::Seconds(10));
  host.Node("cpu  300 0 150 2000 20 5 5 0 0 0", 4 * 1024 * 1024, 2 * 1024 * 1024);
  host.Cgroup("/reef/edge-1/aaaa", 3'500'000, 100 * kMi, 30 * kMi);
  host.Cgroup("/reef/edge-1/aaaa/c1", 2'500'000, 60 * kMi, 0);
  host.Cgroup("/reef/edge-1/aaaa/c2", 100'001, 1'000'000, 2'000'000);  // inactive > current: 0
  Result second = Collect(collector, {kWeb});
  // Busy ticks (all but idle and iowait): 150 -> 460, 3.1 s over 10 s.
  CHECK(Of(second.node.usage()) == Usage{{"cpu", "310m"}, {"memory", "2Gi"}});
  CHECK(second.node.window() == "10s");
  REQUIRE(second.pods.size() == 1);
  const v1::PodMetrics& p2 = second.pods[0];
  CHECK(p2.window() == "10s");
  CHECK(Of(p2.usage()) == Usage{{"cpu", "250m"}, {"memory", "70Mi"}});
  CHECK(Of(p2.containers(0).usage()) == Usage{{"cpu", "200m"}, {"memory", "60Mi"}});
  // 1 µs in 10 s: 100 nanocores, which is no whole number of millicores.
  CHECK(Of(p2.containers(1).usage()) == Usage{{"cpu", "100n"}, {"memory", "0"}});
}

TEST_CASE("collector: missing cgroups are left out, a reset counter or a forgotten cgroup starts over") {
  FakeHost host;
  host.Node("cpu  100 0 50 1000 10 0 0 0 0 0", 1024, 512);
  host.Cgroup("/reef/edge-1/aaaa", 1'000'000, kMi, 0);
  host.Cgroup("/reef/edge-1/aaaa/c1", 1'000'000, kMi, 0);
  host.Cgroup("/reef/edge-1/bbbb", 1'000'000, kMi, 0);
  MetricsCollector collector(host.Options());
  // c2 was never created (or exited and was removed); pod "gone" has no cgroup at all.
  PodCgroups gone{"default", "gone", "/reef/edge-1/cccc", {{"app", "/reef/edge-1/cccc/c9"}}};
  PodCgroups other{"kube-system", "other", "/reef/edge-1/bbbb", {}};
  Result first = Collect(collector, {kWeb, gone, other});
  REQUIRE(first.pods.size() == 2);
  CHECK(first.pods[0].metadata().name() == "web");
  REQUIRE(first.pods[0].containers_size() == 1);
  CHECK(first.pods[0].containers(0).name() == "app");
  CHECK(first.pods[1].metadata().name() == "other");

  // c1's counter went backwards: a new cgroup at the same path, no rate this time.
  // "other" is not asked for now, so its sample is dropped.
  host.Advance(absl::Seconds(5));
  host.Cgroup("/reef/edge-1/aaaa", 2'000'000, kMi, 0);
  host.Cgroup("/reef/edge-1/aaaa/c1", 10, kMi, 0);
  host.Cgroup("/reef/edge-1/bbbb", 2'000'000, kMi, 0);
  Result second = Collect(collector, {kWeb});
  REQUIRE(second.pods.size() == 1);
  CHECK(Of(second.pods[0].usage()) == Usage{{"cpu", "200m"}, {"memory", "1Mi"}});
  CHECK(Of(second.pods[0].containers(0).usage()) == Usage{{"memory", "1Mi"}});

  host.Advance(absl::Seconds(5));
  host.Cgroup("/reef/edge-1/aaaa/c1", 500'010, kMi, 0);
  host.Cgroup("/reef/edge-1/bbbb", 3'000'000, kMi, 0);
  Result third = Collect(collector, {kWeb, other});
  REQUIRE(third.pods.size() == 2);
  CHECK(Of(third.pods[0].containers(0).usage()) == Usage{{"cpu", "100m"}, {"memory", "1Mi"}});
  CHECK(Of(third.pods[1].usage()) == Usage{{"memory", "1Mi"}});  // forgotten: first sample again
}

TEST_CASE("collector: the same figures from a cgroup v1 host") {
  FakeHost host;
  host.CgroupV1("/reef/edge-1/aaaa", 1'000'000'000, 100 * kMi, 30 * kMi);
  host.CgroupV1("/reef/edge-1/aaaa/c1", 500'000'000, 50 * kMi, 0);
  MetricsCollector collector(host.Options());
  PodCgroups web{"default", "web", "/reef/edge-1/aaaa", {{"app", "/reef/edge-1/aaaa/c1"}, {"gone", "/reef/edge-1/aaaa/c2"}}};
  Result first = Collect(collector, {web});
  REQUIRE(first.pods.size() == 1);
  CHECK(Of(first.pods[0].usage()) == Usage{{"memory", "70Mi"}});
  host.Advance(absl::Seconds(2));
  host.CgroupV1("/reef/edge-1/aaaa", 2'000'000'000, 100 * kMi, 30 * kMi);
  host.CgroupV1("/reef/edge-1/aaaa/c1", 1'000'000'000, 50 * kMi, 0);
  Result second = Collect(collector, {web});
  REQUIRE(second.pods.size() == 1);
  CHECK(Of(second.pods[0].usage()) == Usage{{"cpu", "500m"}, {"memory", "70Mi"}});
  REQUIRE(second.pods[0].containers_size() == 1);
  CHECK(Of(second.pods[0].containers(0).usage()) == Usage{{"cpu", "250m"}, {"memory", "50Mi"}});
}

TEST_CASE("collector: no /proc and no cgroups still gives the node's name and time") {
  FakeHost host;
  MetricsCollector collector(host.Options());
  Result r = Collect(collector, {kWeb});
  CHECK(r.node.metadata().name() == "edge-1");
  CHECK(r.node.usage().empty());
  CHECK(r.pods.empty());
}

TEST_CASE("collector: quantities as metrics-server spells them") {
  CHECK(CpuQuantity(0) == "0");
  CHECK(CpuQuantity(250'000'000) == "250m");
  CHECK(CpuQuantity(2'000'000'000) == "2");
  CHECK(CpuQuantity(123'456'789) == "123456789n");
  CHECK(MemoryQuantity(0) == "0");
  CHECK(MemoryQuantity(52 * kMi) == "52Mi");
  CHECK(MemoryQuantity(3 * 1024) == "3Ki");
  CHECK(MemoryQuantity(1000) == "1k");  // below 1Ki: decimal, as Kubernetes writes it
  CHECK(FormatWindow(absl::ZeroDuration()) == "0s");
  CHECK(FormatWindow(absl::Milliseconds(10002)) == "10.002s");
}

TEST_CASE("pod cgroups from the agent's records: live containers, latest attempt, in the pod's cgroup") {
  PodRecord web;
  web.key = "default/web";
  web.pod.mutable_metadata()->set_namespace_("default");
  web.pod.mutable_metadata()->set_name("web");
  PodRecord idle;
  idle.key = "ops/idle";  // no metadata: the key names it
  std::vector<ContainerRecord> containers(4);
  containers[0].id = "web-app-0";
  containers[0].pod_key = "default/web";
  containers[0].name = "app";
  containers[0].attempt = 0;
  containers[1] = containers[0];
  containers[1].id = "web-app-1";
  containers[1].attempt = 1;
  containers[2] = containers[0];
  containers[2].id = "web-log-0";
  containers[2].name = "log";
  containers[2].finished = true;  // exited: nothing to measure
  containers[3] = containers[0];
  containers[3].id = "stray";
  containers[3].pod_key = "default/unknown";

  auto pods = PodCgroupsFor({web, idle}, containers,
                            [](const std::string& key) { return "/reef/edge-1/" + key.substr(0, key.find('/')); });
  REQUIRE(pods.size() == 2);
  CHECK(pods[0].namespace_ == "default");
  CHECK(pods[0].name == "web");
  CHECK(pods[0].cgroup == "/reef/edge-1/default");
  CHECK(pods[0].containers == std::vector<std::pair<std::string, std::string>>{{"app", "/reef/edge-1/default/web-app-1"}});
  CHECK(pods[1].namespace_ == "ops");
  CHECK(pods[1].name == "idle");
  CHECK(pods[1].containers.empty());
}

}  // namespace
}  // namespace reef::agent::metrics
