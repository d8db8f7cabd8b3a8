#include "controller/scheduler/scheduler.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "absl/strings/str_join.h"
#include "controller/scheduler/predicates.h"

namespace reef::scheduler {
namespace {

// Why a node was filtered out. Kept as codes (no strings) until a pod fits nowhere,
// which keeps the common path free of allocations.
enum class Reason { kNone, kNotReady, kUnschedulable, kTaint, kSelector, kPorts, kResources };

struct Verdict {
  Reason reason = Reason::kNone;
  const v1::Taint* taint = nullptr;
  bool cpu = false, memory = false, pods = false;  // which resources ran out
};

bool PortsConflict(const HostPort& a, const HostPort& b) {
  return a.port == b.port && a.protocol == b.protocol &&
         (a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0");
}

Verdict Filter(const PodInfo& pod, const NodeInfo& node) {
  const v1::PodSpec& spec = pod.pod->spec();
  if (!IsNodeReady(*node.node)) return {Reason::kNotReady};
  if (BlockedByCordon(spec, *node.node)) return {Reason::kUnschedulable};
  if (const v1::Taint* t = FindUntoleratedTaint(*node.node, spec.tolerations(), IsSchedulingEffect)) {
    return {Reason::kTaint, t};
  }
  if (!MatchesNodeSelector(spec, *node.node)) return {Reason::kSelector};
  for (const HostPort& want : pod.host_ports) {
    for (const HostPort& used : node.host_ports) {
      if (PortsConflict(want, used)) return {Reason::kPorts};
    }
  }
  Verdict v;
  v.cpu = pod.requests.milli_cpu > 0 &&
          node.requested.milli_cpu + pod.requests.milli_cpu > node.allocatable.milli_cpu;
  v.memory = pod.requests.memory > 0 &&
             node.requested.memory + pod.requests.memory > node.allocatable.memory;
  v.pods = node.allocatable_pods >= 0 && node.pods + 1 > node.allocatable_pods;
  if (v.cpu || v.memory || v.pods) v.reason = Reason::kResources;
  return v;
}

void Describe(const Verdict& v, std::map<std::string, int>* reasons) {
  switch (v.reason) {
    case Reason::kNone: break;
    case Reason::kNotReady: ++(*reasons)["node(s) were not ready"]; break;
    case Reason::kUnschedulable: ++(*reasons)["node(s) were unschedulable"]; break;
    case Reason::kTaint:
      ++(*reasons)[reef::StrCat("node(s) had untolerated taint {", v.taint->key(), ": ", v.taint->value(), "}")];
      break;
    case Reason::kSelector: ++(*reasons)["node(s) didn't match Pod's node affinity/selector"]; break;
    case Reason::kPorts: ++(*reasons)["node(s) didn't have free ports for the requested pod ports"]; break;
    case Reason::kResources:
      if (v.cpu) ++(*reasons)["Insufficient cpu"];
      if (v.memory) ++(*reasons)["Insufficient memory"];
      if (v.pods) ++(*reasons)["Too many pods"];
      break;
  }
}

double Share(int64_t used, int64_t available) {
  return available > 0 ? static_cast<double>(used) / static_cast<double>(available) : 0.0;
}

}  // namespace

Decision Schedule(const PodInfo& pod, Snapshot& snapshot) {
  Decision d;
  std::vector<NodeInfo>& nodes = snapshot.nodes();
  if (nodes.empty()) {
    d.message = "no nodes available to schedule pods";
    return d;
  }
  using Score = std::tuple<int, int, double, const std::string*>;
  Score best{};
  for (NodeInfo& node : nodes) {
    if (Filter(pod, node).reason != Reason::kNone) continue;
    int on_node = 0, in_zone = 0;
    if (!pod.owner_uid.empty()) {
      auto it = node.pods_by_owner.find(pod.owner_uid);
      on_node = it == node.pods_by_owner.end() ? 0 : it->second;
      if (!node.zone.empty()) in_zone = snapshot.PodsInZone(node.zone, pod.owner_uid);
    }
    double allocated =
        Share(node.requested.milli_cpu + pod.requests.milli_cpu, node.allocatable.milli_cpu) +
        Share(node.requested.memory + pod.requests.memory, node.allocatable.memory);
    Score score{on_node, in_zone, allocated, &node.name()};
    auto less = [](const Score& a, const Score& b) {
      return std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(a), *std::get<3>(a)) <
             std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b), *std::get<3>(b));
    };
    if (d.node == nullptr || less(score, best)) {
      d.node = &node;
      best = score;
    }
  }
  if (d.node != nullptr) return d;
  // Nothing fits: filter again, this time spelling out why (the rare, slow path).
  std::map<std::string, int> reasons;
  for (const NodeInfo& node : nodes) Describe(Filter(pod, node), &reasons);
  std::vector<std::string> parts;
  for (const auto& [reason, count] : reasons) parts.push_back(reef::StrCat(count, " ", reason));
  // kube-scheduler sorts "<count> <reason>" as strings.
  std::sort(parts.begin(), parts.end());
  d.message = reef::StrCat("0/", nodes.size(), " nodes are available: ", absl::StrJoin(parts, ", "), ".");
  return d;
}

}  // namespace reef::scheduler
