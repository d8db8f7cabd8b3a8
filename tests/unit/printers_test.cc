// `reefctl get` tables: kubectl's columns and cells, kind by kind.

#include "cli/printers.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "api/manifest/kinds.h"
#include "common/clock.h"

namespace reef::cli {
namespace {

using reef::v1::Object;

const absl::Time kNow = absl::FromUnixSeconds(1796302982) + absl::Hours(5);  // 18:03:02Z
constexpr char kCreated[] = "2026-12-03T13:03:02Z";                          // 5h before

TableOptions Wide() { return TableOptions{true, false, kNow}; }
TableOptions Narrow() { return TableOptions{false, false, kNow}; }

Row Header(std::string_view kind, const TableOptions& o) {
  return TableHeader(*manifest::FindKind(kind), o);
}

// ---- nodes ------------------------------------------------------------------------

Object Node(std::string_view name) {
  Object o;
  o.mutable_node()->mutable_metadata()->set_name(std::string(name));
  o.mutable_node()->mutable_metadata()->set_creation_timestamp(kCreated);
  return o;
}

void SetReady(Object& o, std::string_view status) {
  auto* c = o.mutable_node()->mutable_status()->add_conditions();
  c->set_type("MemoryPressure");
  c->set_status("False");
  c = o.mutable_node()->mutable_status()->add_conditions();
  c->set_type("Ready");
  c->set_status(std::string(status));
}

void AddAddress(Object& o, std::string_view type, std::string_view address) {
  auto* a = o.mutable_node()->mutable_status()->add_addresses();
  a->set_type(std::string(type));
  a->set_address(std::string(address));
}

TEST_CASE("get nodes: NAME STATUS ROLES AGE VERSION, and -o wide adds ARCH and kubectl's facts") {
  CHECK(Header("Node", Narrow()) == Row{"NAME", "STATUS", "ROLES", "AGE", "VERSION"});
  CHECK(Header("Node", Wide()) == Row{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "ARCH",
                                      "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
                                      "KERNEL-VERSION", "CONTAINER-RUNTIME"});
  Object pi = Node("pi-1");
  SetReady(pi, "True");
  auto& labels = *pi.mutable_node()->mutable_metadata()->mutable_labels();
  labels["node-role.kubernetes.io/gateway"] = "";
  labels["node-role.kubernetes.io/edge"] = "true";
  labels["kubernetes.io/arch"] = "arm64";
  AddAddress(pi, "Hostname", "pi-1");
  AddAddress(pi, "InternalIP", "10.0.0.11");
  auto* info = pi.mutable_node()->mutable_status()->mutable_node_info();
  info->set_kubelet_version("v0.1.0");
  info->set_architecture("arm64");
  info->set_os_image("Debian GNU/Linux 12 (bookworm)");
  info->set_kernel_version("6.1.0-rpi7-rpi-v8");
  info->set_container_runtime_version("runc://1.1.5+ds1");

  CHECK(TableRow(pi, Narrow()) == Row{"pi-1", "Ready", "edge,gateway", "5h", "v0.1.0"});
  CHECK(TableRow(pi, Wide()) == Row{"pi-1", "Ready", "edge,gateway", "5h", "v0.1.0", "arm64",
                                    "10.0.0.11", "<none>", "Debian GNU/Linux 12 (bookworm)",
                                    "6.1.0-rpi7-rpi-v8", "runc://1.1.5+ds1"});

  // A node that never reported: Unknown, and kubectl's placeholders.
  Object fresh = Node("new");
  fresh.mutable_node()->mutable_spec()->set_unschedulable(true);
  CHECK(TableRow(fresh, Wide()) == Row{"new", "Unknown,SchedulingDisabled", "<none>", "5h",
                                       "<none>", "<unknown>", "<none>", "<none>", "<unknown>",
                                       "<unknown>", "<unknown>"});
}

TEST_CASE("NodeStatusText and NodeRoles as kubectl's") {
  Object n = Node("n");
  CHECK(NodeStatusText(n.node()) == "Unknown");
  SetReady(n, "Unknown");
  CHECK(NodeStatusText(n.node()) == "NotReady");
  n.mutable_node()->mutable_spec()->set_unschedulable(true);
  CHECK(NodeStatusText(n.node()) == "NotReady,SchedulingDisabled");
  n.mutable_node()->mutable_status()->mutable_conditions(1)->set_status("True");
  CHECK(NodeStatusText(n.node()) == "Ready,SchedulingDisabled");

  auto& labels = *n.mutable_node()->mutable_metadata()->mutable_labels();
  CHECK(NodeRoles(n.node().metadata()) == "");
  labels["node-role.kubernetes.io/"] = "";  // no role name: not a role
  labels["kubernetes.io/role"] = "worker";
  labels["node-role.kubernetes.io/worker"] = "";
  labels["node-role.kubernetes.io/camera"] = "";
  CHECK(NodeRoles(n.node().metadata()) == "camera,worker");
}

TEST_CASE("ExternalIP shows when the node reports one") {
  Object gw = Node("gw");
  AddAddress(gw, "ExternalIP", "203.0.113.7");
  AddAddress(gw, "InternalIP", "10.0.0.1");
  Row row = TableRow(gw, Wide());
  REQUIRE(row.size() == 11);
  CHECK(row[6] == "10.0.0.1");
  CHECK(row[7] == "203.0.113.7");
}

// ---- pods -------------------------------------------------------------------------

Object Pod(std::string_view name) {
  Object o;
  auto* pod = o.mutable_pod();
  pod->mutable_metadata()->set_name(std::string(name));
  pod->mutable_metadata()->set_namespace_("default");
  pod->mutable_metadata()->set_creation_timestamp(kCreated);
  pod->mutable_spec()->add_containers()->set_name("main");
  return o;
}

TEST_CASE("get pods -o wide: IP, NODE, NOMINATED NODE, READINESS GATES") {
  CHECK(Header("Pod", Narrow()) == Row{"NAME", "READY", "STATUS", "RESTARTS", "AGE"});
  CHECK(Header("Pod", Wide()) == Row{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                                     "NOMINATED NODE", "READINESS GATES"});
  Object web = Pod("web-1");
  web.mutable_pod()->mutable_spec()->set_node_name("pi-1");
  auto* status = web.mutable_pod()->mutable_status();
  status->set_phase("Running");
  status->set_pod_ip("10.42.0.5");
  auto* cs = status->add_container_statuses();
  cs->set_name("main");
  cs->set_ready(true);
  cs->mutable_state()->mutable_running()->set_started_at(kCreated);
  CHECK(TableRow(web, Wide()) ==
        Row{"web-1", "1/1", "Running", "0", "5h", "10.42.0.5", "pi-1", "<none>", "<none>"});

  // Not scheduled yet: no IP, no node.
  CHECK(TableRow(Pod("pending"), Wide()) ==
        Row{"pending", "0/1", "Pending", "0", "5h", "<none>", "<none>", "<none>", "<none>"});
}

TEST_CASE("get pods: RESTARTS says how long ago the last restart was, as kubectl") {
  Object crashy = Pod("crashy");
  auto* status = crashy.mutable_pod()->mutable_status();
  status->set_phase("Running");
  auto* cs = status->add_container_statuses();
  cs->set_restart_count(3);
  CHECK(TableRow(crashy, Narrow())[3] == "3");  // no finish time known
  cs->mutable_last_state()->mutable_terminated()->set_finished_at("2026-12-03T17:58:02Z");
  CHECK(TableRow(crashy, Narrow())[3] == "3 (5m ago)");
  // Summed over containers; the latest restart counts.
  auto* other = status->add_container_statuses();
  other->set_restart_count(1);
  other->mutable_last_state()->mutable_terminated()->set_finished_at("2026-12-03T18:02:02Z");
  CHECK(TableRow(crashy, Narrow())[3] == "4 (60s ago)");
}

}  // namespace
}  // namespace reef::cli
