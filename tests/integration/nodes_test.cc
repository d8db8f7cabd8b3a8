// Nodes through reefctl against the real reef-controller: get nodes (+ -o wide),
// get pods -o wide, describe node, cordon / uncordon, label, drain.
//
// No agent runs here, and the API leaves status to agents (apply drops it). So the
// nodes, as their agents would have reported them, and the pods bound to them are
// written straight into the store of a fresh data dir before the controller starts.

#include <doctest/doctest.h>

#include <memory>
#include <regex>
#include <sstream>

#include "api/manifest/manifest.h"
#include "common/files.h"
#include "controller/store/sqlite_store.h"
#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Two Raspberry Pis and an x86 gateway that has not reported yet.
constexpr char kNodes[] = R"(
apiVersion: v1
kind: Node
metadata:
  name: pi-1
  labels:
    kubernetes.io/arch: arm64
    kubernetes.io/hostname: pi-1
    kubernetes.io/os: linux
    node-role.kubernetes.io/edge: ""
status:
  capacity: {cpu: "4", memory: 4Gi, ephemeral-storage: 32Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 4Gi, ephemeral-storage: 28Gi, pods: "110"}
  conditions:
  - type: MemoryPressure
    status: "False"
    reason: AgentHasSufficientMemory
    message: reef-agent has sufficient memory available
    lastHeartbeatTime: "2026-12-03T13:03:02Z"
    lastTransitionTime: "2026-12-03T13:03:02Z"
  - type: Ready
    status: "True"
    reason: AgentReady
    message: reef-agent is posting ready status
    lastHeartbeatTime: "2026-12-03T13:03:02Z"
    lastTransitionTime: "2026-12-03T13:03:02Z"
  addresses:
  - {type: InternalIP, address: 10.0.0.11}
  - {type: Hostname, address: pi-1}
  nodeInfo:
    machineID: 2b9f0c6e0a3d4f6c9b1f5e7d8c6a4b2e
    kernelVersion: 6.1.0-rpi7-rpi-v8
    osImage: Debian GNU/Linux 12 (bookworm)
    operatingSystem: linux
    architecture: arm64
    containerRuntimeVersion: runc://1.1.5+ds1
    kubeletVersion: v0.1.0
---
apiVersion: v1
kind: Node
metadata:
  name: pi-2
  labels: {kubernetes.io/arch: arm, kubernetes.io/hostname: pi-2, kubernetes.io/os: linux}
status:
  allocatable: {cpu: "1", memory: 1Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "False", reason: AgentNotReady}
  addresses:
  - {type: InternalIP, address: 10.0.0.12}
  nodeInfo:
    kernelVersion: 6.1.21-v7+
    osImage: Raspbian GNU/Linux 11 (bullseye)
    architecture: arm
    containerRuntimeVersion: runc://1.0.0
    kubeletVersion: v0.1.0
---
apiVersion: v1
kind: Node
metadata:
  name: gw-1
)";

// Pods as the scheduler and the agents left them. web-1's owner stands for a
// workload controller (drain may delete it: the controller makes a new one).
constexpr char kPods[] = R"(
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: default
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-5d4f8, uid: 0b8e7c1a-3d2f-4e5a-9b6c-7d8e9f0a1b2c, controller: true}
spec:
  nodeName: pi-1
  containers:
  - name: httpd
    image: busybox:1.36
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
status:
  phase: Running
  podIP: 10.42.0.5
  hostIP: 10.0.0.11
  containerStatuses:
  - name: httpd
    ready: true
    restartCount: 0
    state: {running: {startedAt: "2026-12-03T13:03:10Z"}}
---
apiVersion: v1
kind: Pod
metadata:
  name: cache
  namespace: default
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: cache-7c9d, uid: 1c9f8d2b-4e3a-5f6b-0c7d-8e9f0a1b2c3d, controller: true}
spec:
  nodeName: pi-1
  containers:
  - {name: redis, image: redis:7}
  volumes:
  - {name: data, emptyDir: {}}
status:
  phase: Running
  podIP: 10.42.0.6
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  namespace: default
spec:
  nodeName: pi-1
  containers:
  - {name: main, image: busybox:1.36}
status:
  phase: Running
  podIP: 10.42.0.7
---
apiVersion: v1
kind: Pod
metadata:
  name: done
  namespace: default
spec:
  nodeName: pi-1
  restartPolicy: Never
  containers:
  - {name: main, image: busybox:1.36}
status:
  phase: Succeeded
---
apiVersion: v1
kind: Pod
metadata:
  name: other
  namespace: default
spec:
  nodeName: pi-2
  containers:
  - {name: main, image: busybox:1.36}
status:
  phase: Running
  podIP: 10.42.1.9
---
apiVersion: v1
kind: Pod
metadata:
  name: waiting
  namespace: default
spec:
  containers:
  - {name: main, image: busybox:1.36}
)";

// Writes the objects of `yaml`, status included, into the store under `data_dir`.
void Seed(const std::string& data_dir, const std::string& yaml) {
  auto objects = manifest::ParseManifest("seed.yaml", yaml);
  REQUIRE_MESSAGE(objects.ok(), objects.status().ToString());
  REQUIRE(MakeDirs(data_dir, 0700).ok());
  auto store = store::OpenSqliteStore(data_dir + "/reef.db");
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  auto written = (*store)->Update([&](store::Txn& txn) -> absl::Status {
    for (const auto& o : *objects) RETURN_IF_ERROR(txn.Create(o).status());
    return absl::OkStatus();
  });
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
}

// A controller whose store already holds kNodes and kPods. Its control loops are off,
// so that the seeded objects stand as they are: no agent renews the nodes' leases, the
// pods' ReplicaSets are not in the store, and the DaemonSet in the drain test would
// make pods of its own.
struct NodeCluster {
  TempDir dir;
  std::unique_ptr<Controller> controller;
  NodeCluster() {
    Seed(dir.path() + "/data", reef::StrCat(kNodes, "---", kPods));
    controller = std::make_unique<Controller>(dir.path() + "/data",
                                              std::vector<std::string>{"--controllers=-*"});
  }
  RunResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") const {
    return controller->Ctl(args, stdin_data);
  }
  // Runs reefctl and requires success.
  std::string Ok(const std::vector<std::string>& args, const std::string& stdin_data = "") const {
    RunResult r = Ctl(args, stdin_data);
    INFO("reefctl ", args.front(), ": ", r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
};

// A table's rows, cells split where reefctl puts three or more spaces.
std::vector<std::vector<std::string>> Table(const std::string& out) {
  static const std::regex kGap(" {3,}");
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    rows.emplace_back(std::sregex_token_iterator(line.begin(), line.end(), kGap, -1),
                      std::sregex_token_iterator());
  }
  return rows;
}

// The row whose first cell is `name`; fails the test when there is none.
std::vector<std::string> RowOf(const std::string& out, const std::string& name) {
  for (auto& row : Table(out)) {
    if (!row.empty() && row[0] == name) return row;
  }
  FAIL("no row ", name, " in:\n", out);
  return {};
}

using Cells = std::vector<std::string>;

TEST_CASE("get nodes: kubectl's columns, and -o wide adds ARCH and the node's facts") {
  NodeCluster cluster;
  std::string out = cluster.Ok({"get", "nodes"});
  CHECK(Table(out)[0] == Cells{"NAME", "STATUS", "ROLES", "AGE", "VERSION"});
  Cells pi1 = RowOf(out, "pi-1");
  CHECK(pi1[1] == "Ready");
  CHECK(pi1[2] == "edge");
  CHECK(pi1[4] == "v0.1.0");
  CHECK(RowOf(out, "pi-2")[1] == "NotReady");
  CHECK(RowOf(out, "pi-2")[2] == "<none>");
  CHECK(RowOf(out, "gw-1")[1] == "Unknown");

  out = cluster.Ok({"get", "no", "-o", "wide"});
  CHECK(Table(out)[0] == Cells{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "ARCH",
                               "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION",
                               "CONTAINER-RUNTIME"});
  pi1 = RowOf(out, "pi-1");
  CHECK(Cells(pi1.begin() + 5, pi1.end()) ==
        Cells{"arm64", "10.0.0.11", "<none>", "Debian GNU/Linux 12 (bookworm)",
              "6.1.0-rpi7-rpi-v8", "runc://1.1.5+ds1"});
  CHECK(RowOf(out, "pi-2")[5] == "arm");
  CHECK(RowOf(out, "gw-1")[5] == "<unknown>");
}

TEST_CASE("get pods -o wide: IP and NODE, kubectl's columns") {
  NodeCluster cluster;
  std::string out = cluster.Ok({"get", "pods", "-o", "wide"});
  CHECK(Table(out)[0] == Cells{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                               "NOMINATED NODE", "READINESS GATES"});
  Cells web = RowOf(out, "web-1");
  CHECK(web[1] == "1/1");
  CHECK(web[2] == "Running");
  CHECK(Cells(web.begin() + 5, web.end()) == Cells{"10.42.0.5", "pi-1", "<none>", "<none>"});
  CHECK(RowOf(out, "other")[6] == "pi-2");
  Cells waiting = RowOf(out, "waiting");
  CHECK(Cells(waiting.begin() + 5, waiting.end()) ==
        Cells{"<none>", "<none>", "<none>", "<none>"});
}

TEST_CASE("describe node: status, and the pods on it against allocatable") {
  NodeCluster cluster;
  std::string out = cluster.Ok({"describe", "node", "pi-1"});
  INFO(out);
  CHECK(Contains(out, "Name:               pi-1\nRoles:              edge\nLabels:"));
  CHECK(Contains(out, "Unschedulable:      false\n"));
  CHECK(Contains(out, "  Ready            True    "));
  CHECK(Contains(out, "  InternalIP:  10.0.0.11\n"));
  CHECK(Contains(out, "  OS Image:                   Debian GNU/Linux 12 (bookworm)\n"));
  // web-1, cache and solo; not the finished pod, nor pi-2's.
  CHECK(Contains(out, "Non-terminated Pods:          (3 in total)\n"));
  CHECK(std::regex_search(out, std::regex("\n  default +web-1 +250m \\(6%\\) +500m \\(12%\\) +"
                                          "64Mi \\(1%\\) +128Mi \\(3%\\) ")));
  CHECK(!Contains(out, " done "));
  CHECK(!Contains(out, " other "));
  CHECK(std::regex_search(out, std::regex("\n  cpu +250m \\(6%\\) +500m \\(12%\\)\n")));
  CHECK(std::regex_search(out, std::regex("\n  memory +64Mi \\(1%\\) +128Mi \\(3%\\)\n")));
  CHECK(Contains(out, "\nEvents:"));

  out = cluster.Ok({"describe", "node", "pi-2"});
  CHECK(Contains(out, "Non-terminated Pods:          (1 in total)\n"));
}

TEST_CASE("cordon and uncordon: SchedulingDisabled, kubectl's messages, status kept") {
  NodeCluster cluster;
  CHECK(cluster.Ok({"cordon", "pi-1"}) == "node/pi-1 cordoned\n");
  CHECK(cluster.Ok({"cordon", "pi-1"}) == "node/pi-1 already cordoned\n");
  // The agent's status survives the write of the spec.
  CHECK(RowOf(cluster.Ok({"get", "nodes"}), "pi-1")[1] == "Ready,SchedulingDisabled");
  CHECK(Contains(cluster.Ok({"describe", "node", "pi-1"}), "Unschedulable:      true\n"));
  CHECK(cluster.Ok({"uncordon", "pi-1"}) == "node/pi-1 uncordoned\n");
  CHECK(cluster.Ok({"uncordon", "pi-1"}) == "node/pi-1 already uncordoned\n");
  CHECK(RowOf(cluster.Ok({"get", "nodes"}), "pi-1")[1] == "Ready");

  RunResult missing = cluster.Ctl({"cordon", "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "error: "));
  CHECK(Contains(missing.err, "nope"));
}

TEST_CASE("label: add, refuse to change without --overwrite, change, remove") {
  NodeCluster cluster;
  CHECK(cluster.Ok({"label", "node", "pi-1", "zone=north"}) == "node/pi-1 labeled\n");
  CHECK(Contains(cluster.Ok({"get", "no", "pi-1", "-o", "yaml"}), "zone: north"));
  CHECK(cluster.Ok({"label", "node", "pi-1", "zone=north"}) == "node/pi-1 not labeled\n");

  RunResult refused = cluster.Ctl({"label", "node", "pi-1", "zone=south"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "error: 'zone' already has a value (north), and --overwrite is false\n");
  CHECK(Contains(cluster.Ok({"get", "no", "pi-1", "-o", "yaml"}), "zone: north"));

  CHECK(cluster.Ok({"label", "no/pi-1", "zone=south", "--overwrite"}) == "node/pi-1 labeled\n");
  CHECK(Contains(cluster.Ok({"get", "no", "pi-1", "-o", "yaml"}), "zone: south"));
  CHECK(cluster.Ok({"label", "node", "pi-1", "zone-"}) == "node/pi-1 unlabeled\n");
  CHECK(!Contains(cluster.Ok({"get", "no", "pi-1", "-o", "yaml"}), "zone:"));
  CHECK(cluster.Ok({"label", "node", "pi-1", "zone-"}) ==
        "label \"zone\" not found.\nnode/pi-1 not labeled\n");
  // The agent's status survives, and a role label shows in ROLES.
  cluster.Ok({"label", "node", "pi-2", "node-role.kubernetes.io/gateway="});
  Cells pi2 = RowOf(cluster.Ok({"get", "nodes"}), "pi-2");
  CHECK(pi2[1] == "NotReady");
  CHECK(pi2[2] == "gateway");

  // Namespaced kinds take -n.
  CHECK(cluster.Ok({"label", "pod", "web-1", "tier=front", "-n", "default"}) ==
        "pod/web-1 labeled\n");
  CHECK(Contains(cluster.Ok({"get", "pods", "-l", "tier=front", "-o", "name"}), "pod/web-1"));

  RunResult bad = cluster.Ctl({"label", "node", "pi-1", "zone"});
  CHECK(bad.exit_code == 1);
  CHECK(Contains(bad.err, "unknown label spec: zone"));
  bad = cluster.Ctl({"label", "node", "pi-1", "a=1", "a-"});
  CHECK(bad.err == "error: can not both modify and remove a label in the same command\n");
  bad = cluster.Ctl({"label", "node", "pi-1", "bad key=1"});
  CHECK(bad.exit_code == 1);
}

TEST_CASE("drain: refuses what it would lose, then deletes the node's pods") {
  NodeCluster cluster;
  // A DaemonSet pod on pi-1, owned by a real DaemonSet.
  cluster.Ok({"apply", "-f", "-"}, R"(
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox:1.36}]
)");
  std::string uid = YamlField(cluster.Ok({"get", "ds", "agent", "-o", "yaml"}), "uid");
  REQUIRE(!uid.empty());
  cluster.Ok({"apply", "-f", "-"}, reef::StrCat(R"(
apiVersion: v1
kind: Pod
metadata:
  name: agent-pi-1
  namespace: default
  labels: {app: agent}
  ownerReferences:
  - {apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: )", uid, R"(, controller: true}
spec:
  nodeName: pi-1
  containers: [{name: agent, image: busybox:1.36}]
)"));

  RunResult refused = cluster.Ctl({"drain", "pi-1"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out == "node/pi-1 cordoned\n");
  CHECK(refused.err ==
        "error: unable to drain node \"pi-1\" (it stays cordoned):\n"
        "error: cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "
        "default/agent-pi-1\n"
        "error: cannot delete Pods with local storage (use --delete-emptydir-data to override): "
        "default/cache\n"
        "error: cannot delete Pods declare no controller (use --force to override): "
        "default/solo\n");
  std::string pods = cluster.Ok({"get", "pods", "-o", "wide"});
  for (const char* name : {"web-1", "cache", "solo", "done", "agent-pi-1"}) {
    CHECK(RowOf(pods, name)[6] == "pi-1");
  }
  CHECK(RowOf(cluster.Ok({"get", "nodes"}), "pi-1")[1] == "Ready,SchedulingDisabled");

  refused = cluster.Ctl({"drain", "pi-1", "--ignore-daemonsets", "--delete-emptydir-data"});
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err, "cannot delete Pods declare no controller"));
  CHECK(!Contains(refused.err, "DaemonSet"));

  RunResult bad = cluster.Ctl({"drain", "pi-1", "--timeout", "soon"});
  CHECK(bad.exit_code == 1);
  CHECK(Contains(bad.err, "--timeout \"soon\""));

  RunResult drained = cluster.Ctl({"drain", "pi-1", "--ignore-daemonsets",
                                   "--delete-emptydir-data", "--force", "--timeout", "30s"});
  INFO(drained.err);
  CHECK(drained.exit_code == 0);
  CHECK(drained.err ==
        "Warning: ignoring DaemonSet-managed Pods: default/agent-pi-1; deleting Pods with "
        "local storage: default/cache; deleting Pods that declare no controller: "
        "default/solo\n");
  CHECK(Contains(drained.out, "node/pi-1 already cordoned\n"));
  for (const char* name : {"web-1", "cache", "solo", "done"}) {
    CHECK(Contains(drained.out, reef::StrCat("pod/", name, " deleted\n")));
  }
  CHECK(drained.out.ends_with("node/pi-1 drained\n"));

  pods = cluster.Ok({"get", "pods", "-o", "name"});
  CHECK(pods == "pod/agent-pi-1\npod/other\npod/waiting\n");
}

}  // namespace
}  // namespace reef::testing
