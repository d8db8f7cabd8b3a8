#include "controller/controller.h"

#include "common/files.h"
#include "controller/pki/join_tokens.h"
#include "controller/store/sqlite_store.h"

namespace reef::controller {
namespace {

absl::StatusOr<std::pair<std::string, std::string>> SplitHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(
        reef::StrCat("--listen \"", listen, "\": expected HOST:PORT, e.g. 0.0.0.0:7443"));
  }
  return std::make_pair(listen.substr(0, colon), listen.substr(colon + 1));
}

bool IsWildcardHost(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
}

// How a client on this machine reaches a listener on host:port (admin.conf's server).
std::string LocalAddress(const std::string& host, int port) {
  if (host == "[::]" || host == "::") return reef::StrCat("[::1]:", port);
  return reef::StrCat(IsWildcardHost(host) ? "127.0.0.1" : host, ":", port);
}

// The namespaces every cluster has.
absl::Status Bootstrap(store::Store* store) {
  return store->Update([](store::Txn& txn) -> absl::Status {
    for (const char* name : {"default", "reef-system"}) {
      if (txn.Get(store::Key{"Namespace", "", name}).ok()) continue;
      v1::Object ns;
      ns.mutable_namespace_()->mutable_metadata()->set_name(name);
      ns.mutable_namespace_()->mutable_status()->set_phase("Active");
      RETURN_IF_ERROR(txn.Create(std::move(ns)).status());
    }
    return absl::OkStatus();
  }).status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Controller>> Controller::Start(const ControllerOptions& options) {
  ASSIGN_OR_RETURN(auto host_port, SplitHostPort(options.listen));
  RETURN_IF_ERROR(MakeDirs(options.data_dir, 0700));
  std::unique_ptr<Controller> c(new Controller());
  ASSIGN_OR_RETURN(c->store_, store::OpenSqliteStore(options.data_dir + "/reef.db"));
  RETURN_IF_ERROR(Annotate(Bootstrap(c->store_.get()), "bootstrap the store"));
  c->leases_ = std::make_unique<reconcile::NodeLeases>(options.node_lease_duration);
  reconcile::ReconcilerOptions loops;
  loops.node_lease_duration = options.node_lease_duration;
  loops.pod_eviction_timeout = options.pod_eviction_timeout;
  ASSIGN_OR_RETURN(loops.enabled, reconcile::ParseControllers(options.controllers));
  ASSIGN_OR_RETURN(c->reconcilers_, reconcile::Reconcilers::Start(c->store_.get(), c->leases_.get(), loops));
  AgentHubOptions hub;
  hub.store = c->store_.get();
  hub.lease = options.node_lease_duration;
  if (!options.cluster_cidr.empty()) RETURN_IF_ERROR(ValidateClusterCidr(options.cluster_cidr));
  hub.cluster_cidr = options.cluster_cidr;
  // Four heartbeats per lease, as the kubelet's 10 s in a 40 s lease.
  const absl::Duration heartbeat = std::min(absl::Seconds(10), options.node_lease_duration / 4);
  hub.heartbeat = heartbeat;
  hub.renew_lease = [leases = c->leases_.get()](const std::string& node, absl::Time at) { leases->Renew(node, at); };
  ASSIGN_OR_RETURN(c->hub_, AgentHub::Start(std::move(hub)));
  ClusterPkiOptions pki_options{options.data_dir + "/pki", options.tls_sans};
  if (const std::string& host = host_port.first; !IsWildcardHost(host)) {
    // Clients dial the address the controller listens on: the certificate covers it.
    pki_options.extra_sans.push_back(host.front() == '[' ? host.substr(1, host.size() - 2) : host);
  }
  ASSIGN_OR_RETURN(c->pki_, ClusterPki::LoadOrCreate(pki_options));
  ASSIGN_OR_RETURN(c->node_token_path_, EnsureNodeToken(*c->store_, options.data_dir, c->pki_->ca_sha256()));
  // Figures older than three heartbeats are not served: the agent stopped measuring.
  c->metrics_ = std::make_unique<MetricsCache>(&Clock::Real(), 3 * heartbeat);
  c->api_ = std::make_unique<ApiServiceImpl>(c->store_.get(), c->hub_.get(), c->metrics_.get());
  c->agent_ = std::make_unique<AgentServiceImpl>(c->store_.get(), c->pki_.get(),
                                                 AgentServiceOptions{options.node_cert_validity, c->metrics_.get()},
                                                 c->hub_.get());

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, c->pki_->ServerCredentials(), &port);
  builder.RegisterService(c->api_.get());
  builder.RegisterService(c->agent_.get());
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  // Find dead clients (a watch from a laptop that slept) without waiting for TCP.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  c->server_ = builder.BuildAndStart();
  if (c->server_ == nullptr || port == 0) {
    return absl::UnavailableError(reef::StrCat("cannot listen on ", options.listen,
                                               " (address in use or not local?)"));
  }
  c->address_ = reef::StrCat(host_port.first, ":", port);
  // Written at every start: the port may differ, the credential stays the same.
  c->admin_config_path_ = options.data_dir + "/admin.conf";
  RETURN_IF_ERROR(WriteFileAtomic(c->admin_config_path_,
                                  c->pki_->AdminConfig(LocalAddress(host_port.first, port)).Format(), 0600));
  return c;
}

void Controller::Shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (reconcilers_) reconcilers_->Stop();
}

Controller::~Controller() { Shutdown(); }

}  // namespace reef::controller
