#pragma once
// ApiService: the API for people and tools, over the Store. Validates and defaults
// every object, applies all-or-nothing, cascades deletes through ownerReferences,
// and streams watches (watch_reactor.h). Every call needs the admin credential
// (auth.h); the Do* methods below skip that check, for the controller's own use.

#include <memory>

#include "controller/agents/agent_hub.h"
#include "controller/metrics/metrics_cache.h"
#include "controller/store/store.h"
#include "reef/v1/api.grpc.pb.h"

namespace reef::controller {

class ApiServiceImpl final : public reef::v1::ApiService::CallbackService {
 public:
  ApiServiceImpl(store::Store* store, AgentHub* agents, MetricsCache* metrics = nullptr)
      : store_(store), agents_(agents), metrics_(metrics) {}

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* ctx, const v1::ApplyRequest* req,
                                  v1::ApplyResponse* resp) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const v1::GetRequest* req,
                                v1::Object* resp) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx, const v1::ListRequest* req,
                                 v1::ListResponse* resp) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx, const v1::DeleteRequest* req,
                                   v1::DeleteResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(grpc::CallbackServerContext* ctx,
                                                  const v1::WatchRequest* req) override;
  grpc::ServerUnaryReactor* Version(grpc::CallbackServerContext* ctx, const v1::VersionRequest* req,
                                    v1::VersionResponse* resp) override;
  grpc::ServerWriteReactor<v1::LogsChunk>* Logs(grpc::CallbackServerContext* ctx,
                                                const v1::LogsRequest* req) override;
  grpc::ServerUnaryReactor* Top(grpc::CallbackServerContext* ctx, const v1::TopRequest* req,
                                v1::TopResponse* resp) override;

  // The same operations without gRPC, for tests and for the controller's own use.
  absl::Status DoApply(const v1::ApplyRequest& req, v1::ApplyResponse* resp);
  absl::Status DoDelete(const v1::DeleteRequest& req, v1::DeleteResponse* resp);

 private:
  store::Store* store_;
  AgentHub* agents_;  // relays logs from the nodes
  MetricsCache* metrics_;  // the nodes' latest resource usage; null: Top is Unavailable
};

// Resolves a kind name from a request ("Pod"), or InvalidArgument naming it.
absl::StatusOr<const manifest::KindInfo*> RequestKind(const std::string& kind);

}  // namespace reef::controller
