#pragma once
// The controller's own PKI under DATA_DIR/pki/: the cluster CA, the server's TLS
// certificate and the admin client certificate, created at first start and reused
// after. Identities are carried in certificates: the common name is who, the
// organization is the group (kAdminsGroup, kNodesGroup).
//
//   ca.crt, ca.key          cluster CA (10 years); its sha256 is pinned by join tokens
//   server.crt, server.key  TLS server certificate, reissued when the SANs change or
//                           it nears expiry
//   admin.crt, admin.key    CN=admin, O=reef:admins, for admin.conf
//
// Keys are 0600, the folder 0700. Thread-safe after construction (const members).

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>
#include <vector>

#include "common/client_config.h"
#include "common/pki.h"

namespace reef::controller {

inline constexpr char kAdminsGroup[] = "reef:admins";
inline constexpr char kNodesGroup[] = "reef:nodes";

struct ClusterPkiOptions {
  std::string dir;  // DATA_DIR/pki
  // Names and addresses the server certificate covers besides localhost, 127.0.0.1,
  // ::1 and the hostname: --tls-san values (IP literals or DNS names).
  std::vector<std::string> extra_sans;
};

class ClusterPki {
 public:
  static absl::StatusOr<std::unique_ptr<ClusterPki>> LoadOrCreate(const ClusterPkiOptions& options);
  ClusterPki(const ClusterPki&) = delete;
  ClusterPki& operator=(const ClusterPki&) = delete;

  const pki::Certificate& ca_certificate() const { return ca_.certificate(); }
  // The CA fingerprint a join token carries.
  const std::string& ca_sha256() const { return ca_sha256_; }
  const pki::Certificate& server_certificate() const { return server_cert_; }

  // TLS for the listener: the server certificate with the CA appended (so that an
  // agent can read the CA from the handshake), client certificates requested but
  // not required, and verified against the cluster CA when sent.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() const;

  // admin.conf's content for a controller reachable at `server`.
  ClientConfigFile AdminConfig(const std::string& server) const;

  // A node's client certificate: CN=<node_name>, O=reef:nodes, clientAuth, for the
  // key in `csr_pem`. The CSR must be well formed, self-signed, and name node_name as
  // its common name (InvalidArgument otherwise).
  absl::StatusOr<pki::Certificate> IssueNodeCertificate(const std::string& node_name,
                                                        std::string_view csr_pem,
                                                        absl::Duration validity) const;

 private:
  explicit ClusterPki(pki::CertificateAuthority ca) : ca_(std::move(ca)) {}

  pki::CertificateAuthority ca_;
  std::string ca_sha256_;
  pki::Certificate server_cert_ = pki::Certificate::Adopt(nullptr);
  std::string server_key_pem_;
  std::string admin_cert_pem_;
  std::string admin_key_pem_;
};

}  // namespace reef::controller
