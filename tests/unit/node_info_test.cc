// The Node an agent reports, built from fixture facts of a Raspberry Pi 4 and of a
// small 32-bit Pi under pressure.

#include "agent/node_info.h"

#include <doctest/doctest.h>
#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "common/clock.h"
#include "common/version.h"
#include "tests/support/source_tree.h"

namespace reef::agent {
namespace {

using google::protobuf::util::MessageDifferencer;
using reef::testing::ReadSourceFile;

constexpr uint64_t kGi = uint64_t{1} << 30;
const absl::Time kNow = absl::FromUnixSeconds(1796302982);  // 2026-12-03T13:03:02Z

std::string Fixture(std::string_view machine, std::string_view file) {
  return ReadSourceFile(reef::StrCat("tests/unit/testdata/node_info/", machine, "/", file));
}

// A Raspberry Pi 4 (4 GB) on 64-bit Raspberry Pi OS, its agent's cgroup unlimited.
MachineFacts Pi4() {
  MachineFacts f;
  f.hostname = "Pi-Kitchen";
  f.machine = "aarch64";
  f.kernel_release = "6.1.0-rpi7-rpi-v8";
  f.os_release = Fixture("pi4", "os-release");
  f.meminfo = Fixture("pi4", "meminfo");
  f.machine_id = "2b9f0c6e0a3d4f6c9b1f5e7d8c6a4b2e";
  f.boot_id = "0d3f6b2a-8c1e-4b7a-9f2d-5e6c7a8b9c0d";
  f.online_cpus = 4;
  f.cpu_max = {"max 100000"};
  f.disk_bytes = 32 * kGi;
  f.disk_free_bytes = 20 * kGi;
  f.internal_ip = "192.168.1.40";
  return f;
}

// A 512 MB 32-bit Pi whose agent runs in a cgroup with 1.5 CPUs, short of memory
// and of disk.
MachineFacts PiZero() {
  MachineFacts f;
  f.hostname = "cam-7";
  f.machine = "armv7l";
  f.kernel_release = "6.1.21-v7+";
  f.os_release = Fixture("pi-zero", "os-release");
  f.meminfo = Fixture("pi-zero", "meminfo");
  f.online_cpus = 4;
  f.cpu_max = {"150000 100000", "max 100000"};
  f.disk_bytes = 8 * kGi;
  f.disk_free_bytes = kGi / 2;  // 6%
  return f;
}

NodeConfig Config(std::string name) {
  NodeConfig c;
  c.name = std::move(name);
  c.reserved = *ParseSystemReserved(kDefaultSystemReserved);
  c.container_runtime_version = "runc://1.1.5+ds1";
  return c;
}

reef::v1::Node Build(const NodeConfig& config, const MachineFacts& facts, absl::Time now = kNow,
                     const reef::v1::Node* previous = nullptr) {
  absl::StatusOr<reef::v1::Node> node = BuildNode(config, facts, now, previous);
  INFO(node.status().ToString());
  REQUIRE(node.ok());
  return *node;
}

const reef::v1::NodeCondition& ConditionOf(const reef::v1::Node& node, std::string_view type) {
  for (const auto& c : node.status().conditions()) {
    if (c.type() == type) return c;
  }
  FAIL("no condition ", std::string(type));
  static const reef::v1::NodeCondition kMissing;
  return kMissing;
}

TEST_CASE("BuildNode: a Raspberry Pi 4") {
  NodeConfig config = Config("pi-kitchen");
  config.labels = *ParseNodeLabels("site=kitchen,node-role.kubernetes.io/edge=");
  reef::v1::Node node = Build(config, Pi4());

  CHECK(node.metadata().name() == "pi-kitchen");
  const auto& labels = node.metadata().labels();
  CHECK(labels.size() == 5);
  CHECK(labels.at("kubernetes.io/hostname") == "pi-kitchen");
  CHECK(labels.at("kubernetes.io/os") == "linux");
  CHECK(labels.at("kubernetes.io/arch") == "arm64");
  CHECK(labels.at("site") == "kitchen");
  CHECK(labels.at("node-role.kubernetes.io/edge") == "");

  const auto& capacity = node.status().capacity();
  CHECK(capacity.at("cpu") == "4");
  CHECK(capacity.at("memory") == "3884328Ki");  // MemTotal
  CHECK(capacity.at("ephemeral-storage") == "32Gi");
  CHECK(capacity.at("pods") == "110");
  // Less --system-reserved (100m, 128Mi) and the eviction thresholds (100Mi, 10%).
  const auto& allocatable = node.status().allocatable();
  CHECK(allocatable.at("cpu") == "3900m");
  CHECK(allocatable.at("memory") == "3650856Ki");
  CHECK(allocatable.at("ephemeral-storage") == std::to_string(32 * kGi - 32 * kGi / 10));
  CHECK(allocatable.at("pods") == "110");

  REQUIRE(node.status().conditions_size() == 3);
  const auto& memory = node.status().conditions(0);
  CHECK(memory.type() == "MemoryPressure");
  CHECK(memory.status() == "False");
  CHECK(memory.reason() == "AgentHasSufficientMemory");
  CHECK(memory.last_transition_time() == "2026-12-03T13:03:02Z");
  CHECK(memory.last_heartbeat_time() == "2026-12-03T13:03:02Z");
  CHECK(node.status().conditions(1).type() == "DiskPressure");
  CHECK(node.status().conditions(1).status() == "False");
  CHECK(node.status().conditions(1).reason() == "AgentHasNoDiskPressure");
  const auto& ready = node.status().conditions(2);
  CHECK(ready.type() == "Ready");
  CHECK(ready.status() == "True");
  CHECK(ready.reason() == "AgentReady");

  REQUIRE(node.status().addresses_size() == 2);
  CHECK(node.status().addresses(0).type() == "InternalIP");
  CHECK(node.status().addresses(0).address() == "192.168.1.40");
  CHECK(node.status().addresses(1).type() == "Hostname");
  CHECK(node.status().addresses(1).address() == "Pi-Kitchen");

  const auto& info = node.status().node_info();
  CHECK(info.kernel_version() == "6.1.0-rpi7-rpi-v8");
  CHECK(info.os_image() == "Debian GNU/Linux 12 (bookworm)");
  CHECK(info.operating_system() == "linux");
  CHECK(info.architecture() == "arm64");
  CHECK(info.machine_id() == "2b9f0c6e0a3d4f6c9b1f5e7d8c6a4b2e");
  CHECK(info.boot_id() == "0d3f6b2a-8c1e-4b7a-9f2d-5e6c7a8b9c0d");
  CHECK(info.container_runtime_version() == "runc://1.1.5+ds1");
  CHECK(info.kubelet_version() == kVersion);
}

TEST_CASE("BuildNode: a small Pi with a cgroup quota, under memory and disk pressure") {
  reef::v1::Node node = Build(Config("cam-7"), PiZero());
  CHECK(node.metadata().labels().at("kubernetes.io/arch") == "arm");
  CHECK(node.status().node_info().architecture() == "arm");
  CHECK(node.status().node_info().os_image() == "Raspbian GNU/Linux 11 (bullseye)");
  CHECK(node.status().capacity().at("cpu") == "1500m");
  CHECK(node.status().allocatable().at("cpu") == "1400m");
  CHECK(node.status().capacity().at("memory") == "439760Ki");
  CHECK(node.status().allocatable().at("memory") == "206288Ki");
  CHECK(ConditionOf(node, "MemoryPressure").status() == "True");  // 84Mi available
  CHECK(ConditionOf(node, "MemoryPressure").reason() == "AgentHasInsufficientMemory");
  CHECK(ConditionOf(node, "DiskPressure").status() == "True");  // 6% free
  CHECK(ConditionOf(node, "DiskPressure").reason() == "AgentHasDiskPressure");
  CHECK(ConditionOf(node, "Ready").status() == "True");
  // No InternalIP found: only the hostname.
  REQUIRE(node.status().addresses_size() == 1);
  CHECK(node.status().addresses(0).type() == "Hostname");
}

TEST_CASE("BuildNode: an unchanged machine builds an identical Node, a flip is timed") {
  NodeConfig config = Config("pi-kitchen");
  reef::v1::Node first = Build(config, Pi4());
  reef::v1::Node again = Build(config, Pi4(), kNow + absl::Minutes(5), &first);
  CHECK(MessageDifferencer::Equals(first, again));

  MachineFacts low = Pi4();
  low.meminfo = "MemTotal: 3884328 kB\nMemAvailable: 51200 kB\n";
  reef::v1::Node pressed = Build(config, low, kNow + absl::Minutes(10), &again);
  const auto& memory = ConditionOf(pressed, "MemoryPressure");
  CHECK(memory.status() == "True");
  CHECK(memory.last_transition_time() == "2026-12-03T13:13:02Z");
  CHECK(ConditionOf(pressed, "Ready").last_transition_time() == "2026-12-03T13:03:02Z");
}

TEST_CASE("BuildNode: what the facts lack") {
  MachineFacts f = Pi4();
  f.os_release = "NAME=Something\n";
  CHECK(Build(Config("a"), f).status().node_info().os_image() == "Linux");
  f.cpu_max.clear();
  CHECK(Build(Config("a"), f).status().capacity().at("cpu") == "4");
  // A reserve larger than the box leaves nothing, not a negative quantity.
  NodeConfig greedy = Config("a");
  greedy.reserved = *ParseSystemReserved("cpu=8,memory=8Gi");
  CHECK(Build(greedy, f).status().allocatable().at("cpu") == "0");
  CHECK(Build(greedy, f).status().allocatable().at("memory") == "0");
  // Old kernels have no MemAvailable: MemFree stands in.
  f.meminfo = "MemTotal: 3884328 kB\nMemFree: 51200 kB\n";
  CHECK(ConditionOf(Build(Config("a"), f), "MemoryPressure").status() == "True");

  f.meminfo = "MemFree: 100 kB\n";
  CHECK(BuildNode(Config("a"), f, kNow).status().message() == "/proc/meminfo: no MemTotal line");
  f = Pi4();
  f.online_cpus = 0;
  CHECK_FALSE(BuildNode(Config("a"), f, kNow).ok());
}

TEST_CASE("NodeName: the flag or the hostname, lowercased, as a DNS-1123 name") {
  CHECK(*NodeName("", "Pi-Kitchen") == "pi-kitchen");
  CHECK(*NodeName("Edge-1", "pi-kitchen") == "edge-1");
  CHECK(*NodeName("", "pi.lan") == "pi.lan");
  absl::StatusOr<std::string> bad = NodeName("", "pi_kitchen");
  REQUIRE_FALSE(bad.ok());
  std::string message(bad.status().message());
  CHECK(message.starts_with("node name \"pi_kitchen\""));
  CHECK(message.ends_with("(it is the hostname; set --node-name)"));
  CHECK_FALSE(NodeName("-x", "pi").ok());
  CHECK_FALSE(NodeName(std::string(64, 'a'), "pi").ok());  // too long for the hostname label
}

TEST_CASE("ParseNodeLabels: k=v pairs, validated") {
  CHECK(ParseNodeLabels("")->empty());
  auto labels = ParseNodeLabels(" zone=a , reef.dev/tier=edge,");
  REQUIRE(labels.ok());
  CHECK(labels->size() == 2);
  CHECK(labels->at("zone") == "a");
  CHECK(labels->at("reef.dev/tier") == "edge");
  CHECK(ParseNodeLabels("zone").status().message() ==
        "--node-labels: \"zone\": expected KEY=VALUE");
  CHECK(ParseNodeLabels("zone=a,zone=b").status().message() ==
        "--node-labels: \"zone\" given twice");
  CHECK(ParseNodeLabels("kubernetes.io/arch=arm").status().message() ==
        "--node-labels: \"kubernetes.io/arch\" is set by the agent itself");
  CHECK_FALSE(ParseNodeLabels("bad key=a").ok());
  CHECK_FALSE(ParseNodeLabels("zone=not ok").ok());
}

TEST_CASE("ParseSystemReserved: cpu, memory and ephemeral-storage quantities") {
  SystemReserved def = *ParseSystemReserved(kDefaultSystemReserved);
  CHECK(def.cpu_milli == 100);
  CHECK(def.memory_bytes == 128 << 20);
  CHECK(def.ephemeral_storage_bytes == 0);
  SystemReserved r = *ParseSystemReserved("cpu=0.5,ephemeral-storage=1G");
  CHECK(r.cpu_milli == 500);
  CHECK(r.memory_bytes == 0);
  CHECK(r.ephemeral_storage_bytes == 1'000'000'000);
  CHECK(ParseSystemReserved("")->cpu_milli == 0);
  CHECK(ParseSystemReserved("gpu=1").status().message() ==
        "--system-reserved: unknown resource \"gpu\" (cpu, memory or ephemeral-storage)");
  CHECK(ParseSystemReserved("memory=-1Mi").status().message() ==
        "--system-reserved: memory: must not be negative");
  CHECK_FALSE(ParseSystemReserved("memory=lots").ok());
}

TEST_CASE("ContainerRuntimeVersion and KubernetesArch") {
  CHECK(ContainerRuntimeVersion("runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\n"
                                "spec: 1.0.2-dev\n") == "runc://1.1.5+ds1");
  CHECK(ContainerRuntimeVersion("") == "runc://unknown");
  CHECK(KubernetesArch("x86_64") == "amd64");
  CHECK(KubernetesArch("aarch64") == "arm64");
  CHECK(KubernetesArch("armv7l") == "arm");
  CHECK(KubernetesArch("armv6l") == "arm");
  CHECK(KubernetesArch("i686") == "386");
  CHECK(KubernetesArch("riscv64") == "riscv64");
}

TEST_CASE("ReadMachineFacts on this machine builds a Node") {
  absl::StatusOr<MachineFacts> facts = ReadMachineFacts("/", "127.0.0.1:7443");
  REQUIRE_MESSAGE(facts.ok(), facts.status().ToString());
  CHECK_FALSE(facts->hostname.empty());
  CHECK(facts->online_cpus >= 1);
  CHECK(facts->disk_bytes > 0);
  // A controller on this box is reached over loopback, which is no InternalIP.
  CHECK_FALSE(facts->internal_ip.starts_with("127."));
  absl::StatusOr<std::string> name = NodeName("test-node", facts->hostname);
  REQUIRE(name.ok());
  CHECK(BuildNode(Config(*name), *facts, kNow).ok());
}

}  // namespace
}  // namespace reef::agent
