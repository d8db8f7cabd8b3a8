#include "cli/describe_printer.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/manifest/object.h"
#include "api/manifest/selector.h"
#include "cli/describe_node.h"
#include "cli/describe_pod.h"
#include "cli/describe_writer.h"
#include "cli/printers.h"
#include "common/clock.h"
#include "common/strings.h"

namespace reef::cli {
namespace {

using describe::DescribeTime;
using describe::DescribeWriter;
using reef::v1::Object;

// Name, Namespace, Labels, Annotations, CreationTimestamp: the same for every kind.
void Header(DescribeWriter& w, const Object& object, const manifest::KindInfo& kind) {
  const reef::v1::ObjectMeta& meta = manifest::Meta(object);
  w.Field(0, "Name", meta.name());
  if (kind.namespaced) w.Field(0, "Namespace", meta.namespace_());
  if (object.has_node()) w.Field(0, "Roles", NodeRoles(meta));
  describe::LabelsField(w, 0, "Labels", meta.labels());
  describe::AnnotationsField(w, 0, "Annotations", meta.annotations());
  w.Field(0, "CreationTimestamp", DescribeTime(meta.creation_timestamp()));
}

// "app=web,tier in (a,b)", as the string form `reefctl get -l` takes.
std::string DescribeSelector(const reef::v1::LabelSelector& proto) {
  absl::StatusOr<manifest::Selector> selector = manifest::Selector::FromProto(proto);
  if (!selector.ok()) return reef::StrCat("<invalid: ", selector.status().message(), ">");
  return describe::OrNone(selector->ToString());
}

// ---- apps -----------------------------------------------------------------------

void DeploymentBody(DescribeWriter& w, const reef::v1::Deployment& d) {
  const reef::v1::DeploymentSpec& spec = d.spec();
  const reef::v1::DeploymentStatus& status = d.status();
  w.Field(0, "Selector", DescribeSelector(spec.selector()));
  // Unset fields show what the API server defaults them to.
  w.Field(0, "Replicas",
          absl::StrFormat("%d desired | %d updated | %d total | %d available | %d unavailable",
                          spec.has_replicas() ? spec.replicas() : 1, status.updated_replicas(),
                          status.replicas(), status.available_replicas(),
                          status.unavailable_replicas()));
  std::string type = spec.strategy().type().empty() ? "RollingUpdate" : spec.strategy().type();
  w.Field(0, "StrategyType", type);
  w.Field(0, "MinReadySeconds", absl::StrCat(spec.min_ready_seconds()));
  if (type == "RollingUpdate") {
    const auto& ru = spec.strategy().rolling_update();
    w.Field(0, "RollingUpdateStrategy",
            absl::StrFormat("%s max unavailable, %s max surge",
                            ru.max_unavailable().empty() ? "25%" : ru.max_unavailable(),
                            ru.max_surge().empty() ? "25%" : ru.max_surge()));
  }
  describe::PodTemplate(w, spec.template_());
  if (status.conditions().empty()) {
    w.Field(0, "Conditions", "");
    return;
  }
  w.Heading(0, "Conditions");
  w.Line(1, {"Type", "Status", "Reason"});
  w.Line(1, {"----", "------", "------"});
  for (const auto& c : status.conditions()) {
    w.Line(1, {reef::StrCat(c.type(), " "), c.status(), c.reason()});
  }
}

void DaemonSetBody(DescribeWriter& w, const reef::v1::DaemonSet& ds) {
  const reef::v1::DaemonSetStatus& status = ds.status();
  w.Field(0, "Selector", DescribeSelector(ds.spec().selector()));
  w.Field(0, "Node-Selector", describe::FormatLabels(ds.spec().template_().spec().node_selector()));
  // kubectl separates these counters with a space, not a column.
  auto count = [&w](std::string_view what, int32_t n) {
    w.Line(0, {absl::StrFormat("%s: %d", what, n)});
  };
  count("Desired Number of Nodes Scheduled", status.desired_number_scheduled());
  count("Current Number of Nodes Scheduled", status.current_number_scheduled());
  count("Number of Nodes Scheduled with Up-to-date Pods", status.updated_number_scheduled());
  count("Number of Nodes Scheduled with Available Pods", status.number_available());
  count("Number of Nodes Misscheduled", status.number_misscheduled());
  // kubectl counts the pods by phase; describe sees only the DaemonSet, so this is
  // read from its status: ready pods run, the others scheduled wait. DaemonSet pods
  // restart Always, so they do not end Succeeded or Failed.
  int32_t running = status.number_ready();
  int32_t waiting = std::max(0, status.current_number_scheduled() - running);
  w.Field(0, "Pods Status",
          absl::StrFormat("%d Running / %d Waiting / 0 Succeeded / 0 Failed", running, waiting));
  describe::PodTemplate(w, ds.spec().template_());
}

void ReplicaSetBody(DescribeWriter& w, const reef::v1::ReplicaSet& rs) {
  const reef::v1::ReplicaSetStatus& status = rs.status();
  w.Field(0, "Selector", DescribeSelector(rs.spec().selector()));
  for (const auto& ref : rs.metadata().owner_references()) {
    if (ref.controller()) w.Field(0, "Controlled By", reef::StrCat(ref.kind(), "/", ref.name()));
  }
  w.Field(0, "Replicas", absl::StrFormat("%d current / %d desired", status.replicas(),
                                         rs.spec().has_replicas() ? rs.spec().replicas() : 1));
  // As for DaemonSets, read from the status: ready pods run, the others wait.
  int32_t running = status.ready_replicas();
  w.Field(0, "Pods Status",
          absl::StrFormat("%d Running / %d Waiting / 0 Succeeded / 0 Failed", running,
                          std::max(0, status.replicas() - running)));
  describe::PodTemplate(w, rs.spec().template_());
}

// ---- core -------------------------------------------------------------------------

void ConfigMapBody(DescribeWriter& w, const reef::v1::ConfigMap& cm) {
  w.Blank();
  w.Text("Data\n====");
  for (const auto& [key, value] : describe::Sorted(cm.data())) {
    w.Text(reef::StrCat(key, ":\n----"));
    w.Text(value);
    w.Blank();
  }
  w.Blank();
  w.Text("BinaryData\n====");
  for (const auto& [key, value] : describe::Sorted(cm.binary_data())) {
    w.Text(absl::StrCat(key, ": ", value.size(), " bytes"));
  }
  w.Blank();
}

// Sizes only: a Secret's values never reach the terminal.
void SecretBody(DescribeWriter& w, const reef::v1::Secret& secret) {
  w.Blank();
  w.Field(0, "Type", secret.type());
  w.Blank();
  w.Text("Data\n====");
  // stringData is merged into data on write; an object not yet written may hold both.
  std::map<std::string, size_t> sizes;
  for (const auto& [key, value] : secret.data()) sizes[key] = value.size();
  for (const auto& [key, value] : secret.string_data()) sizes[key] = value.size();
  for (const auto& [key, size] : sizes) w.Field(0, key, absl::StrCat(size, " bytes"));
  w.Blank();
}

void NamespaceBody(DescribeWriter& w, const reef::v1::Namespace& ns) {
  w.Field(0, "Status", ns.status().phase());
}

void EventBody(DescribeWriter& w, const reef::v1::Event& e) {
  const reef::v1::ObjectReference& ref = e.involved_object();
  w.Heading(0, "Involved Object");
  w.Field(1, "Kind", ref.kind());
  if (!ref.namespace_().empty()) w.Field(1, "Namespace", ref.namespace_());
  w.Field(1, "Name", ref.name());
  if (!ref.field_path().empty()) w.Field(1, "Field Path", ref.field_path());
  w.Field(0, "Type", e.type());
  w.Field(0, "Reason", e.reason());
  w.Field(0, "Message", e.message());
  std::string source = e.source().component();
  if (!e.source().host().empty()) {
    absl::StrAppend(&source, source.empty() ? "" : ", ", e.source().host());
  }
  w.Field(0, "Source", source);
  w.Field(0, "Count", absl::StrCat(e.count()));
  w.Field(0, "First Seen", DescribeTime(e.first_timestamp()));
  w.Field(0, "Last Seen", DescribeTime(e.last_timestamp()));
}

// ---- events table ---------------------------------------------------------------

absl::Time EventTime(std::string_view text) {
  absl::StatusOr<absl::Time> t = ParseTimestamp(text);
  return t.ok() ? *t : absl::InfinitePast();
}

std::string Since(std::string_view timestamp, absl::Time now) {
  if (timestamp.empty()) return "<unknown>";
  absl::StatusOr<absl::Time> t = ParseTimestamp(timestamp);
  return t.ok() ? HumanDuration(now - *t) : "<unknown>";
}

// kubectl's Age column: "5m" for a single occurrence, "5m (x3 over 1h)" for a
// repeated one (age of the last, count, age of the first).
std::string EventAge(const reef::v1::Event& e, absl::Time now) {
  const std::string& last = e.last_timestamp().empty() ? e.first_timestamp() : e.last_timestamp();
  if (e.count() <= 1) return Since(last, now);
  const std::string& first = e.first_timestamp().empty() ? last : e.first_timestamp();
  return absl::StrFormat("%s (x%d over %s)", Since(last, now), e.count(), Since(first, now));
}

void EventsTable(DescribeWriter& w, const std::vector<Object>& objects, absl::Time now) {
  std::vector<const reef::v1::Event*> events;
  for (const Object& o : objects) {
    if (o.has_event()) events.push_back(&o.event());
  }
  if (events.empty()) {
    w.Field(0, "Events", "");
    return;
  }
  auto last_seen = [](const reef::v1::Event* e) {
    return EventTime(e->last_timestamp().empty() ? e->first_timestamp() : e->last_timestamp());
  };
  std::stable_sort(events.begin(), events.end(), [&](const auto* a, const auto* b) {
    return last_seen(a) < last_seen(b);
  });
  w.Heading(0, "Events");
  w.Line(1, {"Type", "Reason", "Age", "From", "Message"});
  w.Line(1, {"----", "------", "----", "----", "-------"});
  for (const reef::v1::Event* e : events) {
    w.Line(1, {e->type(), e->reason(), EventAge(*e, now), e->source().component(),
               std::string(absl::StripAsciiWhitespace(e->message()))});
  }
}

// `pods` are for a Node's pod sections; null leaves those out.
std::string Describe(const Object& object, const std::vector<Object>* pods,
                     const std::vector<Object>& events, absl::Time now) {
  const manifest::KindInfo* kind = manifest::KindOf(object);
  if (kind == nullptr) return "";
  DescribeWriter w;
  Header(w, object, *kind);
  switch (object.kind_case()) {
    case Object::kPod: describe::PodBody(w, object.pod()); break;
    case Object::kDeployment: DeploymentBody(w, object.deployment()); break;
    case Object::kDaemonSet: DaemonSetBody(w, object.daemon_set()); break;
    case Object::kReplicaSet: ReplicaSetBody(w, object.replica_set()); break;
    case Object::kConfigMap: ConfigMapBody(w, object.config_map()); break;
    case Object::kSecret: SecretBody(w, object.secret()); break;
    case Object::kNode: describe::NodeBody(w, object.node(), pods, now); break;
    case Object::kNamespace: NamespaceBody(w, object.namespace_()); break;
    case Object::kEvent: EventBody(w, object.event()); break;
    case Object::KIND_NOT_SET: break;
  }
  EventsTable(w, events, now);
  return w.Render();
}

}  // namespace

std::string DescribeObject(const Object& object, const std::vector<Object>& events,
                           absl::Time now) {
  return Describe(object, nullptr, events, now);
}

std::string DescribeNode(const Object& node, const std::vector<Object>& pods,
                         const std::vector<Object>& events, absl::Time now) {
  return Describe(node, &pods, events, now);
}

}  // namespace reef::cli
