#include "controller/server/agent_service.h"

#include "api/manifest/names.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "controller/pki/join_tokens.h"
#include "controller/server/agent_stream.h"
#include "controller/server/auth.h"

namespace reef::controller {
namespace {

// A certificate's common name holds at most 64 characters (RFC 5280 ub-common-name).
constexpr size_t kMaxNodeNameLength = 64;

grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

absl::Status ValidateNodeName(const std::string& name) {
  if (name.size() > kMaxNodeNameLength) {
    return absl::InvalidArgumentError(reef::StrCat("node name \"", name, "\" is longer than ",
                                                   kMaxNodeNameLength, " characters"));
  }
  return Annotate(manifest::ValidateDns1123Subdomain(name), "node name");
}

}  // namespace

absl::Status AgentServiceImpl::DoJoin(const v1::JoinRequest& req, v1::JoinResponse* resp,
                                      std::string* token_id) {
  // The id names the token in the log, also when it is refused.
  if (auto parsed = JoinToken::Parse(req.token()); parsed.ok()) *token_id = parsed->id;
  RETURN_IF_ERROR(CheckJoinToken(*store_, req.token(), pki_->ca_sha256(), absl::Now()).status());
  RETURN_IF_ERROR(ValidateNodeName(req.node_name()));
  ASSIGN_OR_RETURN(pki::Certificate cert,
                   pki_->IssueNodeCertificate(req.node_name(), req.csr_pem(), options_.node_cert_validity));
  resp->set_certificate_pem(cert.ToPem());
  resp->set_ca_pem(pki_->ca_certificate().ToPem());
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AgentServiceImpl::Join(grpc::CallbackServerContext* ctx,
                                                 const v1::JoinRequest* req, v1::JoinResponse* resp) {
  std::string token_id;
  absl::Status s = DoJoin(*req, resp, &token_id);
  std::string who = reef::StrCat("node \"", req->node_name(), "\" from ", ctx->peer(),
                                 token_id.empty() ? "" : reef::StrCat(" with token ", token_id));
  if (s.ok()) {
    REEF_LOG(Info) << "join: " << who << " joined";
  } else {
    REEF_LOG(Warning) << "join: refused " << who << ": " << s.message();
  }
  return Respond(ctx, s);
}

grpc::ServerUnaryReactor* AgentServiceImpl::Renew(grpc::CallbackServerContext* ctx,
                                                  const v1::RenewRequest* req, v1::RenewResponse* resp) {
  auto node = RequireNode(*ctx, "renew");
  if (!node.ok()) {
    REEF_LOG(Warning) << "renew: refused " << ctx->peer() << ": " << node.status().message();
    return Respond(ctx, node.status());
  }
  auto cert = pki_->IssueNodeCertificate(*node, req->csr_pem(), options_.node_cert_validity);
  if (!cert.ok()) {
    REEF_LOG(Warning) << "renew: refused node \"" << *node << "\": " << cert.status().message();
    return Respond(ctx, cert.status());
  }
  REEF_LOG(Info) << "renew: node \"" << *node << "\" has a new certificate until "
                 << FormatTimestamp(cert->not_after());
  resp->set_certificate_pem(cert->ToPem());
  return Respond(ctx, absl::OkStatus());
}

}  // namespace reef::controller

namespace reef::controller {

grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>* AgentServiceImpl::Connect(
    grpc::CallbackServerContext* ctx) {
  auto node = RequireNode(*ctx, "connect");
  if (!node.ok()) {
    REEF_LOG(Warning) << "connect: refused " << ctx->peer() << ": " << node.status().message();
    return RefuseBidi<v1::AgentMessage, v1::ControllerMessage>(node.status());
  }
  return AgentStream::Start(hub_, *node, options_.metrics);
}

}  // namespace reef::controller
