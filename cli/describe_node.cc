#include "cli/describe_node.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "absl/strings/str_format.h"
#include "api/manifest/quantity.h"
#include "common/clock.h"
#include "common/strings.h"

namespace reef::cli::describe {
namespace {

using manifest::Quantity;
using manifest::QuantityFormat;

// ---- resources ----------------------------------------------------------------------

// Quantities summed per resource name, spelled as Kubernetes spells a sum: in the
// format of its first term ("250m" + "0.5" is "750m", "64Mi" + "64Mi" is "128Mi").
class ResourceTotals {
 public:
  void Add(const google::protobuf::Map<std::string, std::string>& resources) {
    for (const auto& [name, text] : resources) {
      absl::StatusOr<Quantity> q = Quantity::Parse(text);
      if (!q.ok()) continue;  // the API validated it; nothing sensible to add
      auto [it, inserted] = totals_.try_emplace(name, Total{0, manifest::FormatOf(*q)});
      it->second.milli += q->MilliValue();
    }
  }

  // Raises each resource to at least what `resources` asks: an init container runs
  // alone, so the pod needs the larger of it and the sum of the app containers.
  void AtLeast(const google::protobuf::Map<std::string, std::string>& resources) {
    for (const auto& [name, text] : resources) {
      absl::StatusOr<Quantity> q = Quantity::Parse(text);
      if (!q.ok()) continue;
      auto it = totals_.find(name);
      if (it == totals_.end() || it->second.milli < q->MilliValue()) {
        totals_[name] = Total{q->MilliValue(), manifest::FormatOf(*q)};
      }
    }
  }

  void Add(const ResourceTotals& other) {
    for (const auto& [name, total] : other.totals_) {
      auto [it, inserted] = totals_.try_emplace(name, Total{0, total.format});
      it->second.milli += total.milli;
    }
  }

  int64_t Milli(const std::string& name) const {
    auto it = totals_.find(name);
    return it == totals_.end() ? 0 : it->second.milli;
  }

  // "250m (6%)": the total and its share of `allocatable`, truncated as kubectl does.
  std::string Share(const std::string& name,
                    const google::protobuf::Map<std::string, std::string>& allocatable) const {
    auto it = totals_.find(name);
    std::string text = it == totals_.end()
                           ? "0"
                           : manifest::FormatQuantity(it->second.milli, it->second.format);
    int64_t percent = 0;
    auto a = allocatable.find(name);
    if (a != allocatable.end()) {
      absl::StatusOr<Quantity> q = Quantity::Parse(a->second);
      if (q.ok() && q->MilliValue() > 0) percent = Milli(name) * 100 / q->MilliValue();
    }
    return absl::StrFormat("%s (%d%%)", text, percent);
  }

 private:
  struct Total {
    int64_t milli;
    QuantityFormat format;
  };
  std::map<std::string, Total> totals_;
};

// kubectl's PodRequestsAndLimits: the app containers' sum, or an init container's
// own value when that is larger.
std::pair<ResourceTotals, ResourceTotals> RequestsAndLimits(const reef::v1::PodSpec& spec) {
  ResourceTotals requests, limits;
  for (const auto& c : spec.containers()) {
    requests.Add(c.resources().requests());
    limits.Add(c.resources().limits());
  }
  for (const auto& c : spec.init_containers()) {
    requests.AtLeast(c.resources().requests());
    limits.AtLeast(c.resources().limits());
  }
  return {requests, limits};
}

bool Terminated(const reef::v1::Pod& pod) {
  return pod.status().phase() == "Succeeded" || pod.status().phase() == "Failed";
}

std::string Age(const std::string& timestamp, absl::Time now) {
  absl::StatusOr<absl::Time> t = ParseTimestamp(timestamp);
  return t.ok() ? HumanDuration(now - *t) : "<unknown>";
}

// Non-terminated Pods and Allocated resources, as kubectl's describeNodeResource.
void PodResources(DescribeWriter& w, const reef::v1::Node& node,
                  const std::vector<reef::v1::Object>& objects, absl::Time now) {
  std::vector<const reef::v1::Pod*> pods;
  for (const auto& o : objects) {
    if (o.has_pod() && o.pod().spec().node_name() == node.metadata().name() &&
        !Terminated(o.pod())) {
      pods.push_back(&o.pod());
    }
  }
  const auto& allocatable = node.status().allocatable();
  w.Field(0, "Non-terminated Pods", absl::StrFormat("(%d in total)", pods.size()));
  // The empty cell after Name is kubectl's too (a doubled tab in its format).
  w.Line(1, {"Namespace", "Name", "", "CPU Requests", "CPU Limits", "Memory Requests",
             "Memory Limits", "Age"});
  w.Line(1, {"---------", "----", "", "------------", "----------", "---------------",
             "-------------", "---"});
  ResourceTotals requests, limits;
  for (const reef::v1::Pod* pod : pods) {
    auto [req, lim] = RequestsAndLimits(pod->spec());
    w.Line(1, {pod->metadata().namespace_(), pod->metadata().name(), "",
               req.Share("cpu", allocatable), lim.Share("cpu", allocatable),
               req.Share("memory", allocatable), lim.Share("memory", allocatable),
               Age(pod->metadata().creation_timestamp(), now)});
    requests.Add(req);
    limits.Add(lim);
  }
  w.Heading(0, "Allocated resources");
  w.Line(1, {"(Total limits may be over 100 percent, i.e., overcommitted.)"});
  w.Line(1, {"Resource", "Requests", "Limits"});
  w.Line(1, {"--------", "--------", "------"});
  for (const char* name : {"cpu", "memory", "ephemeral-storage"}) {
    w.Line(1, {name, requests.Share(name, allocatable), limits.Share(name, allocatable)});
  }
}

// ---- the node's own status --------------------------------------------------------

void Taints(DescribeWriter& w, const reef::v1::NodeSpec& spec) {
  std::vector<const reef::v1::Taint*> sorted;
  for (const auto& t : spec.taints()) sorted.push_back(&t);
  // kubectl's order: by effect, then key.
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return std::tie(a->effect(), a->key()) < std::tie(b->effect(), b->key());
  });
  std::vector<std::string> taints;
  for (const auto* t : sorted) {
    std::string value = t->value().empty() ? "" : reef::StrCat("=", t->value());
    taints.push_back(reef::StrCat(t->key(), value, ":", t->effect()));
  }
  MultilineField(w, 0, "Taints", taints);
}

void Conditions(DescribeWriter& w, const reef::v1::NodeStatus& status) {
  if (status.conditions().empty()) {
    w.Field(0, "Conditions", "");
    return;
  }
  w.Heading(0, "Conditions");
  w.Line(1, {"Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message"});
  w.Line(1, {"----", "------", "-----------------", "------------------", "------", "-------"});
  for (const auto& c : status.conditions()) {
    w.Line(1, {reef::StrCat(c.type(), " "), reef::StrCat(c.status(), " "),
               reef::StrCat(DescribeTime(c.last_heartbeat_time()), " "),
               reef::StrCat(DescribeTime(c.last_transition_time()), " "),
               reef::StrCat(c.reason(), " "), c.message()});
  }
}

void SystemInfo(DescribeWriter& w, const reef::v1::NodeSystemInfo& info) {
  w.Heading(0, "System Info");
  w.Field(1, "Machine ID", info.machine_id());
  w.Field(1, "Boot ID", info.boot_id());
  w.Field(1, "Kernel Version", info.kernel_version());
  w.Field(1, "OS Image", info.os_image());
  w.Field(1, "Operating System", info.operating_system());
  w.Field(1, "Architecture", info.architecture());
  w.Field(1, "Container Runtime Version", info.container_runtime_version());
  w.Field(1, "Agent Version", info.kubelet_version());
}

}  // namespace

void NodeBody(DescribeWriter& w, const reef::v1::Node& node,
              const std::vector<reef::v1::Object>* pods, absl::Time now) {
  Taints(w, node.spec());
  w.Field(0, "Unschedulable", node.spec().unschedulable() ? "true" : "false");
  const reef::v1::NodeStatus& status = node.status();
  Conditions(w, status);
  if (status.addresses().empty()) {
    w.Field(0, "Addresses", "");
  } else {
    w.Heading(0, "Addresses");
    for (const auto& a : status.addresses()) w.Field(1, a.type(), a.address());
  }
  ResourceList(w, 0, "Capacity", status.capacity());
  ResourceList(w, 0, "Allocatable", status.allocatable());
  SystemInfo(w, status.node_info());
  if (!node.spec().pod_cidr().empty()) w.Field(0, "PodCIDR", node.spec().pod_cidr());
  if (pods != nullptr) PodResources(w, node, *pods, now);
}

}  // namespace reef::cli::describe
