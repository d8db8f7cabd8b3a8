#pragma once
// AgentService: the agents' side of the controller (api/reef/v1/agent.proto).
//
// Join and Renew hand out node certificates; the node's identity from then on is its
// certificate (controller/server/auth.h). Connect, the agent's long-lived stream,
// is an AgentStream (agent_stream.h) feeding the AgentHub.

#include "absl/time/time.h"
#include "controller/agents/agent_hub.h"
#include "controller/metrics/metrics_cache.h"
#include "controller/pki/cluster_pki.h"
#include "controller/store/store.h"
#include "reef/v1/agent.grpc.pb.h"

namespace reef::controller {

struct AgentServiceOptions {
  absl::Duration node_cert_validity = absl::Hours(24 * 365);
  MetricsCache* metrics = nullptr;  // receives the heartbeats' resource usage (optional)
};

class AgentServiceImpl final : public reef::v1::AgentService::CallbackService {
 public:
  AgentServiceImpl(store::Store* store, const ClusterPki* pki, AgentServiceOptions options, AgentHub* hub)
      : store_(store), pki_(pki), options_(options), hub_(hub) {}

  // No client certificate needed: the join token is the credential.
  grpc::ServerUnaryReactor* Join(grpc::CallbackServerContext* ctx, const v1::JoinRequest* req,
                                 v1::JoinResponse* resp) override;
  // Needs the node's certificate; the new one names the same node.
  grpc::ServerUnaryReactor* Renew(grpc::CallbackServerContext* ctx, const v1::RenewRequest* req,
                                  v1::RenewResponse* resp) override;
  // Needs the node's certificate; the stream speaks for that node only.
  grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>* Connect(grpc::CallbackServerContext* ctx) override;

 private:
  absl::Status DoJoin(const v1::JoinRequest& req, v1::JoinResponse* resp, std::string* token_id);

  store::Store* store_;
  const ClusterPki* pki_;
  AgentServiceOptions options_;
  AgentHub* hub_;
};

}  // namespace reef::controller
