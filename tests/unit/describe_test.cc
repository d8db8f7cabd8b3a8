#include "cli/describe_printer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cli/describe_writer.h"

namespace reef::cli {
namespace {

using reef::v1::Object;

// 2026-12-03T13:03:02Z, the creation time of most test objects.
const absl::Time kCreated = absl::FromUnixSeconds(1796302982);

// The output's lines, trailing blanks removed (kubectl leaves some after table cells).
std::vector<std::string> Lines(const std::string& out) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    lines.emplace_back(absl::StripTrailingAsciiWhitespace(line));
  }
  return lines;
}

// Checks that `want` is one of the lines of `out`.
void CheckLine(const std::string& out, std::string_view want) {
  std::vector<std::string> lines = Lines(out);
  INFO("output:\n", out);
  INFO("expected line: ", std::string(want));
  CHECK(std::find(lines.begin(), lines.end(), want) != lines.end());
}

// Checks that `want` appears as consecutive lines of `out`.
void CheckBlock(const std::string& out, const std::vector<std::string>& want) {
  std::vector<std::string> lines = Lines(out);
  bool found = false;
  for (size_t i = 0; i + want.size() <= lines.size() && !found; ++i) {
    found = std::equal(want.begin(), want.end(), lines.begin() + static_cast<ptrdiff_t>(i));
  }
  INFO("output:\n", out);
  INFO("expected block starting: ", want.front());
  CHECK(found);
}

void SetMeta(reef::v1::ObjectMeta* meta, std::string_view name, std::string_view ns = "") {
  meta->set_name(std::string(name));
  meta->set_namespace_(std::string(ns));
  meta->set_creation_timestamp("2026-12-03T13:03:02Z");
}

Object Event(std::string_view type, std::string_view reason, std::string_view message,
             std::string_view first, std::string_view last, int count) {
  Object o;
  reef::v1::Event* e = o.mutable_event();
  SetMeta(e->mutable_metadata(), "web-1.abc", "default");
  e->set_type(std::string(type));
  e->set_reason(std::string(reason));
  e->set_message(std::string(message));
  e->set_first_timestamp(std::string(first));
  e->set_last_timestamp(std::string(last));
  e->set_count(count);
  e->mutable_source()->set_component("reef-agent");
  e->mutable_involved_object()->set_kind("Pod");
  e->mutable_involved_object()->set_namespace_("default");
  e->mutable_involved_object()->set_name("web-1");
  return o;
}

// ---- the writer -----------------------------------------------------------------

TEST_CASE("DescribeWriter aligns columns over runs of lines, like Go's tabwriter") {
  describe::DescribeWriter w;
  w.Field(0, "Name", "web");
  w.Field(0, "CreationTimestamp", "now");
  w.Line(0, {"", "continued"});
  w.Heading(0, "Containers");  // ends the run: what follows is sized on its own
  w.Field(1, "Image", "nginx");
  w.Field(2, "Started", "yes");  // deeper, but in the same run
  w.Line(1, {"Type", "Status", "Reason"});
  w.Line(1, {"Available", "True", "Ok"});
  w.Field(0, "Empty", "");
  w.Blank();
  w.Text("free\ttext");
  CHECK(w.Render() ==
        "Name:               web\n"
        "CreationTimestamp:  now\n"
        "                    continued\n"
        "Containers:\n"
        "  Image:      nginx\n"
        "    Started:  yes\n"
        "  Type        Status  Reason\n"
        "  Available   True    Ok\n"
        "Empty:        <none>\n"
        "\n"
        "free\ttext\n");
}

TEST_CASE("DescribeTime prints kubectl's RFC 1123 form") {
  CHECK(describe::DescribeTime("2026-12-03T13:03:02Z") == "Thu, 03 Dec 2026 13:03:02 +0000");
  CHECK(describe::DescribeTime("") == "<none>");
  CHECK(describe::DescribeTime("yesterday") == "yesterday");
}

// ---- Pod ------------------------------------------------------------------------

Object FullPod() {
  Object o;
  reef::v1::Pod* pod = o.mutable_pod();
  SetMeta(pod->mutable_metadata(), "web-1", "default");
  (*pod->mutable_metadata()->mutable_labels())["app"] = "web";
  (*pod->mutable_metadata()->mutable_labels())["tier"] = "frontend";
  (*pod->mutable_metadata()->mutable_annotations())["owner"] = "team-a";
  auto* owner = pod->mutable_metadata()->add_owner_references();
  owner->set_kind("DaemonSet");
  owner->set_name("web");
  owner->set_controller(true);

  reef::v1::PodSpec* spec = pod->mutable_spec();
  spec->set_node_name("pi-1");
  (*spec->mutable_node_selector())["disk"] = "ssd";
  auto* tol = spec->add_tolerations();
  tol->set_key("node.reef.io/unreachable");
  tol->set_operator_("Exists");
  tol->set_effect("NoExecute");
  tol->set_toleration_seconds(300);

  reef::v1::Container* c = spec->add_containers();
  c->set_name("nginx");
  c->set_image("nginx:1.25");
  auto* port = c->add_ports();
  port->set_container_port(80);
  port->set_protocol("TCP");
  c->add_command("nginx");
  c->add_args("-g");
  c->add_args("daemon off;");
  (*c->mutable_resources()->mutable_limits())["memory"] = "128Mi";
  (*c->mutable_resources()->mutable_limits())["cpu"] = "500m";
  (*c->mutable_resources()->mutable_requests())["cpu"] = "250m";
  auto* http = c->mutable_liveness_probe()->mutable_http_get();
  http->set_path("/");
  http->set_port("80");
  c->mutable_readiness_probe()->mutable_tcp_socket()->set_port("80");
  c->mutable_readiness_probe()->set_period_seconds(5);
  auto* env = c->add_env();
  env->set_name("MODE");
  env->set_value("production");
  env = c->add_env();
  env->set_name("LEVEL");
  env->mutable_value_from()->mutable_config_map_key_ref()->set_name("settings");
  env->mutable_value_from()->mutable_config_map_key_ref()->set_key("level");
  auto* mount = c->add_volume_mounts();
  mount->set_name("cache");
  mount->set_mount_path("/data");
  mount->set_read_only(true);
  mount = c->add_volume_mounts();
  mount->set_name("config");
  mount->set_mount_path("/etc/nginx");

  auto* v = spec->add_volumes();
  v->set_name("cache");
  v->mutable_empty_dir()->set_medium("Memory");
  v = spec->add_volumes();
  v->set_name("config");
  v->mutable_config_map()->set_name("nginx-conf");
  v = spec->add_volumes();
  v->set_name("logs");
  v->mutable_host_path()->set_path("/var/log/web");
  v->mutable_host_path()->set_type("DirectoryOrCreate");

  reef::v1::PodStatus* status = pod->mutable_status();
  status->set_phase("Running");
  status->set_host_ip("10.0.0.5");
  status->set_pod_ip("10.42.0.7");
  status->set_start_time("2026-12-03T13:03:05Z");
  auto* cs = status->add_container_statuses();
  cs->set_name("nginx");
  cs->set_container_id("reef://4f2a");
  cs->set_image_id("sha256:abcd");
  cs->set_ready(true);
  cs->set_restart_count(1);
  cs->mutable_state()->mutable_running()->set_started_at("2026-12-03T13:04:00Z");
  auto* last = cs->mutable_last_state()->mutable_terminated();
  last->set_reason("Error");
  last->set_exit_code(137);
  last->set_started_at("2026-12-03T13:03:06Z");
  last->set_finished_at("2026-12-03T13:03:59Z");
  for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    auto* cond = status->add_conditions();
    cond->set_type(type);
    cond->set_status("True");
  }
  return o;
}

TEST_CASE("Pod: the whole description, laid out as kubectl's") {
  std::string out = DescribeObject(FullPod(), {}, kCreated);
  CHECK(out ==
        "Name:               web-1\n"
        "Namespace:          default\n"
        "Labels:             app=web\n"
        "                    tier=frontend\n"
        "Annotations:        owner: team-a\n"
        "CreationTimestamp:  Thu, 03 Dec 2026 13:03:02 +0000\n"
        "Node:               pi-1/10.0.0.5\n"
        "Start Time:         Thu, 03 Dec 2026 13:03:05 +0000\n"
        "Status:             Running\n"
        "IP:                 10.42.0.7\n"
        "Controlled By:      DaemonSet/web\n"
        "Containers:\n"
        "  nginx:\n"
        "    Container ID:  reef://4f2a\n"
        "    Image:         nginx:1.25\n"
        "    Image ID:      sha256:abcd\n"
        "    Port:          80/TCP\n"
        "    Host Port:     0/TCP\n"
        "    Command:\n"
        "      nginx\n"
        "    Args:\n"
        "      -g\n"
        "      daemon off;\n"
        "    State:          Running\n"
        "      Started:      Thu, 03 Dec 2026 13:04:00 +0000\n"
        "    Last State:     Terminated\n"
        "      Reason:       Error\n"
        "      Exit Code:    137\n"
        "      Started:      Thu, 03 Dec 2026 13:03:06 +0000\n"
        "      Finished:     Thu, 03 Dec 2026 13:03:59 +0000\n"
        "    Ready:          True\n"
        "    Restart Count:  1\n"
        "    Limits:\n"
        "      cpu:     500m\n"
        "      memory:  128Mi\n"
        "    Requests:\n"
        "      cpu:      250m\n"
        "    Liveness:   http-get http://:80/ delay=0s timeout=1s period=10s #success=1 "
        "#failure=3\n"
        "    Readiness:  tcp-socket :80 delay=0s timeout=1s period=5s #success=1 #failure=3\n"
        "    Environment:\n"
        "      MODE:   production\n"
        "      LEVEL:  <set to the key 'level' of config map 'settings'>  Optional: false\n"
        "    Mounts:\n"
        "      /data from cache (ro)\n"
        "      /etc/nginx from config (rw)\n"
        "Conditions:\n"
        "  Type              Status\n"
        "  Initialized       True \n"
        "  Ready             True \n"
        "  ContainersReady   True \n"
        "  PodScheduled      True \n"
        "Volumes:\n"
        "  cache:\n"
        "    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n"
        "    Medium:     Memory\n"
        "    SizeLimit:  <unset>\n"
        "  config:\n"
        "    Type:      ConfigMap (a volume populated by a ConfigMap)\n"
        "    Name:      nginx-conf\n"
        "    Optional:  false\n"
        "  logs:\n"
        "    Type:          HostPath (bare host directory volume)\n"
        "    Path:          /var/log/web\n"
        "    HostPathType:  DirectoryOrCreate\n"
        "Node-Selectors:    disk=ssd\n"
        "Tolerations:       node.reef.io/unreachable:NoExecute op=Exists for 300s\n"
        "Events:            <none>\n");
}

TEST_CASE("Pod: what is empty prints <none>, an unscheduled pod is Pending") {
  Object o;
  SetMeta(o.mutable_pod()->mutable_metadata(), "lonely", "default");
  o.mutable_pod()->mutable_metadata()->clear_creation_timestamp();
  std::string out = DescribeObject(o, {}, kCreated);
  CheckLine(out, "Labels:             <none>");
  CheckLine(out, "Annotations:        <none>");
  CheckLine(out, "CreationTimestamp:  <none>");
  CheckLine(out, "Node:               <none>");
  CheckLine(out, "Status:             Pending");
  CheckLine(out, "IP:                 <none>");
  CHECK(out.find("Start Time") == std::string::npos);
  CHECK(out.find("Init Containers") == std::string::npos);
  CheckLine(out, "Containers: <none>");
  CheckLine(out, "Conditions:      <none>");
  CheckLine(out, "Volumes:         <none>");
  CheckLine(out, "Node-Selectors:  <none>");
  CheckLine(out, "Tolerations:     <none>");
  CheckLine(out, "Events:          <none>");
}

TEST_CASE("Pod: init containers, waiting and terminated states, env sources") {
  Object o = FullPod();
  reef::v1::Pod* pod = o.mutable_pod();
  auto* init = pod->mutable_spec()->add_init_containers();
  init->set_name("migrate");
  init->set_image("migrate:1");
  init->mutable_liveness_probe()->mutable_exec()->add_command("cat");
  init->mutable_liveness_probe()->mutable_exec()->add_command("/tmp/ok");
  auto* is = pod->mutable_status()->add_init_container_statuses();
  is->set_name("migrate");
  auto* done = is->mutable_state()->mutable_terminated();
  done->set_reason("Completed");
  done->set_exit_code(0);
  done->set_started_at("2026-12-03T13:03:05Z");
  done->set_finished_at("2026-12-03T13:03:06Z");

  auto* c = pod->mutable_spec()->mutable_containers(0);
  auto* p2 = c->add_ports();
  p2->set_container_port(53);
  p2->set_host_port(5353);
  p2->set_protocol("UDP");
  auto* secret_env = c->add_env();
  secret_env->set_name("TOKEN");
  secret_env->mutable_value_from()->mutable_secret_key_ref()->set_name("creds");
  secret_env->mutable_value_from()->mutable_secret_key_ref()->set_key("token");
  secret_env->mutable_value_from()->mutable_secret_key_ref()->set_optional(true);
  auto* from = c->add_env_from();
  from->set_prefix("APP_");
  from->mutable_config_map_ref()->set_name("settings");
  auto* waiting = pod->mutable_status()->mutable_container_statuses(0)->mutable_state();
  waiting->clear_running();
  waiting->mutable_waiting()->set_reason("CrashLoopBackOff");

  std::string out = DescribeObject(o, {}, kCreated);
  CheckBlock(out, {"Init Containers:", "  migrate:"});
  CheckLine(out, "    Liveness:       exec [cat /tmp/ok] delay=0s timeout=1s period=10s "
                     "#success=1 #failure=3");
  CheckBlock(out, {"    State:          Terminated", "      Reason:       Completed",
                   "      Exit Code:    0"});
  CheckLine(out, "    Ports:         80/TCP, 53/UDP");
  CheckLine(out, "    Host Ports:    0/TCP, 5353/UDP");
  CheckBlock(out, {"    State:          Waiting", "      Reason:       CrashLoopBackOff"});
  CheckLine(out, "      settings  ConfigMap with prefix 'APP_'  Optional: false");
  CheckLine(out, "      TOKEN:  <set to the key 'token' in secret 'creds'>         "
                     "Optional: true");
  // The init container's section comes first.
  CHECK(out.find("Init Containers:") < out.find("\nContainers:"));
}

// ---- apps -----------------------------------------------------------------------

Object WebDeployment() {
  Object o;
  reef::v1::Deployment* d = o.mutable_deployment();
  SetMeta(d->mutable_metadata(), "web", "default");
  (*d->mutable_spec()->mutable_selector()->mutable_match_labels())["app"] = "web";
  d->mutable_spec()->set_replicas(3);
  d->mutable_spec()->mutable_strategy()->set_type("RollingUpdate");
  d->mutable_spec()->mutable_strategy()->mutable_rolling_update()->set_max_unavailable("1");
  d->mutable_spec()->mutable_strategy()->mutable_rolling_update()->set_max_surge("50%");
  auto* tmpl = d->mutable_spec()->mutable_template_();
  (*tmpl->mutable_metadata()->mutable_labels())["app"] = "web";
  (*tmpl->mutable_metadata()->mutable_labels())["track"] = "stable";
  auto* c = tmpl->mutable_spec()->add_containers();
  c->set_name("nginx");
  c->set_image("nginx:1.25");
  c->add_ports()->set_container_port(80);
  d->mutable_status()->set_replicas(3);
  d->mutable_status()->set_updated_replicas(2);
  d->mutable_status()->set_available_replicas(2);
  d->mutable_status()->set_unavailable_replicas(1);
  auto* cond = d->mutable_status()->add_conditions();
  cond->set_type("Available");
  cond->set_status("False");
  cond->set_reason("MinimumReplicasUnavailable");
  cond = d->mutable_status()->add_conditions();
  cond->set_type("Progressing");
  cond->set_status("True");
  cond->set_reason("ReplicaSetUpdated");
  return o;
}

TEST_CASE("Deployment: replicas, strategy, pod template, conditions") {
  std::string out = DescribeObject(WebDeployment(), {}, kCreated);
  CHECK(out ==
        "Name:                   web\n"
        "Namespace:              default\n"
        "Labels:                 <none>\n"
        "Annotations:            <none>\n"
        "CreationTimestamp:      Thu, 03 Dec 2026 13:03:02 +0000\n"
        "Selector:               app=web\n"
        "Replicas:               3 desired | 2 updated | 3 total | 2 available | 1 unavailable\n"
        "StrategyType:           RollingUpdate\n"
        "MinReadySeconds:        0\n"
        "RollingUpdateStrategy:  1 max unavailable, 50% max surge\n"
        "Pod Template:\n"
        "  Labels:  app=web\n"
        "           track=stable\n"
        "  Containers:\n"
        "   nginx:\n"
        "    Image:         nginx:1.25\n"
        "    Port:          80/TCP\n"
        "    Host Port:     0/TCP\n"
        "    Environment:   <none>\n"
        "    Mounts:        <none>\n"
        "  Volumes:         <none>\n"
        "  Node-Selectors:  <none>\n"
        "  Tolerations:     <none>\n"
        "Conditions:\n"
        "  Type          Status  Reason\n"
        "  ----          ------  ------\n"
        "  Available     False   MinimumReplicasUnavailable\n"
        "  Progressing   True    ReplicaSetUpdated\n"
        "Events:         <none>\n");
}

TEST_CASE("Deployment: unset fields show the API server's defaults") {
  Object o;
  SetMeta(o.mutable_deployment()->mutable_metadata(), "bare", "default");
  std::string out = DescribeObject(o, {}, kCreated);
  CheckLine(out, "Selector:               <none>");
  CheckLine(out, "Replicas:               1 desired | 0 updated | 0 total | 0 available | "
                     "0 unavailable");
  CheckLine(out, "StrategyType:           RollingUpdate");
  CheckLine(out, "RollingUpdateStrategy:  25% max unavailable, 25% max surge");
  CheckLine(out, "  Containers: <none>");
  CheckLine(out, "Conditions:        <none>");

  o.mutable_deployment()->mutable_spec()->mutable_strategy()->set_type("Recreate");
  out = DescribeObject(o, {}, kCreated);
  CheckLine(out, "StrategyType:       Recreate");
  CHECK(out.find("RollingUpdateStrategy") == std::string::npos);
}

TEST_CASE("DaemonSet: node counts, pods status, template with volumes and tolerations") {
  Object o;
  reef::v1::DaemonSet* ds = o.mutable_daemon_set();
  SetMeta(ds->mutable_metadata(), "agent", "kube-system");
  auto* sel = ds->mutable_spec()->mutable_selector();
  (*sel->mutable_match_labels())["app"] = "agent";
  auto* expr = sel->add_match_expressions();
  expr->set_key("tier");
  expr->set_operator_("In");
  expr->add_values("edge");
  expr->add_values("core");
  auto* tspec = ds->mutable_spec()->mutable_template_()->mutable_spec();
  (*tspec->mutable_node_selector())["arch"] = "arm64";
  (*tspec->mutable_node_selector())["zone"] = "a";
  tspec->add_tolerations()->set_operator_("Exists");
  auto* c = tspec->add_containers();
  c->set_name("agent");
  c->set_image("reef/agent:0.1");
  auto* v = tspec->add_volumes();
  v->set_name("run");
  v->mutable_host_path()->set_path("/run/reef");
  v = tspec->add_volumes();
  v->set_name("creds");
  v->mutable_secret()->set_secret_name("agent-creds");
  auto* st = ds->mutable_status();
  st->set_desired_number_scheduled(4);
  st->set_current_number_scheduled(3);
  st->set_updated_number_scheduled(3);
  st->set_number_available(2);
  st->set_number_ready(2);
  st->set_number_misscheduled(1);

  std::string out = DescribeObject(o, {}, kCreated);
  CheckLine(out, "Selector:           app=agent,tier in (edge,core)");
  CheckLine(out, "Node-Selector:      arch=arm64,zone=a");
  CheckBlock(out, {"Desired Number of Nodes Scheduled: 4",
                   "Current Number of Nodes Scheduled: 3",
                   "Number of Nodes Scheduled with Up-to-date Pods: 3",
                   "Number of Nodes Scheduled with Available Pods: 2",
                   "Number of Nodes Misscheduled: 1",
                   "Pods Status:  2 Running / 1 Waiting / 0 Succeeded / 0 Failed",
                   "Pod Template:"});
  CheckBlock(out, {"  Containers:", "   agent:", "    Image:        reef/agent:0.1"});
  CheckBlock(out, {"  Volumes:", "   run:",
                   "    Type:          HostPath (bare host directory volume)",
                   "    Path:          /run/reef", "    HostPathType:  <none>", "   creds:",
                   "    Type:          Secret (a volume populated by a Secret)",
                   "    SecretName:    agent-creds", "    Optional:      false",
                   "  Node-Selectors:  arch=arm64", "                   zone=a",
                   "  Tolerations:     op=Exists", "Events:            <none>"});
}

// ---- ConfigMap, Secret, Namespace ---------------------------------------------

TEST_CASE("ConfigMap: each key with its value, binary data by size") {
  Object o;
  reef::v1::ConfigMap* cm = o.mutable_config_map();
  SetMeta(cm->mutable_metadata(), "settings", "default");
  (*cm->mutable_data())["level"] = "debug";
  (*cm->mutable_data())["app.properties"] = "a=1\n\tb=2\n";
  (*cm->mutable_binary_data())["logo.png"] = std::string("\x89PNG\0\0", 6);
  std::string out = DescribeObject(o, {}, kCreated);
  CHECK(out ==
        "Name:               settings\n"
        "Namespace:          default\n"
        "Labels:             <none>\n"
        "Annotations:        <none>\n"
        "CreationTimestamp:  Thu, 03 Dec 2026 13:03:02 +0000\n"
        "\n"
        "Data\n"
        "====\n"
        "app.properties:\n"
        "----\n"
        "a=1\n"
        "\tb=2\n"
        "\n"
        "\n"
        "level:\n"
        "----\n"
        "debug\n"
        "\n"
        "\n"
        "BinaryData\n"
        "====\n"
        "logo.png: 6 bytes\n"
        "\n"
        "Events:  <none>\n");
}

TEST_CASE("Secret: type and sizes, never the values") {
  Object o;
  reef::v1::Secret* s = o.mutable_secret();
  SetMeta(s->mutable_metadata(), "creds", "default");
  s->set_type("Opaque");
  (*s->mutable_data())["password"] = "hunter2-very-secret";
  (*s->mutable_data())["token"] = "tok-12345";
  (*s->mutable_string_data())["extra"] = "plain-secret";
  (*s->mutable_metadata()->mutable_annotations())
      ["kubectl.kubernetes.io/last-applied-configuration"] =
          R"({"data":{"password":"hunter2-very-secret"}})";
  std::string out = DescribeObject(o, {}, kCreated);
  CheckBlock(out, {"", "Type:  Opaque", "", "Data", "====", "extra:     12 bytes",
                   "password:  19 bytes", "token:     9 bytes"});
  CHECK(out.find("hunter2") == std::string::npos);
  CHECK(out.find("tok-12345") == std::string::npos);
  CHECK(out.find("plain-secret") == std::string::npos);
  CheckLine(out, "Annotations:        <none>");
  CheckLine(out, "Events:  <none>");
}

TEST_CASE("Namespace: cluster-scoped, so no Namespace line, and its Status") {
  Object o;
  SetMeta(o.mutable_namespace_()->mutable_metadata(), "edge");
  o.mutable_namespace_()->mutable_status()->set_phase("Active");
  std::string out = DescribeObject(o, {}, kCreated);
  CHECK(out ==
        "Name:               edge\n"
        "Labels:             <none>\n"
        "Annotations:        <none>\n"
        "CreationTimestamp:  Thu, 03 Dec 2026 13:03:02 +0000\n"
        "Status:             Active\n"
        "Events:             <none>\n");
}

// ---- Node -----------------------------------------------------------------------

TEST_CASE("Node: roles, taints, conditions, addresses, resources, system info") {
  Object o;
  reef::v1::Node* node = o.mutable_node();
  SetMeta(node->mutable_metadata(), "pi-1");
  auto& labels = *node->mutable_metadata()->mutable_labels();
  labels["node-role.kubernetes.io/edge"] = "";
  labels["node-role.kubernetes.io/gateway"] = "";
  labels["kubernetes.io/arch"] = "arm64";
  auto* taint = node->mutable_spec()->add_taints();
  taint->set_key("dedicated");
  taint->set_value("camera");
  taint->set_effect("NoSchedule");
  taint = node->mutable_spec()->add_taints();
  taint->set_key("node.reef.io/unreachable");
  taint->set_effect("NoExecute");
  auto* st = node->mutable_status();
  auto* cond = st->add_conditions();
  cond->set_type("Ready");
  cond->set_status("True");
  cond->set_last_heartbeat_time("2026-12-03T13:10:00Z");
  cond->set_last_transition_time("2026-12-03T13:03:10Z");
  cond->set_reason("AgentReady");
  cond->set_message("reef-agent is posting ready status");
  auto* addr = st->add_addresses();
  addr->set_type("InternalIP");
  addr->set_address("10.0.0.5");
  addr = st->add_addresses();
  addr->set_type("Hostname");
  addr->set_address("pi-1");
  (*st->mutable_capacity())["cpu"] = "4";
  (*st->mutable_capacity())["memory"] = "3884Mi";
  (*st->mutable_capacity())["pods"] = "110";
  (*st->mutable_allocatable())["cpu"] = "3500m";
  auto* info = st->mutable_node_info();
  info->set_machine_id("c0ffee");
  info->set_kernel_version("6.1.0-rpi7");
  info->set_os_image("Debian GNU/Linux 12 (bookworm)");
  info->set_operating_system("linux");
  info->set_architecture("arm64");
  info->set_kubelet_version("v0.1.0");

  std::string out = DescribeObject(o, {}, kCreated);
  // Roles between Name and Labels, as kubectl prints them.
  CheckBlock(out, {"Name:               pi-1", "Roles:              edge,gateway",
                   "Labels:             kubernetes.io/arch=arm64",
                   "                    node-role.kubernetes.io/edge=",
                   "                    node-role.kubernetes.io/gateway="});
  CHECK(out.find("Namespace:") == std::string::npos);
  // Without the pods, no pod sections.
  CHECK(out.find("Non-terminated Pods:") == std::string::npos);
  CheckBlock(out, {"CreationTimestamp:  Thu, 03 Dec 2026 13:03:02 +0000",
                   "Taints:             node.reef.io/unreachable:NoExecute",
                   "                    dedicated=camera:NoSchedule",
                   "Unschedulable:      false", "Conditions:"});
  // Cells end with a space, as kubectl writes them: three blanks between columns.
  CheckBlock(out, {"  Type    Status  LastHeartbeatTime                 LastTransitionTime"
                   "                Reason       Message",
                   "  ----    ------  -----------------                 ------------------"
                   "                ------       -------",
                   "  Ready   True    Thu, 03 Dec 2026 13:10:00 +0000   Thu, 03 Dec 2026 "
                   "13:03:10 +0000   AgentReady   reef-agent is posting ready status"});
  CheckBlock(out, {"Addresses:", "  InternalIP:  10.0.0.5", "  Hostname:    pi-1", "Capacity:",
                   "  cpu:     4", "  memory:  3884Mi", "  pods:    110", "Allocatable:",
                   "  cpu:  3500m", "System Info:"});
  CheckBlock(out, {"  Machine ID:                 c0ffee",
                   "  Boot ID:                    <none>",
                   "  Kernel Version:             6.1.0-rpi7",
                   "  OS Image:                   Debian GNU/Linux 12 (bookworm)",
                   "  Operating System:           linux",
                   "  Architecture:               arm64",
                   "  Container Runtime Version:  <none>",
                   "  Agent Version:              v0.1.0",
                   "Events:                       <none>"});
}

TEST_CASE("Node: nothing reported yet") {
  Object o;
  SetMeta(o.mutable_node()->mutable_metadata(), "new-node");
  std::string out = DescribeObject(o, {}, kCreated);
  CheckLine(out, "Roles:              <none>");
  CheckLine(out, "Taints:             <none>");
  CheckLine(out, "Conditions:         <none>");
  CheckLine(out, "Addresses:          <none>");
  CheckLine(out, "Capacity:           <none>");
  CheckLine(out, "Allocatable:        <none>");
}

Object PodOn(std::string_view node, std::string_view ns, std::string_view name,
             std::string_view phase = "Running") {
  Object o;
  reef::v1::Pod* pod = o.mutable_pod();
  SetMeta(pod->mutable_metadata(), name, ns);
  pod->mutable_spec()->set_node_name(std::string(node));
  pod->mutable_status()->set_phase(std::string(phase));
  return o;
}

void SetResources(reef::v1::Container* c, const std::map<std::string, std::string>& requests,
                  const std::map<std::string, std::string>& limits) {
  c->mutable_resources()->mutable_requests()->insert(requests.begin(), requests.end());
  c->mutable_resources()->mutable_limits()->insert(limits.begin(), limits.end());
}

TEST_CASE("Node: the pods bound to it, their requests and limits against allocatable") {
  Object node;
  SetMeta(node.mutable_node()->mutable_metadata(), "pi-1");
  auto& allocatable = *node.mutable_node()->mutable_status()->mutable_allocatable();
  allocatable["cpu"] = "4";
  allocatable["memory"] = "4Gi";
  allocatable["ephemeral-storage"] = "10Gi";

  Object web = PodOn("pi-1", "default", "web-1");
  auto* spec = web.mutable_pod()->mutable_spec();
  SetResources(spec->add_containers(), {{"cpu", "250m"}, {"memory", "64Mi"}},
               {{"cpu", "500m"}, {"memory", "128Mi"}});
  SetResources(spec->add_containers(), {{"cpu", "0.25"}, {"memory", "64Mi"}}, {});
  // An init container asking for more than the app containers sets the pod's request.
  Object db = PodOn("pi-1", "shop", "db");
  spec = db.mutable_pod()->mutable_spec();
  SetResources(spec->add_init_containers(), {{"cpu", "1"}}, {});
  SetResources(spec->add_containers(), {{"cpu", "100m"}, {"memory", "256Mi"}}, {});
  std::vector<Object> pods = {web, db, PodOn("pi-1", "default", "done", "Succeeded"),
                              PodOn("pi-2", "default", "elsewhere")};

  std::string out = DescribeNode(node, pods, {}, kCreated + absl::Minutes(5));
  CheckBlock(out, {
      "Non-terminated Pods:          (2 in total)",
      "  Namespace                   Name     CPU Requests  CPU Limits  Memory Requests  "
      "Memory Limits  Age",
      "  ---------                   ----     ------------  ----------  ---------------  "
      "-------------  ---",
      "  default                     web-1    500m (12%)    500m (12%)  128Mi (3%)       "
      "128Mi (3%)     5m",
      "  shop                        db       1 (25%)       0 (0%)      256Mi (6%)       "
      "0 (0%)         5m",
      "Allocated resources:",
      "  (Total limits may be over 100 percent, i.e., overcommitted.)",
      "  Resource           Requests     Limits",
      "  --------           --------     ------",
      "  cpu                1500m (37%)  500m (12%)",
      "  memory             384Mi (9%)   128Mi (3%)",
      "  ephemeral-storage  0 (0%)       0 (0%)",
      "Events:              <none>"});
}

TEST_CASE("Node: no pods bound to it") {
  Object node;
  SetMeta(node.mutable_node()->mutable_metadata(), "pi-1");
  std::string out = DescribeNode(node, {PodOn("pi-2", "default", "elsewhere")}, {}, kCreated);
  CheckLine(out, "Non-terminated Pods:          (0 in total)");
  CheckLine(out, "  cpu                0 (0%)    0 (0%)");
}

// ---- Event and the events table -------------------------------------------------

TEST_CASE("Event: the involved object and what happened") {
  Object o = Event("Warning", "BackOff", "Back-off restarting failed container",
                   "2026-12-03T13:05:00Z", "2026-12-03T13:09:00Z", 4);
  o.mutable_event()->mutable_source()->set_host("pi-1");
  std::string out = DescribeObject(o, {}, kCreated);
  CheckBlock(out, {"CreationTimestamp:  Thu, 03 Dec 2026 13:03:02 +0000",
                   "Involved Object:", "  Kind:       Pod", "  Namespace:  default",
                   "  Name:       web-1", "Type:         Warning", "Reason:       BackOff",
                   "Message:      Back-off restarting failed container",
                   "Source:       reef-agent, pi-1", "Count:        4",
                   "First Seen:   Thu, 03 Dec 2026 13:05:00 +0000",
                   "Last Seen:    Thu, 03 Dec 2026 13:09:00 +0000", "Events:       <none>"});
}

TEST_CASE("Events table: oldest first, ages from now, repeats counted, other kinds ignored") {
  Object pod;
  SetMeta(pod.mutable_pod()->mutable_metadata(), "web-1", "default");
  std::vector<Object> events = {
      Event("Warning", "BackOff", "  Back-off restarting failed container\n",
            "2026-12-03T13:05:00Z", "2026-12-03T13:09:00Z", 4),
      Event("Normal", "Scheduled", "Successfully assigned default/web-1 to pi-1",
            "2026-12-03T13:03:02Z", "2026-12-03T13:03:02Z", 1),
      Event("Normal", "Pulled", "Container image \"nginx:1.25\" already present",
            "2026-12-03T13:03:04Z", "", 0),
      pod,  // not an event: skipped
  };
  absl::Time now = kCreated + absl::Minutes(10);
  std::string out = DescribeObject(pod, events, now);
  CheckBlock(out, {"Events:",
                   "  Type     Reason     Age                  From        Message",
                   "  ----     ------     ----                 ----        -------",
                   "  Normal   Scheduled  10m                  reef-agent  Successfully assigned "
                   "default/web-1 to pi-1",
                   "  Normal   Pulled     9m58s                reef-agent  Container image "
                   "\"nginx:1.25\" already present",
                   "  Warning  BackOff    4m2s (x4 over 8m2s)  reef-agent  Back-off restarting "
                   "failed container"});
  CHECK(out.size() > 0);
  CHECK(out.back() == '\n');
}

// ---- metadata -------------------------------------------------------------------

TEST_CASE("Labels and annotations: sorted, continuation lines aligned, long values below") {
  Object o;
  auto* meta = o.mutable_config_map()->mutable_metadata();
  SetMeta(meta, "cfg", "default");
  (*meta->mutable_labels())["z"] = "last";
  (*meta->mutable_labels())["a"] = "first";
  (*meta->mutable_labels())["m"] = "middle";
  (*meta->mutable_annotations())["note"] = "line one\nline two\n";
  (*meta->mutable_annotations())["short"] = "yes";
  (*meta->mutable_annotations())["long"] = std::string(200, 'x');
  std::string out = DescribeObject(o, {}, kCreated);
  CheckBlock(out, {"Labels:             a=first",
                   "                    m=middle",
                   "                    z=last",
                   "Annotations:        long:",
                   "                      " + std::string(138, 'x') + "...",
                   "                    note:",
                   "                      line one",
                   "                      line two",
                   "                    short: yes",
                   "CreationTimestamp:  Thu, 03 Dec 2026 13:03:02 +0000"});
  // Every value starts in the same column.
  for (const std::string& line : Lines(out)) {
    if (line.rfind("Labels:", 0) == 0 || line.rfind("CreationTimestamp:", 0) == 0) {
      CHECK(line.find_first_not_of(' ', line.find(':') + 1) == 20);
    }
  }
}

TEST_CASE("An Object with no kind describes as nothing") {
  CHECK(DescribeObject(Object(), {}, kCreated).empty());
}

}  // namespace
}  // namespace reef::cli
