#pragma once
// Joining the cluster and the node's credential on disk.
//
// A join (JoinCluster) trusts nothing first: it fetches the cluster CA over an
// unverified TLS handshake and keeps it only if its sha256 is the one the token
// pins (ca_fetch.h). Only then does it send the token, with a CSR for a fresh key,
// over TLS verified against that CA. The node's credential lands in DATA_DIR/pki/:
//
//   ca.crt    the cluster CA                 node.crt  CN=<node>, O=reef:nodes
//   node.key  the node's private key         (all 0600)
//
// Every later call to the controller is mutual TLS with these (LoadNodeCredentials).

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/pki.h"
#include "common/status.h"

namespace reef::agent {

struct NodeCredentialFiles {
  explicit NodeCredentialFiles(const std::string& data_dir) : dir(data_dir + "/pki") {}
  std::string dir;
  std::string ca() const { return dir + "/ca.crt"; }
  std::string certificate() const { return dir + "/node.crt"; }
  std::string key() const { return dir + "/node.key"; }
};

struct JoinOptions {
  std::string server;  // the controller, HOST:PORT (its certificate must cover HOST)
  std::string token;   // REEF1.<CA sha256>.<id>.<key>
  std::string node_name;
  std::string data_dir;
  absl::Duration timeout = absl::Seconds(30);
};

// Joins and stores the credential. A refusal is the controller's reason, prefixed
// "join refused by the controller at X: "; a CA that does not match the token fails
// before the token is sent.
absl::Status JoinCluster(const JoinOptions& options);

// For reef-agent's start: joins when no node certificate exists yet and a token is
// given; OK without doing anything when the node already joined or runs standalone
// (neither --server nor --token).
absl::Status JoinIfNeeded(const JoinOptions& options);

bool HasNodeCredentials(const std::string& data_dir);

// The node's certificate as stored.
absl::StatusOr<pki::Certificate> LoadNodeCertificate(const std::string& data_dir);

// Channel credentials for mutual TLS with the controller: the cluster CA as the only
// root, the node certificate and key as the client credential.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> LoadNodeCredentials(const std::string& data_dir);

// Gets a new certificate for a new key from the controller at `server` (Renew, with
// the current credential), and swaps node.key and node.crt. Returns the new
// certificate.
absl::StatusOr<pki::Certificate> RenewNodeCertificate(const std::string& server, const std::string& data_dir,
                                                      absl::Duration timeout = absl::Seconds(30));

}  // namespace reef::agent
