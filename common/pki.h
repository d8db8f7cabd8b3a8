#pragma once
// The cluster's X.509 toolbox on OpenSSL 3 (EVP and X509 APIs only): ECDSA P-256
// keys, a self-signed CA, certificates issued from a CSR's public key, CSRs, PEM in
// and out, fingerprints and chain checks.
//
// Every OpenSSL failure becomes an absl::Status carrying OpenSSL's own error text.
// Objects own their OpenSSL handles (unique_ptr with the matching free function) and
// are movable, not copyable. Nothing here keeps global state: thread-safe as long as
// one object is not mutated from two threads (none of the const members mutate).

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/status.h"

namespace reef::pki {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct X509ReqFree {
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using X509ReqPtr = std::unique_ptr<X509_REQ, X509ReqFree>;

// Upper bound for any PEM blob we accept from outside (a CSR from the network, a
// file on disk): a chain of a few certificates fits easily.
inline constexpr size_t kMaxPemBytes = 64 * 1024;

// The Status for a failed OpenSSL call: "<what>: <OpenSSL's error queue>". Drains the
// thread's error queue, so the next failure does not report this one's errors.
absl::Status OpenSslError(std::string_view what,
                          absl::StatusCode code = absl::StatusCode::kInternal);

// Lowercase hex of the bytes.
std::string HexEncode(std::string_view bytes);
// Lowercase hex sha256 of the bytes.
std::string Sha256Hex(std::string_view bytes);

// Whom a certificate or CSR names. Organizations carry groups ("reef:admins").
struct Subject {
  std::string common_name;
  std::vector<std::string> organizations;
};

class PrivateKey {
 public:
  // A fresh ECDSA P-256 key.
  static absl::StatusOr<PrivateKey> Generate();
  static absl::StatusOr<PrivateKey> FromPem(std::string_view pem);

  std::string ToPem() const;  // PKCS#8, unencrypted: files holding it are 0600
  EVP_PKEY* get() const { return key_.get(); }

 private:
  explicit PrivateKey(EvpPkeyPtr key) : key_(std::move(key)) {}
  EvpPkeyPtr key_;
};

class Certificate {
 public:
  // The first certificate in `pem`.
  static absl::StatusOr<Certificate> FromPem(std::string_view pem);
  // Every certificate in `pem`, in order (a chain: leaf first). At least one.
  static absl::StatusOr<std::vector<Certificate>> ChainFromPem(std::string_view pem);
  static absl::StatusOr<Certificate> FromDer(std::string_view der);
  // Takes ownership of an OpenSSL certificate.
  static Certificate Adopt(X509Ptr cert) { return Certificate(std::move(cert)); }
  // Another handle on the same (immutable) certificate.
  Certificate Clone() const {
    X509_up_ref(cert_.get());
    return Certificate(X509Ptr(cert_.get()));
  }

  std::string ToPem() const;
  std::string ToDer() const;
  // Lowercase hex sha256 of the DER encoding: the fingerprint a join token pins.
  std::string Sha256() const;

  Subject subject() const;
  std::string common_name() const { return subject().common_name; }
  std::vector<std::string> organizations() const { return subject().organizations; }
  absl::Time not_before() const;
  absl::Time not_after() const;
  std::vector<std::string> dns_names() const;
  std::vector<std::string> ip_addresses() const;  // "127.0.0.1", "::1"
  // Whether `key` is the private half of this certificate's public key.
  bool MatchesKey(const PrivateKey& key) const;

  X509* get() const { return cert_.get(); }

 private:
  explicit Certificate(X509Ptr cert) : cert_(std::move(cert)) {}
  X509Ptr cert_;
};

class CertificateRequest {
 public:
  // A CSR for `subject`, signed with `key`.
  static absl::StatusOr<CertificateRequest> Create(const PrivateKey& key, const Subject& subject);
  // Parses a CSR and checks its self-signature (proof that the sender holds the key).
  // InvalidArgument for anything malformed: a CSR comes from outside.
  static absl::StatusOr<CertificateRequest> FromPem(std::string_view pem);

  std::string ToPem() const;
  Subject subject() const;
  // The requested public key (owned by the request).
  EVP_PKEY* public_key() const;

 private:
  explicit CertificateRequest(X509ReqPtr req) : req_(std::move(req)) {}
  X509ReqPtr req_;
};

enum class KeyUsage { kServer, kClient, kServerAndClient };

struct IssueOptions {
  Subject subject;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, v4 or v6
  KeyUsage usage = KeyUsage::kClient;
  absl::Duration validity = absl::Hours(24 * 365);
  // NotBefore lies this far in the past, so that a peer whose clock lags a little
  // still accepts a fresh certificate.
  absl::Duration backdate = absl::ZeroDuration();
};

// A self-signed CA: the cluster's root of trust.
class CertificateAuthority {
 public:
  // A new CA (fresh key) valid for `validity`.
  static absl::StatusOr<CertificateAuthority> Create(const std::string& common_name,
                                                     absl::Duration validity);
  // A CA from its certificate and key; refuses a pair that does not match or a
  // certificate that is not a CA.
  static absl::StatusOr<CertificateAuthority> FromPem(std::string_view cert_pem,
                                                      std::string_view key_pem);

  // Signs a certificate for `public_key` (from a CSR, or a key of our own). Invalid
  // SAN values are InvalidArgument; a key other than EC of 256 bits or more is
  // InvalidArgument too.
  absl::StatusOr<Certificate> Issue(EVP_PKEY* public_key, const IssueOptions& options) const;

  const Certificate& certificate() const { return cert_; }
  const PrivateKey& key() const { return key_; }

 private:
  CertificateAuthority(Certificate cert, PrivateKey key)
      : cert_(std::move(cert)), key_(std::move(key)) {}
  Certificate cert_;
  PrivateKey key_;
};

// Checks that `leaf` chains to `ca` (through `intermediates`, untrusted) and is
// valid at `at`. FailedPrecondition with OpenSSL's verify reason otherwise
// ("certificate has expired", "unable to get local issuer certificate").
absl::Status VerifyChain(const Certificate& leaf, const Certificate& ca,
                         const std::vector<Certificate>& intermediates = {},
                         absl::Time at = absl::Now());

// Whether text is an IPv4 or IPv6 address literal (no brackets).
bool IsIpAddress(std::string_view text);

// Splits subjectAltName values the way --tls-san takes them: IP literals go to
// `ips`, the rest must be DNS names (letters, digits, '-', '.', a leading "*.").
absl::Status SplitSubjectAltNames(const std::vector<std::string>& values,
                                  std::vector<std::string>* dns_names,
                                  std::vector<std::string>* ips);

}  // namespace reef::pki
