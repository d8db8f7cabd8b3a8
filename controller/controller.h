#pragma once
// The controller process: the store under its data dir, the gRPC server and its
// services. main.cc only parses flags and waits for a signal.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "controller/pki/cluster_pki.h"
#include "controller/agents/agent_hub.h"
#include "controller/agents/pod_cidr.h"
#include "controller/reconcile/node_leases.h"
#include "controller/reconcile/reconcilers.h"
#include "controller/server/agent_service.h"
#include "controller/server/api_service.h"
#include "controller/store/store.h"

namespace reef::controller {

struct ControllerOptions {
  std::string data_dir = "/var/lib/reef";
  std::string listen = "0.0.0.0:7443";  // HOST:PORT; port 0 picks a free one
  // The listener is TLS only, with the cluster PKI under DATA_DIR/pki. Extra names
  // and addresses (IP or DNS) the server certificate covers, besides localhost,
  // 127.0.0.1, ::1, the hostname and a specific --listen host.
  std::vector<std::string> tls_sans;
  // How long a node certificate from Join or Renew is valid.
  absl::Duration node_cert_validity = absl::Hours(24 * 365);
  // A node whose agent was not heard from for this long goes NotReady.
  absl::Duration node_lease_duration = absl::Seconds(40);
  // Pods of ReplicaSets on a NotReady node are replaced elsewhere after this long.
  absl::Duration pod_eviction_timeout = absl::Minutes(5);
  // Which control loops run (reconcile::ParseControllers): "*" all, "-*" none.
  std::string controllers = "*";
  // Cut into a /24 per node for its pods (see agents/pod_cidr.h); empty: none.
  std::string cluster_cidr = kDefaultClusterCidr;
};

class Controller {
 public:
  static absl::StatusOr<std::unique_ptr<Controller>> Start(const ControllerOptions& options);
  ~Controller();

  // "HOST:PORT" actually bound (with the real port when 0 was asked for).
  const std::string& address() const { return address_; }
  store::Store* store() { return store_.get(); }
  // DATA_DIR/admin.conf (the admin's client config) and DATA_DIR/node-token (a join
  // token), both 0600.
  const std::string& admin_config_path() const { return admin_config_path_; }
  const std::string& node_token_path() const { return node_token_path_; }
  // Agents' heartbeats renew these (in memory); the node lifecycle loop reads them.
  reconcile::NodeLeases* leases() { return leases_.get(); }
  AgentHub* agents() { return hub_.get(); }
  // Stops accepting calls, ends open watches, and returns once in-flight calls are
  // done; then stops the control loops.
  void Shutdown();

 private:
  Controller() = default;
  std::unique_ptr<store::Store> store_;
  // After the store, so destroyed before it; the leases before the loops and the
  // agent hub that use them.
  std::unique_ptr<reconcile::NodeLeases> leases_;
  std::unique_ptr<reconcile::Reconcilers> reconcilers_;
  // Agents' streams route through it; it outlives the server that carries them.
  std::unique_ptr<AgentHub> hub_;
  // The agents' heartbeats fill it; ApiService.Top reads it. In memory only.
  std::unique_ptr<MetricsCache> metrics_;
  std::unique_ptr<ClusterPki> pki_;
  std::unique_ptr<ApiServiceImpl> api_;
  std::unique_ptr<AgentServiceImpl> agent_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string admin_config_path_;
  std::string node_token_path_;
};

// Upper bound of one request on the wire: a manifest at its size limit plus framing.
inline constexpr int kMaxRequestBytes = 4 * 1024 * 1024;

}  // namespace reef::controller
