#pragma once
// A cluster without processes, for the control loops' unit tests: a SQLite store in
// memory, the loops (no worker threads) and a FakeClock. Tests write objects as
// `reefctl apply` and the agents would, then Run() the loops until they have
// nothing left to do, and look at the store.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/reconcile/node_leases.h"
#include "controller/reconcile/reconcilers.h"
#include "controller/store/store.h"

namespace reef::testing {

class Workloads {
 public:
  explicit Workloads(reconcile::ReconcilerOptions options = {});
  ~Workloads();

  // Runs every queued item that is due by the fake clock until none is left.
  int Run() { return loops->RunUntilIdleForTest(); }
  void Advance(absl::Duration d) { clock.Advance(d); }

  // As `reefctl apply` would: defaulted, validated, status kept from the store.
  void Apply(const std::string& yaml);
  // As an agent or `apply --subresource=status` would: the status of `yaml`'s
  // objects replaces the stored one.
  void WriteStatus(const std::string& yaml);

  // A Ready node with these labels (plus kubernetes.io/hostname), allocatable
  // 4 cpu / 8Gi / 110 pods, whose agent just renewed its lease.
  void AddNode(const std::string& name, const std::map<std::string, std::string>& labels = {},
               const std::string& cpu = "4", const std::string& memory = "8Gi");
  // Changes a node in the store.
  void EditNode(const std::string& name, const std::function<void(v1::Node*)>& edit);
  // The agent of `node` heartbeats now.
  void Renew(const std::string& node) { leases.Renew(node, clock.Now()); }

  // The pod's Ready condition (and phase Running), as the agent reports readiness.
  void SetReady(const v1::Pod& pod, bool ready = true);
  // Makes every active pod of `selector` ("" all) that is bound to a node Ready.
  int ReadyAll(const std::string& selector = "");

  v1::Object Get(const std::string& kind, const std::string& name, const std::string& ns = "default");
  bool Exists(const std::string& kind, const std::string& name, const std::string& ns = "default");
  std::vector<v1::Object> List(const std::string& kind, const std::string& selector = "");
  std::vector<v1::Pod> Pods(const std::string& selector = "");
  // Pods per node name ("" for unbound ones).
  std::map<std::string, int> PodsPerNode(const std::string& selector = "");
  int64_t Revision() { return store->Revision(); }

  FakeClock clock;
  reconcile::NodeLeases leases;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<reconcile::Reconcilers> loops;
};

// A Deployment manifest: `replicas` of one busybox container with `image`.
std::string DeploymentYaml(const std::string& name, int replicas, const std::string& image,
                           const std::string& extra_spec = "");

}  // namespace reef::testing
