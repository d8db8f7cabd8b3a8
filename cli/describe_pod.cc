#include "cli/describe_pod.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace reef::cli::describe {
namespace {

using google::protobuf::RepeatedPtrField;
using reef::v1::Container;
using reef::v1::ContainerState;
using reef::v1::ContainerStatus;
using reef::v1::PodSpec;
using reef::v1::Probe;
using reef::v1::Volume;

// The Pod Template block sits one level deeper than a Pod's own sections, and kubectl
// marks its container and volume names with one extra space.
struct Placement {
  int level;               // of the "Containers:" / "Volumes:" headings
  std::string_view nudge;  // before each container or volume name
};
constexpr Placement kInPod{0, ""};
constexpr Placement kInTemplate{1, " "};

std::string Bool(bool b) { return b ? "True" : "False"; }

void Lines(DescribeWriter& w, int level, std::string_view text) {
  for (absl::string_view part : absl::StrSplit(ToAbsl(text), '\n')) {
    w.Line(level, {std::string(part)});
  }
}

// ---- container basics -------------------------------------------------------------

std::string Protocol(const reef::v1::ContainerPort& p) {
  return p.protocol().empty() ? "TCP" : p.protocol();
}

void Ports(DescribeWriter& w, const Container& c) {
  std::vector<std::string> ports, host_ports;
  for (const auto& p : c.ports()) {
    ports.push_back(absl::StrFormat("%d/%s", p.container_port(), Protocol(p)));
    host_ports.push_back(absl::StrFormat("%d/%s", p.host_port(), Protocol(p)));
  }
  w.Field(2, ports.size() > 1 ? "Ports" : "Port", absl::StrJoin(ports, ", "));
  w.Field(2, host_ports.size() > 1 ? "Host Ports" : "Host Port", absl::StrJoin(host_ports, ", "));
}

void Command(DescribeWriter& w, const Container& c) {
  if (!c.command().empty()) {
    w.Heading(2, "Command");
    for (const std::string& s : c.command()) Lines(w, 3, s);
  }
  if (!c.args().empty()) {
    w.Heading(2, "Args");
    for (const std::string& s : c.args()) Lines(w, 3, s);
  }
}

// ---- container state ----------------------------------------------------------------

void State(DescribeWriter& w, std::string_view title, const ContainerState& state) {
  if (state.has_running()) {
    w.Field(2, title, "Running");
    w.Field(3, "Started", DescribeTime(state.running().started_at()));
  } else if (state.has_waiting()) {
    w.Field(2, title, "Waiting");
    if (!state.waiting().reason().empty()) w.Field(3, "Reason", state.waiting().reason());
  } else if (state.has_terminated()) {
    const auto& t = state.terminated();
    w.Field(2, title, "Terminated");
    if (!t.reason().empty()) w.Field(3, "Reason", t.reason());
    if (!t.message().empty()) w.Field(3, "Message", t.message());
    w.Field(3, "Exit Code", absl::StrCat(t.exit_code()));
    if (t.signal() > 0) w.Field(3, "Signal", absl::StrCat(t.signal()));
    w.Field(3, "Started", DescribeTime(t.started_at()));
    w.Field(3, "Finished", DescribeTime(t.finished_at()));
  } else {
    w.Field(2, title, "Waiting");
  }
}

void Status(DescribeWriter& w, const ContainerStatus& s) {
  State(w, "State", s.state());
  if (s.last_state().has_terminated()) State(w, "Last State", s.last_state());
  w.Field(2, "Ready", Bool(s.ready()));
  w.Field(2, "Restart Count", absl::StrCat(s.restart_count()));
  if (s.has_started()) w.Field(2, "Started", Bool(s.started()));
}

// ---- probes -------------------------------------------------------------------------

// "host:port", bracketing an IPv6 host as Go's net.JoinHostPort does.
std::string JoinHostPort(std::string_view host, std::string_view port) {
  if (host.find(':') != std::string_view::npos) return reef::StrCat("[", host, "]:", port);
  return reef::StrCat(host, ":", port);
}

// kubectl's one-line probe: "http-get http://:80/ delay=0s timeout=1s period=10s
// #success=1 #failure=3". Unset thresholds show the values the API server defaults.
std::string DescribeProbe(const Probe& p) {
  std::string attrs = absl::StrFormat(
      "delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
      p.has_initial_delay_seconds() ? p.initial_delay_seconds() : 0,
      p.has_timeout_seconds() ? p.timeout_seconds() : 1,
      p.has_period_seconds() ? p.period_seconds() : 10,
      p.has_success_threshold() ? p.success_threshold() : 1,
      p.has_failure_threshold() ? p.failure_threshold() : 3);
  if (p.has_exec()) {
    return reef::StrCat("exec [", absl::StrJoin(p.exec().command(), " "), "] ", attrs);
  }
  if (p.has_http_get()) {
    const auto& h = p.http_get();
    std::string scheme = absl::AsciiStrToLower(h.scheme().empty() ? "HTTP" : h.scheme());
    std::string host = h.port().empty() ? h.host() : JoinHostPort(h.host(), h.port());
    std::string path = h.path();
    if (!path.empty() && path[0] != '/') path.insert(0, "/");
    return reef::StrCat("http-get ", scheme, "://", host, path, " ", attrs);
  }
  if (p.has_tcp_socket()) {
    return reef::StrCat("tcp-socket ", p.tcp_socket().host(), ":", p.tcp_socket().port(), " ",
                        attrs);
  }
  return reef::StrCat("unknown ", attrs);
}

void Probes(DescribeWriter& w, const Container& c) {
  if (c.has_liveness_probe()) w.Field(2, "Liveness", DescribeProbe(c.liveness_probe()));
  if (c.has_readiness_probe()) w.Field(2, "Readiness", DescribeProbe(c.readiness_probe()));
  if (c.has_startup_probe()) w.Field(2, "Startup", DescribeProbe(c.startup_probe()));
}

// ---- environment and mounts -------------------------------------------------------

std::string Optional(bool optional) {
  return reef::StrCat("Optional: ", optional ? "true" : "false");
}

void EnvFrom(DescribeWriter& w, const Container& c) {
  if (c.env_from().empty()) return;
  w.Heading(2, "Environment Variables from");
  for (const auto& e : c.env_from()) {
    std::string from, name;
    bool optional = false;
    if (e.has_config_map_ref()) {
      from = "ConfigMap";
      name = e.config_map_ref().name();
      optional = e.config_map_ref().optional();
    } else if (e.has_secret_ref()) {
      from = "Secret";
      name = e.secret_ref().name();
      optional = e.secret_ref().optional();
    }
    if (!e.prefix().empty()) absl::StrAppend(&from, " with prefix '", e.prefix(), "'");
    w.Line(3, {name, from, Optional(optional)});
  }
}

void Env(DescribeWriter& w, const Container& c) {
  if (c.env().empty()) {
    w.Field(2, "Environment", "");
    return;
  }
  w.Heading(2, "Environment");
  for (const auto& e : c.env()) {
    std::string key = reef::StrCat(e.name(), ":");
    const auto& from = e.value_from();
    if (from.has_config_map_key_ref()) {
      const auto& ref = from.config_map_key_ref();
      w.Line(3, {key,
                 absl::StrFormat("<set to the key '%s' of config map '%s'>", ref.key(), ref.name()),
                 Optional(ref.optional())});
    } else if (from.has_secret_key_ref()) {
      const auto& ref = from.secret_key_ref();
      w.Line(3, {key,
                 absl::StrFormat("<set to the key '%s' in secret '%s'>", ref.key(), ref.name()),
                 Optional(ref.optional())});
    } else {
      bool first = true;
      for (absl::string_view part : absl::StrSplit(e.value(), '\n')) {
        w.Line(3, {first ? key : "", std::string(part)});
        first = false;
      }
    }
  }
}

void Mounts(DescribeWriter& w, const Container& c) {
  if (c.volume_mounts().empty()) {
    w.Field(2, "Mounts", "");
    return;
  }
  w.Heading(2, "Mounts");
  std::vector<const reef::v1::VolumeMount*> mounts;
  for (const auto& m : c.volume_mounts()) mounts.push_back(&m);
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const auto* a, const auto* b) { return a->mount_path() < b->mount_path(); });
  for (const auto* m : mounts) {
    std::string flags = m->read_only() ? "ro" : "rw";
    if (!m->sub_path().empty()) absl::StrAppend(&flags, ",path=\"", m->sub_path(), "\"");
    w.Line(3, {absl::StrFormat("%s from %s (%s)", m->mount_path(), m->name(), flags)});
  }
}

// ---- containers -----------------------------------------------------------------------

// One "Containers:" block. `statuses` is null in a template; a container without a
// status (not started yet) shows no state, as in kubectl.
void Containers(DescribeWriter& w, Placement at, std::string_view title,
                const RepeatedPtrField<Container>& containers,
                const RepeatedPtrField<ContainerStatus>* statuses) {
  if (containers.empty()) {
    w.Line(at.level, {reef::StrCat(title, ": <none>")});
    return;
  }
  w.Heading(at.level, title);
  std::map<std::string, const ContainerStatus*> by_name;
  if (statuses != nullptr) {
    for (const auto& s : *statuses) by_name[s.name()] = &s;
  }
  for (const Container& c : containers) {
    auto it = by_name.find(c.name());
    const ContainerStatus* status = it == by_name.end() ? nullptr : it->second;
    w.Heading(1, reef::StrCat(at.nudge, c.name()));
    if (status != nullptr) w.Field(2, "Container ID", status->container_id());
    w.Field(2, "Image", c.image());
    if (status != nullptr) w.Field(2, "Image ID", status->image_id());
    Ports(w, c);
    Command(w, c);
    if (status != nullptr) Status(w, *status);
    if (!c.resources().limits().empty()) ResourceList(w, 2, "Limits", c.resources().limits());
    if (!c.resources().requests().empty()) {
      ResourceList(w, 2, "Requests", c.resources().requests());
    }
    Probes(w, c);
    EnvFrom(w, c);
    Env(w, c);
    Mounts(w, c);
  }
}

// ---- volumes, scheduling ------------------------------------------------------------

void VolumeSource(DescribeWriter& w, const Volume& v) {
  if (v.has_host_path()) {
    w.Field(2, "Type", "HostPath (bare host directory volume)");
    w.Field(2, "Path", v.host_path().path());
    w.Field(2, "HostPathType", v.host_path().type());
  } else if (v.has_empty_dir()) {
    const std::string& limit = v.empty_dir().size_limit();
    w.Field(2, "Type", "EmptyDir (a temporary directory that shares a pod's lifetime)");
    w.Field(2, "Medium", v.empty_dir().medium());
    w.Field(2, "SizeLimit", limit.empty() || limit == "0" ? "<unset>" : limit);
  } else if (v.has_secret()) {
    w.Field(2, "Type", "Secret (a volume populated by a Secret)");
    w.Field(2, "SecretName", v.secret().secret_name());
    w.Field(2, "Optional", v.secret().optional() ? "true" : "false");
  } else if (v.has_config_map()) {
    w.Field(2, "Type", "ConfigMap (a volume populated by a ConfigMap)");
    w.Field(2, "Name", v.config_map().name());
    w.Field(2, "Optional", v.config_map().optional() ? "true" : "false");
  } else {
    w.Line(1, {"<unknown>"});
  }
}

void Volumes(DescribeWriter& w, Placement at, const RepeatedPtrField<Volume>& volumes) {
  if (volumes.empty()) {
    w.Field(at.level, "Volumes", "");
    return;
  }
  w.Heading(at.level, "Volumes");
  for (const Volume& v : volumes) {
    w.Heading(1, reef::StrCat(at.nudge, v.name()));
    VolumeSource(w, v);
  }
}

// "key=value:Effect", "key:Effect op=Exists for 300s", "op=Exists" (tolerates all).
std::string DescribeToleration(const reef::v1::Toleration& t) {
  std::string s = t.key();
  if (!t.value().empty()) absl::StrAppend(&s, "=", t.value());
  if (!t.effect().empty()) absl::StrAppend(&s, ":", t.effect());
  if (t.operator_() == "Exists" && t.value().empty()) {
    absl::StrAppend(&s, s.empty() ? "" : " ", "op=Exists");
  }
  if (t.has_toleration_seconds()) absl::StrAppend(&s, " for ", t.toleration_seconds(), "s");
  return s;
}

void Scheduling(DescribeWriter& w, int level, const PodSpec& spec) {
  LabelsField(w, level, "Node-Selectors", spec.node_selector());
  std::vector<const reef::v1::Toleration*> sorted;
  for (const auto& t : spec.tolerations()) sorted.push_back(&t);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->key() < b->key(); });
  std::vector<std::string> tolerations;
  for (const auto* t : sorted) tolerations.push_back(DescribeToleration(*t));
  MultilineField(w, level, "Tolerations", tolerations);
}

// "DaemonSet/agent" for the owner that controls the object, or "".
std::string ControlledBy(const reef::v1::ObjectMeta& meta) {
  for (const auto& ref : meta.owner_references()) {
    if (ref.controller()) return reef::StrCat(ref.kind(), "/", ref.name());
  }
  return "";
}

}  // namespace

void PodBody(DescribeWriter& w, const reef::v1::Pod& pod) {
  const PodSpec& spec = pod.spec();
  const reef::v1::PodStatus& status = pod.status();
  std::string node = spec.node_name();
  if (!node.empty() && !status.host_ip().empty()) absl::StrAppend(&node, "/", status.host_ip());
  w.Field(0, "Node", node);
  if (!status.start_time().empty()) w.Field(0, "Start Time", DescribeTime(status.start_time()));
  w.Field(0, "Status", status.phase().empty() ? "Pending" : status.phase());
  if (!status.reason().empty()) w.Field(0, "Reason", status.reason());
  if (!status.message().empty()) w.Field(0, "Message", status.message());
  w.Field(0, "IP", status.pod_ip());
  if (std::string owner = ControlledBy(pod.metadata()); !owner.empty()) {
    w.Field(0, "Controlled By", owner);
  }
  if (!spec.init_containers().empty()) {
    Containers(w, kInPod, "Init Containers", spec.init_containers(),
               &status.init_container_statuses());
  }
  Containers(w, kInPod, "Containers", spec.containers(), &status.container_statuses());
  if (status.conditions().empty()) {
    w.Field(0, "Conditions", "");
  } else {
    w.Heading(0, "Conditions");
    w.Line(1, {"Type", "Status"});
    for (const auto& c : status.conditions()) {
      w.Line(1, {reef::StrCat(c.type(), " "), reef::StrCat(c.status(), " ")});
    }
  }
  Volumes(w, kInPod, spec.volumes());
  Scheduling(w, 0, spec);
}

void PodTemplate(DescribeWriter& w, const reef::v1::PodTemplateSpec& tmpl) {
  w.Heading(0, "Pod Template");
  LabelsField(w, 1, "Labels", tmpl.metadata().labels());
  if (!tmpl.metadata().annotations().empty()) {
    AnnotationsField(w, 1, "Annotations", tmpl.metadata().annotations());
  }
  const PodSpec& spec = tmpl.spec();
  if (!spec.init_containers().empty()) {
    Containers(w, kInTemplate, "Init Containers", spec.init_containers(), nullptr);
  }
  Containers(w, kInTemplate, "Containers", spec.containers(), nullptr);
  Volumes(w, kInTemplate, spec.volumes());
  Scheduling(w, 1, spec);
}

}  // namespace reef::cli::describe
