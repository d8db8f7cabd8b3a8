#include "agent/cluster/join.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "agent/cluster/ca_fetch.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/join_token.h"
#include "common/log.h"
#include "reef/v1/agent.grpc.pb.h"

namespace reef::agent {
namespace {

// Guards the credential files against a renewal swapping them while this process
// reads them (the swap is two renames).
absl::Mutex g_files_mu;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& server,
                                          std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(1 << 20);  // a certificate or two
  return grpc::CreateCustomChannel(server, std::move(credentials), args);
}

absl::Status CallError(const grpc::Status& s, std::string_view what, const std::string& server) {
  auto code = static_cast<absl::StatusCode>(s.error_code());
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::Status(code, reef::StrCat(what, ": cannot reach the controller at ", server, ": ", s.error_message()));
  }
  return absl::Status(code, reef::StrCat(what, " refused by the controller at ", server, ": ", s.error_message()));
}

// What the controller sent back must be a certificate for our key, from the
// cluster CA, naming our node: anything else is not stored.
absl::StatusOr<pki::Certificate> CheckIssued(std::string_view pem, const pki::PrivateKey& key,
                                             const pki::Certificate& ca, const std::string& node_name) {
  ASSIGN_OR_RETURN(pki::Certificate cert, pki::Certificate::FromPem(pem));
  if (!cert.MatchesKey(key)) return absl::InternalError("the controller sent a certificate for another key");
  RETURN_IF_ERROR(pki::VerifyChain(cert, ca));
  if (cert.common_name() != node_name) {
    return absl::InternalError(reef::StrCat("the controller sent a certificate for \"", cert.common_name(),
                                            "\", not \"", node_name, "\""));
  }
  return cert;
}

// Replaces node.key and node.crt (and ca.crt when given). Each file is written
// atomically beside its final name first, then the key and the certificate are
// renamed in turn; LoadPairLocked finishes a swap a crash cut between the two.
absl::Status StoreCredential(const NodeCredentialFiles& files, const std::string* ca_pem,
                             const pki::PrivateKey& key, const pki::Certificate& cert) {
  absl::MutexLock lock(&g_files_mu);
  RETURN_IF_ERROR(MakeDirs(files.dir, 0700));
  if (ca_pem != nullptr) RETURN_IF_ERROR(WriteFileAtomic(files.ca(), *ca_pem, 0600));
  RETURN_IF_ERROR(WriteFileAtomic(files.key() + ".next", key.ToPem(), 0600));
  RETURN_IF_ERROR(WriteFileAtomic(files.certificate() + ".next", cert.ToPem(), 0600));
  for (const std::string& path : {files.key(), files.certificate()}) {
    if (std::rename((path + ".next").c_str(), path.c_str()) != 0) {
      return ErrnoStatus(reef::StrCat("rename ", path, ".next"), errno);
    }
  }
  return absl::OkStatus();
}

struct Pair {
  std::string cert_pem;
  std::string key_pem;
};

absl::StatusOr<Pair> LoadPairLocked(const NodeCredentialFiles& files) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_files_mu) {
  ASSIGN_OR_RETURN(std::string key_pem, ReadFileLimited(files.key(), pki::kMaxPemBytes));
  ASSIGN_OR_RETURN(std::string cert_pem, ReadFileLimited(files.certificate(), pki::kMaxPemBytes));
  ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::FromPem(key_pem));
  ASSIGN_OR_RETURN(pki::Certificate cert, pki::Certificate::FromPem(cert_pem));
  if (cert.MatchesKey(key)) return Pair{std::move(cert_pem), std::move(key_pem)};
  // A renewal that stopped between its two renames: the new certificate waits.
  std::string next = files.certificate() + ".next";
  auto next_pem = ReadFileLimited(next, pki::kMaxPemBytes);
  if (next_pem.ok()) {
    auto next_cert = pki::Certificate::FromPem(*next_pem);
    if (next_cert.ok() && next_cert->MatchesKey(key) && std::rename(next.c_str(), files.certificate().c_str()) == 0) {
      return Pair{std::move(*next_pem), std::move(key_pem)};
    }
  }
  return absl::FailedPreconditionError(reef::StrCat(files.key(), " does not match ", files.certificate()));
}

}  // namespace

bool HasNodeCredentials(const std::string& data_dir) {
  return Exists(NodeCredentialFiles(data_dir).certificate());
}

absl::StatusOr<pki::Certificate> LoadNodeCertificate(const std::string& data_dir) {
  NodeCredentialFiles files(data_dir);
  absl::MutexLock lock(&g_files_mu);
  ASSIGN_OR_RETURN(Pair pair, LoadPairLocked(files));
  return pki::Certificate::FromPem(pair.cert_pem);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> LoadNodeCredentials(const std::string& data_dir) {
  NodeCredentialFiles files(data_dir);
  grpc::SslCredentialsOptions tls;
  {
    absl::MutexLock lock(&g_files_mu);
    ASSIGN_OR_RETURN(Pair pair, LoadPairLocked(files));
    tls.pem_cert_chain = std::move(pair.cert_pem);
    tls.pem_private_key = std::move(pair.key_pem);
  }
  ASSIGN_OR_RETURN(tls.pem_root_certs, ReadFileLimited(files.ca(), pki::kMaxPemBytes));
  return grpc::SslCredentials(tls);
}

absl::Status JoinCluster(const JoinOptions& options) {
  ASSIGN_OR_RETURN(JoinToken token, JoinToken::Parse(options.token));
  // Nothing secret leaves the box before the controller has shown the pinned CA.
  ASSIGN_OR_RETURN(std::string ca_pem, FetchClusterCa(options.server, token.ca_sha256, options.timeout));
  ASSIGN_OR_RETURN(pki::Certificate ca, pki::Certificate::FromPem(ca_pem));
  ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate());
  ASSIGN_OR_RETURN(pki::CertificateRequest csr, pki::CertificateRequest::Create(key, {options.node_name, {}}));

  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ca_pem;
  auto stub = v1::AgentService::NewStub(TlsChannel(options.server, grpc::SslCredentials(tls)));
  v1::JoinRequest request;
  request.set_token(options.token);
  request.set_node_name(options.node_name);
  request.set_csr_pem(csr.ToPem());
  v1::JoinResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  grpc::Status status = stub->Join(&ctx, request, &response);
  if (!status.ok()) return CallError(status, "join", options.server);

  ASSIGN_OR_RETURN(pki::Certificate cert, CheckIssued(response.certificate_pem(), key, ca, options.node_name));
  return StoreCredential(NodeCredentialFiles(options.data_dir), &ca_pem, key, cert);
}

absl::Status JoinIfNeeded(const JoinOptions& options) {
  NodeCredentialFiles files(options.data_dir);
  if (HasNodeCredentials(options.data_dir)) return absl::OkStatus();
  if (options.server.empty() && options.token.empty()) return absl::OkStatus();  // standalone box
  if (options.token.empty()) {
    return absl::FailedPreconditionError(reef::StrCat(
        "no node certificate in ", files.dir, " yet: give --token (or REEF_TOKEN) to join ", options.server));
  }
  if (options.server.empty()) {
    return absl::InvalidArgumentError("--token needs the controller's address: --server HOST:PORT (or REEF_SERVER)");
  }
  REEF_LOG(Info) << "joining the cluster at " << options.server << " as node " << options.node_name;
  RETURN_IF_ERROR(JoinCluster(options));
  ASSIGN_OR_RETURN(pki::Certificate cert, LoadNodeCertificate(options.data_dir));
  REEF_LOG(Info) << "joined as node " << options.node_name << "; certificate in " << files.certificate()
                 << " valid until " << FormatTimestamp(cert.not_after());
  return absl::OkStatus();
}

absl::StatusOr<pki::Certificate> RenewNodeCertificate(const std::string& server, const std::string& data_dir,
                                                      absl::Duration timeout) {
  NodeCredentialFiles files(data_dir);
  ASSIGN_OR_RETURN(pki::Certificate current, LoadNodeCertificate(data_dir));
  ASSIGN_OR_RETURN(std::string ca_pem, ReadFileLimited(files.ca(), pki::kMaxPemBytes));
  ASSIGN_OR_RETURN(pki::Certificate ca, pki::Certificate::FromPem(ca_pem));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials, LoadNodeCredentials(data_dir));
  std::string node_name = current.common_name();
  ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate());
  ASSIGN_OR_RETURN(pki::CertificateRequest csr, pki::CertificateRequest::Create(key, {node_name, {}}));

  auto stub = v1::AgentService::NewStub(TlsChannel(server, credentials));
  v1::RenewRequest request;
  request.set_csr_pem(csr.ToPem());
  v1::RenewResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::Status status = stub->Renew(&ctx, request, &response);
  if (!status.ok()) return CallError(status, "renew", server);

  ASSIGN_OR_RETURN(pki::Certificate cert, CheckIssued(response.certificate_pem(), key, ca, node_name));
  RETURN_IF_ERROR(StoreCredential(files, nullptr, key, cert));
  return cert;
}

}  // namespace reef::agent
