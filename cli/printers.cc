#include "cli/printers.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_join.h"
#include "api/manifest/selector.h"
#include "common/clock.h"
#include "common/strings.h"

namespace reef::cli {
namespace {

using namespace reef::v1;

std::string Age(const std::string& timestamp, absl::Time now) {
  auto t = ParseTimestamp(timestamp);
  return t.ok() ? HumanDuration(now - *t) : "<unknown>";
}

std::string OrNone(const std::string& s) { return s.empty() ? "<none>" : s; }

std::string SelectorText(const LabelSelector& selector) {
  auto s = manifest::Selector::FromProto(selector);
  return s.ok() ? OrNone(s->ToString()) : "<invalid>";
}

// The -o wide columns of workloads: CONTAINERS IMAGES SELECTOR.
void AddTemplateColumns(const PodTemplateSpec& tmpl, const LabelSelector& selector, Row* row) {
  std::vector<std::string> names, images;
  for (const auto& c : tmpl.spec().containers()) {
    names.push_back(c.name());
    images.push_back(c.image());
  }
  row->push_back(absl::StrJoin(names, ","));
  row->push_back(absl::StrJoin(images, ","));
  row->push_back(SelectorText(selector));
}

std::string NodeSelectorText(const PodSpec& spec) {
  std::map<std::string, std::string> sorted(spec.node_selector().begin(), spec.node_selector().end());
  std::vector<std::string> parts;
  for (const auto& [k, v] : sorted) parts.push_back(reef::StrCat(k, "=", v));
  return OrNone(absl::StrJoin(parts, ","));
}

// The node's first address of `type` (InternalIP, ExternalIP), or <none>.
std::string NodeAddress(const Node& node, std::string_view type) {
  for (const auto& a : node.status().addresses()) {
    if (a.type() == type) return a.address();
  }
  return "<none>";
}

std::string OrUnknown(const std::string& s) { return s.empty() ? "<unknown>" : s; }

// kubectl's RESTARTS: the count, and how long ago the last restart was when a
// container's previous run says when it ended: "3 (5m ago)".
std::string RestartsText(const Pod& pod, absl::Time now) {
  int restarts = 0;
  absl::Time last = absl::InfinitePast();
  for (const auto& cs : pod.status().container_statuses()) {
    restarts += cs.restart_count();
    if (!cs.last_state().has_terminated()) continue;
    auto finished = ParseTimestamp(cs.last_state().terminated().finished_at());
    if (finished.ok()) last = std::max(last, *finished);
  }
  if (restarts == 0 || last == absl::InfinitePast()) return std::to_string(restarts);
  return reef::StrCat(restarts, " (", HumanDuration(now - last), " ago)");
}

Row PodRow(const Pod& pod, const TableOptions& o) {
  int ready = 0;
  for (const auto& cs : pod.status().container_statuses()) ready += cs.ready();
  Row row = {pod.metadata().name(),
             reef::StrCat(ready, "/", pod.spec().containers_size()),
             PodStatusText(pod),
             RestartsText(pod, o.now),
             Age(pod.metadata().creation_timestamp(), o.now)};
  if (o.wide) {
    row.push_back(OrNone(pod.status().pod_ip()));
    row.push_back(OrNone(pod.spec().node_name()));
    row.push_back("<none>");  // NOMINATED NODE: Reef's scheduler does not preempt
    row.push_back("<none>");  // READINESS GATES: not supported
  }
  return row;
}

Row DeploymentRow(const Deployment& d, const TableOptions& o) {
  const auto& s = d.status();
  Row row = {d.metadata().name(), reef::StrCat(s.ready_replicas(), "/", d.spec().replicas()),
             std::to_string(s.updated_replicas()), std::to_string(s.available_replicas()),
             Age(d.metadata().creation_timestamp(), o.now)};
  if (o.wide) AddTemplateColumns(d.spec().template_(), d.spec().selector(), &row);
  return row;
}

Row DaemonSetRow(const DaemonSet& d, const TableOptions& o) {
  const auto& s = d.status();
  Row row = {d.metadata().name(),
             std::to_string(s.desired_number_scheduled()),
             std::to_string(s.current_number_scheduled()),
             std::to_string(s.number_ready()),
             std::to_string(s.updated_number_scheduled()),
             std::to_string(s.number_available()),
             NodeSelectorText(d.spec().template_().spec()),
             Age(d.metadata().creation_timestamp(), o.now)};
  if (o.wide) AddTemplateColumns(d.spec().template_(), d.spec().selector(), &row);
  return row;
}

Row ReplicaSetRow(const ReplicaSet& rs, const TableOptions& o) {
  const auto& s = rs.status();
  Row row = {rs.metadata().name(), std::to_string(rs.spec().replicas()),
             std::to_string(s.replicas()), std::to_string(s.ready_replicas()),
             Age(rs.metadata().creation_timestamp(), o.now)};
  if (o.wide) AddTemplateColumns(rs.spec().template_(), rs.spec().selector(), &row);
  return row;
}

Row NodeRow(const Node& n, const TableOptions& o) {
  const auto& info = n.status().node_info();
  Row row = {n.metadata().name(), NodeStatusText(n), OrNone(NodeRoles(n.metadata())),
             Age(n.metadata().creation_timestamp(), o.now), OrNone(info.kubelet_version())};
  if (o.wide) {
    row.insert(row.end(), {OrUnknown(info.architecture()), NodeAddress(n, "InternalIP"),
                           NodeAddress(n, "ExternalIP"), OrUnknown(info.os_image()),
                           OrUnknown(info.kernel_version()),
                           OrUnknown(info.container_runtime_version())});
  }
  return row;
}

Row EventRow(const Event& e, const TableOptions& o) {
  const auto& ref = e.involved_object();
  std::string kind = ref.kind();
  std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
  return {Age(e.last_timestamp().empty() ? e.metadata().creation_timestamp() : e.last_timestamp(), o.now),
          e.type(), e.reason(), reef::StrCat(kind, "/", ref.name()), e.message()};
}

}  // namespace

std::string PodStatusText(const Pod& pod) {
  const PodStatus& st = pod.status();
  std::string reason = !st.reason().empty() ? st.reason() : (!st.phase().empty() ? st.phase() : "Pending");
  // Init containers first: a pod blocked in init says so.
  for (int i = 0; i < st.init_container_statuses_size(); ++i) {
    const ContainerStatus& cs = st.init_container_statuses(i);
    const ContainerState& s = cs.state();
    if (s.has_terminated() && s.terminated().exit_code() == 0) continue;
    if (s.has_terminated()) {
      return s.terminated().reason().empty()
                 ? reef::StrCat("Init:ExitCode:", s.terminated().exit_code())
                 : reef::StrCat("Init:", s.terminated().reason());
    }
    if (s.has_waiting() && !s.waiting().reason().empty() && s.waiting().reason() != "PodInitializing") {
      return reef::StrCat("Init:", s.waiting().reason());
    }
    return reef::StrCat("Init:", i, "/", pod.spec().init_containers_size());
  }
  bool running = false;
  for (int i = st.container_statuses_size() - 1; i >= 0; --i) {
    const ContainerStatus& cs = st.container_statuses(i);
    const ContainerState& s = cs.state();
    if (s.has_waiting() && !s.waiting().reason().empty()) {
      reason = s.waiting().reason();
    } else if (s.has_terminated() && !s.terminated().reason().empty()) {
      reason = s.terminated().reason();
    } else if (s.has_terminated()) {
      reason = s.terminated().signal() != 0 ? reef::StrCat("Signal:", s.terminated().signal())
                                            : reef::StrCat("ExitCode:", s.terminated().exit_code());
    } else if (cs.ready() && s.has_running()) {
      running = true;
    }
  }
  if (reason == "Completed" && running) reason = "Running";
  return reason;
}

std::string NodeStatusText(const Node& node) {
  std::string status = "Unknown";
  for (const auto& c : node.status().conditions()) {
    if (c.type() == "Ready") status = c.status() == "True" ? "Ready" : "NotReady";
  }
  if (node.spec().unschedulable()) status += ",SchedulingDisabled";
  return status;
}

std::string NodeRoles(const ObjectMeta& meta) {
  constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
  std::set<std::string> roles;
  for (const auto& [key, value] : meta.labels()) {
    if (key.starts_with(kRolePrefix) && key.size() > kRolePrefix.size()) {
      roles.insert(key.substr(kRolePrefix.size()));
    } else if (key == "kubernetes.io/role" && !value.empty()) {
      roles.insert(value);
    }
  }
  return absl::StrJoin(roles, ",");
}

Row TableHeader(const manifest::KindInfo& kind, const TableOptions& o) {
  Row h;
  if (o.with_namespace && kind.namespaced) h.push_back("NAMESPACE");
  std::string_view k = kind.kind;
  auto add = [&](std::initializer_list<const char*> cols) { h.insert(h.end(), cols.begin(), cols.end()); };
  if (k == "Pod") {
    add({"NAME", "READY", "STATUS", "RESTARTS", "AGE"});
    if (o.wide) add({"IP", "NODE", "NOMINATED NODE", "READINESS GATES"});
  } else if (k == "Deployment") {
    add({"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"});
    if (o.wide) add({"CONTAINERS", "IMAGES", "SELECTOR"});
  } else if (k == "DaemonSet") {
    add({"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"});
    if (o.wide) add({"CONTAINERS", "IMAGES", "SELECTOR"});
  } else if (k == "ReplicaSet") {
    add({"NAME", "DESIRED", "CURRENT", "READY", "AGE"});
    if (o.wide) add({"CONTAINERS", "IMAGES", "SELECTOR"});
  } else if (k == "ConfigMap") {
    add({"NAME", "DATA", "AGE"});
  } else if (k == "Secret") {
    add({"NAME", "TYPE", "DATA", "AGE"});
  } else if (k == "Namespace") {
    add({"NAME", "STATUS", "AGE"});
  } else if (k == "Node") {
    add({"NAME", "STATUS", "ROLES", "AGE", "VERSION"});
    // ARCH is Reef's addition: a mixed arm/amd64 fleet is the norm at the edge.
    if (o.wide) {
      add({"ARCH", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION",
           "CONTAINER-RUNTIME"});
    }
  } else if (k == "Event") {
    add({"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"});
  } else {
    add({"NAME", "AGE"});
  }
  return h;
}

Row TableRow(const Object& object, const TableOptions& o) {
  Row row;
  const manifest::KindInfo* kind = manifest::KindOf(object);
  const auto& meta = manifest::Meta(object);
  if (o.with_namespace && kind->namespaced) row.push_back(meta.namespace_());
  Row rest;
  switch (object.kind_case()) {
    case Object::kPod: rest = PodRow(object.pod(), o); break;
    case Object::kDeployment: rest = DeploymentRow(object.deployment(), o); break;
    case Object::kDaemonSet: rest = DaemonSetRow(object.daemon_set(), o); break;
    case Object::kReplicaSet: rest = ReplicaSetRow(object.replica_set(), o); break;
    case Object::kNode: rest = NodeRow(object.node(), o); break;
    case Object::kEvent: rest = EventRow(object.event(), o); break;
    case Object::kConfigMap:
      rest = {meta.name(),
              std::to_string(object.config_map().data_size() + object.config_map().binary_data_size()),
              Age(meta.creation_timestamp(), o.now)};
      break;
    case Object::kSecret:
      rest = {meta.name(), object.secret().type(), std::to_string(object.secret().data_size()),
              Age(meta.creation_timestamp(), o.now)};
      break;
    case Object::kNamespace:
      rest = {meta.name(), object.namespace_().status().phase().empty() ? "Active" : object.namespace_().status().phase(),
              Age(meta.creation_timestamp(), o.now)};
      break;
    default:
      rest = {meta.name(), Age(meta.creation_timestamp(), o.now)};
  }
  row.insert(row.end(), rest.begin(), rest.end());
  return row;
}

void Table::Widen(const Row& row) {
  if (widths_.size() < row.size()) widths_.resize(row.size(), 0);
  for (size_t i = 0; i < row.size(); ++i) widths_[i] = std::max(widths_[i], row[i].size());
}

void Table::Add(Row row) {
  Widen(row);
  rows_.push_back(std::move(row));
}

std::string Table::Format(const Row& row) const {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    line += row[i];
    if (i + 1 < row.size()) {
      size_t width = i < widths_.size() ? widths_[i] : row[i].size();
      line += std::string(width > row[i].size() ? width - row[i].size() : 0, ' ') + "   ";
    }
  }
  return line + "\n";
}

std::string Table::Render() const {
  std::string out;
  for (const Row& r : rows_) out += Format(r);
  return out;
}

}  // namespace reef::cli
