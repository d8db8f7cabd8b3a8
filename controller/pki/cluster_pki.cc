#include "controller/pki/cluster_pki.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "common/files.h"
#include "common/log.h"

namespace reef::controller {
namespace {

const absl::Duration kCaValidity = absl::Hours(24 * 365 * 10);
const absl::Duration kLeafValidity = absl::Hours(24 * 365);
// A server or admin certificate with less than this left is reissued at start.
const absl::Duration kReissueBefore = absl::Hours(24 * 90);
// Clients with a lagging clock still accept a certificate issued just now.
const absl::Duration kBackdate = absl::Hours(1);

constexpr uint64_t kMaxFileBytes = 1 << 20;

struct Paths {
  std::string dir;
  std::string File(std::string_view name) const { return reef::StrCat(dir, "/", name); }
};

absl::StatusOr<std::optional<std::string>> ReadIfExists(const std::string& path) {
  auto text = ReadFileLimited(path, kMaxFileBytes);
  if (absl::IsNotFound(text.status())) return std::nullopt;
  if (!text.ok()) return text.status();
  return std::optional<std::string>(std::move(*text));
}

std::string CanonicalIp(const std::string& ip) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1 && inet_ntop(AF_INET, buf, out, sizeof out)) return out;
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1 && inet_ntop(AF_INET6, buf, out, sizeof out)) return out;
  return ip;
}

// The CA, created when ca.crt does not exist. A ca.key left without its ca.crt (a
// crash during the first start) never signed anything anyone trusts: replaced.
absl::StatusOr<pki::CertificateAuthority> LoadOrCreateCa(const Paths& paths) {
  std::string crt_path = paths.File("ca.crt"), key_path = paths.File("ca.key");
  ASSIGN_OR_RETURN(auto crt, ReadIfExists(crt_path));
  ASSIGN_OR_RETURN(auto key, ReadIfExists(key_path));
  if (crt && !key) {
    return absl::FailedPreconditionError(reef::StrCat(
        key_path, " is missing but ", crt_path,
        " exists: restore the key, or remove both to make a new CA (every node must then rejoin)"));
  }
  if (crt) {
    auto ca = pki::CertificateAuthority::FromPem(*crt, *key);
    if (!ca.ok()) return Annotate(ca.status(), paths.dir);
    return ca;
  }
  ASSIGN_OR_RETURN(pki::CertificateAuthority ca, pki::CertificateAuthority::Create("reef-ca", kCaValidity));
  RETURN_IF_ERROR(WriteFileAtomic(key_path, ca.key().ToPem(), 0600));
  RETURN_IF_ERROR(WriteFileAtomic(crt_path, ca.certificate().ToPem(), 0644));
  REEF_LOG(Info) << "created the cluster CA in " << crt_path << " (sha256:" << ca.certificate().Sha256() << ")";
  return ca;
}

// Why an existing leaf certificate no longer fits what we want, or nullopt.
std::optional<std::string> Misfit(const pki::CertificateAuthority& ca, const pki::Certificate& cert,
                                  const pki::PrivateKey& key, const pki::IssueOptions& want) {
  if (!cert.MatchesKey(key)) return "its key does not match";
  if (absl::Status s = pki::VerifyChain(cert, ca.certificate()); !s.ok()) return std::string(s.message());
  if (cert.not_after() - absl::Now() < kReissueBefore) return "it expires soon";
  pki::Subject subject = cert.subject();
  if (subject.common_name != want.subject.common_name || subject.organizations != want.subject.organizations) {
    return "its subject changed";
  }
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  std::vector<std::string> want_ips;
  for (const std::string& ip : want.ip_addresses) want_ips.push_back(CanonicalIp(ip));
  if (sorted(cert.dns_names()) != sorted(want.dns_names) || sorted(cert.ip_addresses()) != sorted(want_ips)) {
    return "the names and addresses it must cover changed";
  }
  return std::nullopt;
}

struct Leaf {
  pki::Certificate cert;
  std::string key_pem;
};

// NAME.crt / NAME.key, reused while they fit `want`, reissued (with a new key)
// otherwise.
absl::StatusOr<Leaf> LoadOrIssueLeaf(const Paths& paths, const std::string& name,
                                     const pki::CertificateAuthority& ca, const pki::IssueOptions& want) {
  std::string crt_path = paths.File(name + ".crt"), key_path = paths.File(name + ".key");
  ASSIGN_OR_RETURN(auto crt, ReadIfExists(crt_path));
  ASSIGN_OR_RETURN(auto key, ReadIfExists(key_path));
  if (crt && key) {
    auto cert = pki::Certificate::FromPem(*crt);
    auto private_key = pki::PrivateKey::FromPem(*key);
    if (cert.ok() && private_key.ok()) {
      std::optional<std::string> misfit = Misfit(ca, *cert, *private_key, want);
      if (!misfit) return Leaf{std::move(*cert), std::move(*key)};
      REEF_LOG(Info) << "reissuing " << crt_path << ": " << *misfit;
    } else {
      REEF_LOG(Warning) << "reissuing " << crt_path << ": "
                        << (cert.ok() ? private_key.status() : cert.status()).message();
    }
  }
  ASSIGN_OR_RETURN(pki::PrivateKey new_key, pki::PrivateKey::Generate());
  ASSIGN_OR_RETURN(pki::Certificate cert, ca.Issue(new_key.get(), want));
  std::string key_pem = new_key.ToPem();
  RETURN_IF_ERROR(WriteFileAtomic(key_path, key_pem, 0600));
  RETURN_IF_ERROR(WriteFileAtomic(crt_path, cert.ToPem(), 0644));
  return Leaf{std::move(cert), std::move(key_pem)};
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return absl::AsciiStrToLower(buf);
}

absl::StatusOr<pki::IssueOptions> ServerCertificateOptions(const std::vector<std::string>& extra_sans) {
  pki::IssueOptions o;
  o.subject.common_name = "reef-controller";
  o.usage = pki::KeyUsage::kServer;
  o.validity = kLeafValidity;
  o.backdate = kBackdate;
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  std::vector<std::string> no_dns, no_ip;
  if (std::string host = Hostname(); !host.empty() && pki::SplitSubjectAltNames({host}, &no_dns, &no_ip).ok()) {
    names.push_back(host);
  }
  std::vector<std::string> dns, ips;
  RETURN_IF_ERROR(Annotate(pki::SplitSubjectAltNames(extra_sans, &dns, &ips), "--tls-san"));
  RETURN_IF_ERROR(pki::SplitSubjectAltNames(names, &dns, &ips));
  // One entry per name, in a stable order (so that a restart sees the same set).
  std::set<std::string> unique_dns(dns.begin(), dns.end()), unique_ips;
  for (const std::string& ip : ips) unique_ips.insert(CanonicalIp(ip));
  o.dns_names.assign(unique_dns.begin(), unique_dns.end());
  o.ip_addresses.assign(unique_ips.begin(), unique_ips.end());
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterPki>> ClusterPki::LoadOrCreate(const ClusterPkiOptions& options) {
  Paths paths{options.dir};
  RETURN_IF_ERROR(MakeDirs(paths.dir, 0700));
  ASSIGN_OR_RETURN(pki::CertificateAuthority ca, LoadOrCreateCa(paths));
  std::unique_ptr<ClusterPki> p(new ClusterPki(std::move(ca)));
  p->ca_sha256_ = p->ca_.certificate().Sha256();

  ASSIGN_OR_RETURN(pki::IssueOptions server, ServerCertificateOptions(options.extra_sans));
  ASSIGN_OR_RETURN(Leaf server_leaf, LoadOrIssueLeaf(paths, "server", p->ca_, server));
  p->server_cert_ = std::move(server_leaf.cert);
  p->server_key_pem_ = std::move(server_leaf.key_pem);

  pki::IssueOptions admin;
  admin.subject = {"admin", {kAdminsGroup}};
  admin.usage = pki::KeyUsage::kClient;
  admin.validity = kLeafValidity;
  admin.backdate = kBackdate;
  ASSIGN_OR_RETURN(Leaf admin_leaf, LoadOrIssueLeaf(paths, "admin", p->ca_, admin));
  p->admin_cert_pem_ = admin_leaf.cert.ToPem();
  p->admin_key_pem_ = std::move(admin_leaf.key_pem);
  return p;
}

std::shared_ptr<grpc::ServerCredentials> ClusterPki::ServerCredentials() const {
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ca_.certificate().ToPem();
  options.pem_key_cert_pairs.push_back({server_key_pem_, server_cert_.ToPem() + ca_.certificate().ToPem()});
  return grpc::SslServerCredentials(options);
}

ClientConfigFile ClusterPki::AdminConfig(const std::string& server) const {
  return ClientConfigFile{server, ca_.certificate().ToPem(), admin_cert_pem_, admin_key_pem_};
}

absl::StatusOr<pki::Certificate> ClusterPki::IssueNodeCertificate(const std::string& node_name,
                                                                  std::string_view csr_pem,
                                                                  absl::Duration validity) const {
  auto csr = pki::CertificateRequest::FromPem(csr_pem);
  if (!csr.ok()) return Annotate(csr.status(), "CSR");
  std::string cn = csr->subject().common_name;
  if (cn != node_name) {
    return absl::InvalidArgumentError(
        reef::StrCat("the CSR's common name \"", cn, "\" is not the node name \"", node_name, "\""));
  }
  pki::IssueOptions o;
  o.subject = {node_name, {kNodesGroup}};
  o.usage = pki::KeyUsage::kClient;
  o.validity = validity;
  return ca_.Issue(csr->public_key(), o);
}

}  // namespace reef::controller
