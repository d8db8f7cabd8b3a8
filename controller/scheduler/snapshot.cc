#include "controller/scheduler/snapshot.h"

#include "api/manifest/quantity.h"
#include "controller/reconcile/owners.h"

namespace reef::scheduler {
namespace {

int64_t Quantity(const google::protobuf::Map<std::string, std::string>& list, const char* name,
                 bool milli, int64_t missing) {
  auto it = list.find(name);
  if (it == list.end()) return missing;
  auto q = manifest::Quantity::Parse(it->second);
  if (!q.ok()) return missing;
  return milli ? q->MilliValue() : q->Value();
}

}  // namespace

PodInfo PodInfo::Of(const v1::Pod& pod) {
  PodInfo info;
  info.pod = &pod;
  info.requests = reconcile::PodRequests(pod.spec());
  if (const v1::OwnerReference* ref = reconcile::ControllerRef(pod.metadata())) info.owner_uid = ref->uid();
  for (const v1::Container& c : pod.spec().containers()) {
    for (const v1::ContainerPort& p : c.ports()) {
      if (p.host_port() == 0) continue;
      info.host_ports.push_back({p.protocol().empty() ? "TCP" : p.protocol(),
                                 p.host_ip().empty() ? "0.0.0.0" : p.host_ip(), p.host_port()});
    }
  }
  return info;
}

Snapshot::Snapshot(const std::vector<ObjectPtr>& nodes, const std::vector<ObjectPtr>& pods) {
  nodes_.reserve(nodes.size());
  std::unordered_map<std::string, size_t> index;
  for (const ObjectPtr& o : nodes) {
    const v1::Node& node = o->node();
    NodeInfo info;
    info.object = o;
    info.node = &node;
    auto zone = node.metadata().labels().find(kZoneLabel);
    if (zone != node.metadata().labels().end()) info.zone = zone->second;
    const auto& alloc = node.status().allocatable();
    // Like Kubernetes, a node that states no cpu or memory offers none.
    info.allocatable.milli_cpu = Quantity(alloc, "cpu", true, 0);
    info.allocatable.memory = Quantity(alloc, "memory", false, 0);
    info.allocatable_pods = Quantity(alloc, "pods", false, -1);
    index[node.metadata().name()] = nodes_.size();
    nodes_.push_back(std::move(info));
  }
  for (const ObjectPtr& o : pods) {
    const v1::Pod& pod = o->pod();
    if (pod.spec().node_name().empty() || !reconcile::IsActive(pod)) continue;
    auto it = index.find(pod.spec().node_name());
    if (it == index.end()) continue;
    Add(&nodes_[it->second], PodInfo::Of(pod));
  }
}

int Snapshot::PodsInZone(const std::string& zone, const std::string& owner_uid) const {
  auto it = zone_owner_pods_.find({zone, owner_uid});
  return it == zone_owner_pods_.end() ? 0 : it->second;
}

void Snapshot::Add(NodeInfo* node, const PodInfo& pod) {
  node->requested.milli_cpu += pod.requests.milli_cpu;
  node->requested.memory += pod.requests.memory;
  ++node->pods;
  node->host_ports.insert(node->host_ports.end(), pod.host_ports.begin(), pod.host_ports.end());
  if (!pod.owner_uid.empty()) {
    ++node->pods_by_owner[pod.owner_uid];
    if (!node->zone.empty()) ++zone_owner_pods_[{node->zone, pod.owner_uid}];
  }
}

}  // namespace reef::scheduler
