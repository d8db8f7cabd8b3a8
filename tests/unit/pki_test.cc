// common/pki.h: keys, the CA, issuing, CSRs, PEM round trips and chain checks.

#include "common/pki.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"

namespace reef::pki {
namespace {

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

CertificateAuthority NewCa(const std::string& name = "test-ca") {
  auto ca = CertificateAuthority::Create(name, absl::Hours(24 * 365 * 10));
  REQUIRE_MESSAGE(ca.ok(), ca.status().ToString());
  return std::move(*ca);
}

TEST_CASE("a new CA is a self-signed P-256 CA for ten years") {
  CertificateAuthority ca = NewCa();
  const Certificate& cert = ca.certificate();
  CHECK(cert.common_name() == "test-ca");
  CHECK(cert.MatchesKey(ca.key()));
  CHECK(VerifyChain(cert, cert).ok());
  absl::Duration left = cert.not_after() - absl::Now();
  CHECK(left > absl::Hours(24 * 365 * 10 - 24));
  CHECK(left <= absl::Hours(24 * 365 * 10));
  CHECK(EVP_PKEY_is_a(ca.key().get(), "EC"));
  CHECK(EVP_PKEY_get_bits(ca.key().get()) == 256);
  CHECK(cert.Sha256().size() == 64);
  CHECK(cert.Sha256() == Sha256Hex(cert.ToDer()));

  // PEM in and out keeps the same certificate and key.
  auto again = CertificateAuthority::FromPem(cert.ToPem(), ca.key().ToPem());
  REQUIRE(again.ok());
  CHECK(again->certificate().Sha256() == cert.Sha256());
  // A key of another CA is refused.
  CHECK(!CertificateAuthority::FromPem(cert.ToPem(), NewCa().key().ToPem()).ok());
}

TEST_CASE("issued certificates carry subject, SANs and validity, and chain to their CA only") {
  CertificateAuthority ca = NewCa();
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  IssueOptions o;
  o.subject = {"reef-controller", {"reef:admins", "ops"}};
  o.dns_names = {"localhost", "Controller.Example.com"};
  o.ip_addresses = {"127.0.0.1", "::1", "10.99.0.1"};
  o.usage = KeyUsage::kServer;
  o.validity = absl::Hours(24);
  auto cert = ca.Issue(key->get(), o);
  REQUIRE_MESSAGE(cert.ok(), cert.status().ToString());
  CHECK(cert->common_name() == "reef-controller");
  CHECK(cert->organizations() == std::vector<std::string>{"reef:admins", "ops"});
  CHECK(cert->dns_names() == std::vector<std::string>{"localhost", "controller.example.com"});
  CHECK(cert->ip_addresses() == std::vector<std::string>{"127.0.0.1", "::1", "10.99.0.1"});
  CHECK(cert->MatchesKey(*key));
  CHECK(!cert->MatchesKey(ca.key()));
  CHECK(absl::AbsDuration(cert->not_after() - (absl::Now() + absl::Hours(24))) < absl::Seconds(5));

  CHECK(VerifyChain(*cert, ca.certificate()).ok());
  absl::Status other = VerifyChain(*cert, NewCa("other").certificate());
  CHECK(absl::IsFailedPrecondition(other));
  CHECK(Contains(other.message(), "unable to get local issuer certificate"));

  // A chain in one PEM blob (as a server sends it) reads back in order.
  auto chain = Certificate::ChainFromPem(cert->ToPem() + ca.certificate().ToPem());
  REQUIRE(chain.ok());
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[0].Sha256() == cert->Sha256());
  CHECK((*chain)[1].Sha256() == ca.certificate().Sha256());
}

TEST_CASE("a short-lived certificate verifies until it expires") {
  CertificateAuthority ca = NewCa();
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  IssueOptions o;
  o.subject = {"edge-1", {"reef:nodes"}};
  o.validity = absl::Seconds(20);
  auto cert = ca.Issue(key->get(), o);
  REQUIRE(cert.ok());
  CHECK(cert->not_after() - cert->not_before() == absl::Seconds(20));
  CHECK(VerifyChain(*cert, ca.certificate(), {}, absl::Now() + absl::Seconds(10)).ok());
  absl::Status later = VerifyChain(*cert, ca.certificate(), {}, absl::Now() + absl::Seconds(30));
  CHECK(Contains(later.message(), "certificate has expired"));
  // Backdating moves NotBefore only.
  o.backdate = absl::Hours(1);
  auto backdated = ca.Issue(key->get(), o);
  REQUIRE(backdated.ok());
  CHECK(backdated->not_after() - backdated->not_before() == absl::Hours(1) + absl::Seconds(20));
}

TEST_CASE("CSRs: subject and key round-trip; a tampered CSR is refused") {
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  auto csr = CertificateRequest::Create(*key, {"edge-1", {"ignored"}});
  REQUIRE(csr.ok());
  auto parsed = CertificateRequest::FromPem(csr->ToPem());
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  CHECK(parsed->subject().common_name == "edge-1");
  CHECK(EVP_PKEY_eq(parsed->public_key(), key->get()) == 1);

  // A CSR whose signature does not match its content: the last byte of the DER (the
  // end of the ECDSA signature's S value) flipped, the structure still well formed.
  std::string pem = csr->ToPem();
  size_t body = pem.find('\n') + 1;
  size_t end = pem.find("-----END");
  std::string der;
  REQUIRE(absl::Base64Unescape(absl::StrReplaceAll(pem.substr(body, end - body), {{"\n", ""}}), &der));
  der.back() ^= 1;
  std::string b64 = absl::Base64Escape(der), tampered_pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) tampered_pem += b64.substr(i, 64) + "\n";
  tampered_pem += "-----END CERTIFICATE REQUEST-----\n";
  auto tampered = CertificateRequest::FromPem(tampered_pem);
  CHECK(absl::IsInvalidArgument(tampered.status()));
  CHECK(Contains(tampered.status().message(), "CSR signature does not verify"));

  auto garbage = CertificateRequest::FromPem("not a csr");
  CHECK(absl::IsInvalidArgument(garbage.status()));
  CHECK(Contains(garbage.status().message(), "read CSR"));
  CHECK(absl::IsInvalidArgument(CertificateRequest::FromPem(std::string(kMaxPemBytes + 1, 'x')).status()));
}

TEST_CASE("issuing refuses bad SANs and weak or missing keys") {
  CertificateAuthority ca = NewCa();
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  IssueOptions o;
  o.subject = {"x", {}};
  o.dns_names = {"bad name"};
  CHECK(absl::IsInvalidArgument(ca.Issue(key->get(), o).status()));
  o.dns_names = {};
  o.ip_addresses = {"300.1.1.1"};
  CHECK(absl::IsInvalidArgument(ca.Issue(key->get(), o).status()));
  o.ip_addresses = {};
  CHECK(absl::IsInvalidArgument(ca.Issue(nullptr, o).status()));
  EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  REQUIRE(rsa != nullptr);
  absl::Status weak = ca.Issue(rsa, o).status();
  EVP_PKEY_free(rsa);
  CHECK(absl::IsInvalidArgument(weak));
  CHECK(Contains(weak.message(), "EC key"));
}

TEST_CASE("PEM errors carry OpenSSL's reason") {
  auto bad = Certificate::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(Contains(bad.status().message(), "read certificate: "));
  auto none = Certificate::ChainFromPem("");
  CHECK(!none.ok());
  auto key = PrivateKey::FromPem("nope");
  CHECK(Contains(key.status().message(), "read private key: "));
}

TEST_CASE("subject alt names: IPs and DNS names apart, junk refused") {
  std::vector<std::string> dns, ips;
  REQUIRE(SplitSubjectAltNames({"10.99.0.1", "fd00::1", "Reef.Example", "*.edge.local"}, &dns, &ips).ok());
  CHECK(ips == std::vector<std::string>{"10.99.0.1", "fd00::1"});
  CHECK(dns == std::vector<std::string>{"reef.example", "*.edge.local"});
  for (const char* bad : {"", "a..b", "-a", "a b", "a_b", "http://x"}) {
    CHECK_MESSAGE(!SplitSubjectAltNames({bad}, &dns, &ips).ok(), bad);
  }
  CHECK(IsIpAddress("::1"));
  CHECK(!IsIpAddress("[::1]"));
}

}  // namespace
}  // namespace reef::pki
