#include "controller/server/auth.h"

#include <algorithm>

#include "common/pki.h"
#include "controller/pki/cluster_pki.h"

namespace reef::controller {

bool PeerIdentity::InGroup(std::string_view group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::string PeerIdentity::Describe() const {
  if (!has_certificate) return "a client without a certificate";
  if (InGroup(kNodesGroup)) return reef::StrCat("node \"", common_name, "\"");
  if (InGroup(kAdminsGroup)) return reef::StrCat("admin \"", common_name, "\"");
  return reef::StrCat("\"", common_name, "\"");
}

PeerIdentity IdentityOf(const grpc::CallbackServerContext& ctx) {
  PeerIdentity id;
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr) return id;
  // The whole certificate rather than gRPC's "x509_subject" string: reading the
  // organizations from a printed DN would mean parsing its escaping.
  std::vector<grpc::string_ref> pem = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pem.empty()) return id;
  auto cert = pki::Certificate::FromPem(std::string_view(pem.front().data(), pem.front().size()));
  if (!cert.ok()) return id;
  pki::Subject subject = cert->subject();
  id.has_certificate = true;
  id.common_name = std::move(subject.common_name);
  id.groups = std::move(subject.organizations);
  return id;
}

absl::Status RequireAdmin(const grpc::CallbackServerContext& ctx, std::string_view method) {
  PeerIdentity id = IdentityOf(ctx);
  if (id.InGroup(kAdminsGroup)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      reef::StrCat(id.Describe(), ": ", method, " requires the admin credential (admin.conf)"));
}

absl::StatusOr<std::string> RequireNode(const grpc::CallbackServerContext& ctx, std::string_view method) {
  PeerIdentity id = IdentityOf(ctx);
  if (id.InGroup(kNodesGroup) && !id.common_name.empty()) return id.common_name;
  return absl::PermissionDeniedError(reef::StrCat(
      id.Describe(), ": ", method, " requires a node certificate (join the cluster first)"));
}

}  // namespace reef::controller
