#include "common/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"

namespace reef::pki {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

// PEM readers ask for a passphrase through this; ours are never encrypted, and the
// default callback would prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

BioPtr ReadBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

absl::Status CheckPemSize(std::string_view pem, std::string_view what) {
  if (pem.size() <= kMaxPemBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(
      reef::StrCat(what, ": ", pem.size(), " bytes of PEM is more than the ", kMaxPemBytes, " byte limit"));
}

std::string Asn1ToUtf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return "";
  std::string text(reinterpret_cast<char*>(out), n);
  OPENSSL_free(out);
  return text;
}

Subject SubjectOf(const X509_NAME* name) {
  Subject subject;
  for (int nid : {NID_commonName, NID_organizationName}) {
    for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(name, nid, i)) {
      std::string value = Asn1ToUtf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
      if (nid == NID_commonName) {
        subject.common_name = value;
      } else {
        subject.organizations.push_back(value);
      }
    }
  }
  return subject;
}

absl::Status SetSubject(X509_NAME* name, const Subject& subject) {
  auto add = [&](int nid, const std::string& value) {
    return X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  for (const std::string& o : subject.organizations) {
    if (!add(NID_organizationName, o)) return OpenSslError(reef::StrCat("subject O=", o), absl::StatusCode::kInvalidArgument);
  }
  if (!subject.common_name.empty() && !add(NID_commonName, subject.common_name)) {
    return OpenSslError(reef::StrCat("subject CN=", subject.common_name), absl::StatusCode::kInvalidArgument);
  }
  return absl::OkStatus();
}

absl::Time Asn1TimeToTime(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&tm));
}

// A random positive 127-bit serial: unique without keeping a counter on disk.
absl::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return OpenSslError("random serial");
  bytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(bytes, sizeof bytes, nullptr), BN_free);
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) return OpenSslError("serial");
  return absl::OkStatus();
}

bool IsDnsName(std::string_view name) {
  if (name.size() > 253 || name.empty()) return false;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  size_t label = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || (c == '-' && label > 0);
    if (!ok || ++label > 63) return false;
  }
  return label > 0 && name.back() != '-';
}

struct Extension {
  int nid;
  std::string value;  // in openssl.cnf syntax
};

// Builds and signs one certificate. `issuer` null means self-signed with `signing_key`.
absl::StatusOr<Certificate> Sign(const Subject& subject, EVP_PKEY* public_key, const X509* issuer,
                                 EVP_PKEY* signing_key, absl::Duration validity,
                                 absl::Duration backdate, const std::vector<Extension>& extensions) {
  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) return OpenSslError("new certificate");
  RETURN_IF_ERROR(SetRandomSerial(x.get()));
  RETURN_IF_ERROR(SetSubject(X509_get_subject_name(x.get()), subject));
  const X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x.get());
  if (X509_set_issuer_name(x.get(), issuer_name) != 1) return OpenSslError("issuer name");
  absl::Time now = absl::Now();
  if (!ASN1_TIME_set(X509_getm_notBefore(x.get()), absl::ToTimeT(now - backdate)) ||
      !ASN1_TIME_set(X509_getm_notAfter(x.get()), absl::ToTimeT(now + validity))) {
    return OpenSslError("validity");
  }
  if (X509_set_pubkey(x.get(), public_key) != 1) return OpenSslError("public key");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? const_cast<X509*>(issuer) : x.get(), x.get(), nullptr, nullptr, 0);
  for (const Extension& e : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, e.nid, e.value.c_str());
    if (ext == nullptr) return OpenSslError(reef::StrCat("extension ", OBJ_nid2sn(e.nid), "=", e.value));
    int added = X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
    if (added != 1) return OpenSslError(reef::StrCat("add extension ", OBJ_nid2sn(e.nid)));
  }
  if (X509_sign(x.get(), signing_key, EVP_sha256()) <= 0) return OpenSslError("sign certificate");
  return Certificate::Adopt(std::move(x));
}

}  // namespace

absl::Status OpenSslError(std::string_view what, absl::StatusCode code) {
  std::string detail;
  while (unsigned long e = ERR_get_error()) {
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    std::string one;
    if (reason != nullptr) {
      one = lib ? reef::StrCat(lib, ": ", reason) : std::string(reason);
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      one = buf;
    }
    if (detail.find(one) == std::string::npos) detail += reef::StrCat(detail.empty() ? "" : "; ", one);
  }
  if (detail.empty()) detail = "OpenSSL reported no reason";
  return absl::Status(code, reef::StrCat(what, ": ", detail));
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  // EVP_Digest with SHA-256 cannot fail short of memory exhaustion.
  if (EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr) != 1) std::abort();
  return HexEncode(std::string_view(reinterpret_cast<char*>(md), n));
}

// ---- PrivateKey ----------------------------------------------------------------

absl::StatusOr<PrivateKey> PrivateKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return OpenSslError("generate an ECDSA P-256 key");
  return PrivateKey(EvpPkeyPtr(key));
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  RETURN_IF_ERROR(CheckPemSize(pem, "private key"));
  BioPtr bio = ReadBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (key == nullptr) return OpenSslError("read private key", absl::StatusCode::kInvalidArgument);
  return PrivateKey(EvpPkeyPtr(key));
}

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioContents(bio.get());
}

// ---- Certificate ---------------------------------------------------------------

absl::StatusOr<Certificate> Certificate::FromPem(std::string_view pem) {
  RETURN_IF_ERROR(CheckPemSize(pem, "certificate"));
  BioPtr bio = ReadBio(pem);
  X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr);
  if (x == nullptr) return OpenSslError("read certificate", absl::StatusCode::kInvalidArgument);
  return Certificate(X509Ptr(x));
}

absl::StatusOr<std::vector<Certificate>> Certificate::ChainFromPem(std::string_view pem) {
  RETURN_IF_ERROR(CheckPemSize(pem, "certificate chain"));
  BioPtr bio = ReadBio(pem);
  std::vector<Certificate> chain;
  while (true) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr);
    if (x == nullptr) break;
    chain.push_back(Certificate(X509Ptr(x)));
  }
  unsigned long e = ERR_peek_last_error();
  if (!chain.empty() && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
    ERR_clear_error();  // the normal end of the input
    return chain;
  }
  return OpenSslError("read certificate chain", absl::StatusCode::kInvalidArgument);
}

absl::StatusOr<Certificate> Certificate::FromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return OpenSslError("read DER certificate", absl::StatusCode::kInvalidArgument);
  return Certificate(X509Ptr(x));
}

std::string Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert_.get());
  return BioContents(bio.get());
}

std::string Certificate::ToDer() const {
  unsigned char* der = nullptr;
  int n = i2d_X509(cert_.get(), &der);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(der), n);
  OPENSSL_free(der);
  return out;
}

std::string Certificate::Sha256() const { return Sha256Hex(ToDer()); }

Subject Certificate::subject() const { return SubjectOf(X509_get_subject_name(cert_.get())); }
absl::Time Certificate::not_before() const { return Asn1TimeToTime(X509_get0_notBefore(cert_.get())); }
absl::Time Certificate::not_after() const { return Asn1TimeToTime(X509_get0_notAfter(cert_.get())); }

namespace {
std::vector<std::string> AltNames(const X509* cert, int type) {
  std::vector<std::string> out;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != type) continue;
    if (type == GEN_DNS) {
      out.push_back(Asn1ToUtf8(n->d.dNSName));
    } else {
      const ASN1_OCTET_STRING* ip = n->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {};
      int family = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : 0;
      if (family && inet_ntop(family, ip->data, buf, sizeof buf)) out.push_back(buf);
    }
  }
  return out;
}
}  // namespace

std::vector<std::string> Certificate::dns_names() const { return AltNames(cert_.get(), GEN_DNS); }
std::vector<std::string> Certificate::ip_addresses() const { return AltNames(cert_.get(), GEN_IPADD); }

bool Certificate::MatchesKey(const PrivateKey& key) const {
  bool match = X509_check_private_key(cert_.get(), key.get()) == 1;
  ERR_clear_error();
  return match;
}

// ---- CertificateRequest ----------------------------------------------------------

absl::StatusOr<CertificateRequest> CertificateRequest::Create(const PrivateKey& key,
                                                              const Subject& subject) {
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) return OpenSslError("new CSR");
  RETURN_IF_ERROR(SetSubject(X509_REQ_get_subject_name(req.get()), subject));
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) return OpenSslError("CSR public key");
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) return OpenSslError("sign CSR");
  return CertificateRequest(std::move(req));
}

absl::StatusOr<CertificateRequest> CertificateRequest::FromPem(std::string_view pem) {
  RETURN_IF_ERROR(CheckPemSize(pem, "CSR"));
  BioPtr bio = ReadBio(pem);
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!req) return OpenSslError("read CSR", absl::StatusCode::kInvalidArgument);
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) {
    return OpenSslError("CSR signature does not verify", absl::StatusCode::kInvalidArgument);
  }
  return CertificateRequest(std::move(req));
}

std::string CertificateRequest::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req_.get());
  return BioContents(bio.get());
}

Subject CertificateRequest::subject() const { return SubjectOf(X509_REQ_get_subject_name(req_.get())); }
EVP_PKEY* CertificateRequest::public_key() const { return X509_REQ_get0_pubkey(req_.get()); }

// ---- CertificateAuthority --------------------------------------------------------

absl::StatusOr<CertificateAuthority> CertificateAuthority::Create(const std::string& common_name,
                                                                  absl::Duration validity) {
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate());
  ASSIGN_OR_RETURN(Certificate cert,
                   Sign(Subject{common_name, {}}, key.get(), nullptr, key.get(), validity,
                        // Agents with a lagging clock must accept a brand-new CA.
                        absl::Hours(1),
                        {{NID_basic_constraints, "critical,CA:TRUE"},
                         {NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"}}));
  return CertificateAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::FromPem(std::string_view cert_pem,
                                                                   std::string_view key_pem) {
  ASSIGN_OR_RETURN(Certificate cert, Certificate::FromPem(cert_pem));
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::FromPem(key_pem));
  if (X509_check_ca(cert.get()) < 1) {
    return absl::InvalidArgumentError("the CA certificate is not marked as a CA (basicConstraints)");
  }
  if (!cert.MatchesKey(key)) return absl::InvalidArgumentError("the CA key does not match the CA certificate");
  return CertificateAuthority(std::move(cert), std::move(key));
}

absl::StatusOr<Certificate> CertificateAuthority::Issue(EVP_PKEY* public_key,
                                                        const IssueOptions& options) const {
  if (public_key == nullptr || !EVP_PKEY_is_a(public_key, "EC") || EVP_PKEY_get_bits(public_key) < 256) {
    return absl::InvalidArgumentError(reef::StrCat(
        "the key must be an EC key of at least 256 bits (ECDSA P-256), not ",
        public_key ? EVP_PKEY_get0_type_name(public_key) : "none",
        public_key ? reef::StrCat(" of ", EVP_PKEY_get_bits(public_key), " bits") : ""));
  }
  if (options.validity <= absl::ZeroDuration()) return absl::InvalidArgumentError("validity must be positive");
  std::vector<std::string> sans;
  for (const std::string& d : options.dns_names) {
    if (!IsDnsName(d)) return absl::InvalidArgumentError(reef::StrCat("\"", d, "\" is not a valid DNS name"));
    sans.push_back(reef::StrCat("DNS:", absl::AsciiStrToLower(d)));
  }
  for (const std::string& ip : options.ip_addresses) {
    if (!IsIpAddress(ip)) return absl::InvalidArgumentError(reef::StrCat("\"", ip, "\" is not an IP address"));
    sans.push_back(reef::StrCat("IP:", ip));
  }
  const char* usage = options.usage == KeyUsage::kServer   ? "serverAuth"
                      : options.usage == KeyUsage::kClient ? "clientAuth"
                                                           : "serverAuth,clientAuth";
  std::vector<Extension> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},  // ECDSA: no keyEncipherment
      {NID_ext_key_usage, usage},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  if (!sans.empty()) extensions.push_back({NID_subject_alt_name, absl::StrJoin(sans, ",")});
  return Sign(options.subject, public_key, cert_.get(), key_.get(), options.validity, options.backdate,
              extensions);
}

// ---- checks --------------------------------------------------------------------

absl::Status VerifyChain(const Certificate& leaf, const Certificate& ca,
                         const std::vector<Certificate>& intermediates, absl::Time at) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                     X509_STORE_CTX_free);
  // The stack borrows the certificates: freed without freeing its elements.
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_free(s); });
  if (!store || !ctx || !untrusted || X509_STORE_add_cert(store.get(), ca.get()) != 1) {
    return OpenSslError("certificate store");
  }
  for (const Certificate& c : intermediates) sk_X509_push(untrusted.get(), c.get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return OpenSslError("certificate store");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), absl::ToTimeT(at));
  if (X509_verify_cert(ctx.get()) == 1) return absl::OkStatus();
  int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return absl::FailedPreconditionError(reef::StrCat(
      "certificate \"", leaf.common_name(), "\" does not verify against CA \"", ca.common_name(),
      "\": ", X509_verify_cert_error_string(err)));
}

bool IsIpAddress(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

absl::Status SplitSubjectAltNames(const std::vector<std::string>& values,
                                  std::vector<std::string>* dns_names, std::vector<std::string>* ips) {
  for (const std::string& v : values) {
    if (IsIpAddress(v)) {
      ips->push_back(v);
    } else if (IsDnsName(v)) {
      dns_names->push_back(absl::AsciiStrToLower(v));
    } else {
      return absl::InvalidArgumentError(
          reef::StrCat("\"", v, "\" is neither an IP address nor a DNS name"));
    }
  }
  return absl::OkStatus();
}

}  // namespace reef::pki
