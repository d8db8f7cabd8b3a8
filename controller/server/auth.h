#pragma once
// Who is calling: the identity in the caller's TLS client certificate, and the two
// checks the services make with it. The listener verifies every presented
// certificate against the cluster CA during the handshake, so a certificate seen
// here is one the cluster issued; a caller may also present none (the Join call).

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace reef::controller {

struct PeerIdentity {
  bool has_certificate = false;
  std::string common_name;          // "admin", a node's name
  std::vector<std::string> groups;  // the certificate's organizations: "reef:admins"

  bool InGroup(std::string_view group) const;
  // For messages and logs: `node "edge-1"`, `admin "admin"`, "a client without a
  // certificate".
  std::string Describe() const;
};

PeerIdentity IdentityOf(const grpc::CallbackServerContext& ctx);

// OK for an admin (O=reef:admins); PermissionDenied otherwise:
// `node "edge-1": apply requires the admin credential (admin.conf)`.
absl::Status RequireAdmin(const grpc::CallbackServerContext& ctx, std::string_view method);

// The caller's node name for a node (O=reef:nodes); PermissionDenied otherwise.
absl::StatusOr<std::string> RequireNode(const grpc::CallbackServerContext& ctx, std::string_view method);

// A server-streaming reactor that ends at once with `status`: how a streaming
// method turns a caller away. gRPC owns it (deleted in OnDone).
template <typename T>
grpc::ServerWriteReactor<T>* RefuseStream(const absl::Status& status) {
  class Refused final : public grpc::ServerWriteReactor<T> {
   public:
    explicit Refused(const grpc::Status& s) { this->Finish(s); }
    void OnDone() override { delete this; }
  };
  return new Refused(grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message())));
}

}  // namespace reef::controller
