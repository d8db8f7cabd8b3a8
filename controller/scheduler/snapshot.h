#pragma once
// The scheduler's picture of the nodes for one pass: each node with what it offers
// (allocatable) and what its pods already take (requests, host ports, how many pods
// of each workload), built once from the cache and updated in place as the pass
// binds pods, so that a burst of pods is placed without re-reading anything.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/reconcile/pods.h"
#include "controller/reconcile/state.h"

namespace reef::scheduler {

using reconcile::ObjectPtr;
using reconcile::Requests;

// The label that names a node's zone; replicas are spread over zones as well.
inline constexpr char kZoneLabel[] = "topology.kubernetes.io/zone";

struct HostPort {
  std::string protocol;
  std::string ip;  // "0.0.0.0" when the pod did not pick one
  int32_t port = 0;
};

// What the scheduler needs of a pod, worked out once.
struct PodInfo {
  const v1::Pod* pod = nullptr;
  Requests requests;
  std::string owner_uid;  // its controller; empty for a standalone pod
  std::vector<HostPort> host_ports;

  static PodInfo Of(const v1::Pod& pod);
};

struct NodeInfo {
  ObjectPtr object;
  const v1::Node* node = nullptr;
  std::string zone;
  Requests allocatable;
  int64_t allocatable_pods = -1;  // -1: the node sets no limit
  Requests requested;
  int64_t pods = 0;
  std::vector<HostPort> host_ports;
  std::unordered_map<std::string, int> pods_by_owner;

  const std::string& name() const { return node->metadata().name(); }
};

class Snapshot {
 public:
  // `pods` may be every pod: only active pods bound to one of `nodes` count.
  Snapshot(const std::vector<ObjectPtr>& nodes, const std::vector<ObjectPtr>& pods);

  std::vector<NodeInfo>& nodes() { return nodes_; }
  // Pods of `owner_uid` on nodes of `zone`.
  int PodsInZone(const std::string& zone, const std::string& owner_uid) const;
  // Counts `pod` as bound to `node` for the rest of the pass.
  void Add(NodeInfo* node, const PodInfo& pod);

 private:
  std::vector<NodeInfo> nodes_;
  std::map<std::pair<std::string, std::string>, int> zone_owner_pods_;
};

}  // namespace reef::scheduler
