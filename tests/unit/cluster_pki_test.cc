// controller/pki/cluster_pki.h: the controller's files under DATA_DIR/pki, their
// reuse across starts, and node certificates from CSRs.

#include "controller/pki/cluster_pki.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>

#include "common/files.h"
#include "tests/support/process.h"

namespace reef::controller {
namespace {

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

int Mode(const std::string& path) {
  struct stat st;
  REQUIRE_MESSAGE(stat(path.c_str(), &st) == 0, path);
  return st.st_mode & 0777;
}

std::string Read(const std::string& path) {
  auto text = ReadFileLimited(path, 1 << 20);
  REQUIRE_MESSAGE(text.ok(), text.status().ToString());
  return *text;
}

std::unique_ptr<ClusterPki> Load(const std::string& dir, std::vector<std::string> sans = {}) {
  auto pki = ClusterPki::LoadOrCreate({dir, std::move(sans)});
  REQUIRE_MESSAGE(pki.ok(), pki.status().ToString());
  return std::move(*pki);
}

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST_CASE("first start creates the CA, server and admin certificates; later starts reuse them") {
  testing::TempDir tmp;
  std::string dir = tmp.path() + "/pki";
  auto pki = Load(dir);
  CHECK(Mode(dir) == 0700);
  for (const char* key : {"ca.key", "server.key", "admin.key"}) CHECK_MESSAGE(Mode(dir + "/" + key) == 0600, key);
  CHECK(pki->ca_sha256() == pki->ca_certificate().Sha256());

  const pki::Certificate& server = pki->server_certificate();
  CHECK(pki::VerifyChain(server, pki->ca_certificate()).ok());
  CHECK(Has(server.dns_names(), "localhost"));
  CHECK(Has(server.ip_addresses(), "127.0.0.1"));
  CHECK(Has(server.ip_addresses(), "::1"));

  ClientConfigFile admin = pki->AdminConfig("127.0.0.1:7443");
  auto parsed = ClientConfigFile::Parse(admin.Format(), "admin.conf");
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  CHECK(parsed->server == "127.0.0.1:7443");
  auto admin_cert = pki::Certificate::FromPem(parsed->certificate_pem);
  REQUIRE(admin_cert.ok());
  CHECK(admin_cert->common_name() == "admin");
  CHECK(admin_cert->organizations() == std::vector<std::string>{kAdminsGroup});

  std::string server_pem = Read(dir + "/server.crt"), admin_pem = Read(dir + "/admin.crt");
  std::string ca = pki->ca_sha256();
  pki.reset();
  auto again = Load(dir);
  CHECK(again->ca_sha256() == ca);
  CHECK(Read(dir + "/server.crt") == server_pem);
  CHECK(Read(dir + "/admin.crt") == admin_pem);
}

TEST_CASE("a changed --tls-san set reissues the server certificate under the same CA") {
  testing::TempDir tmp;
  std::string dir = tmp.path() + "/pki";
  std::string ca = Load(dir)->ca_sha256();
  std::string before = Read(dir + "/server.crt");
  auto pki = Load(dir, {"10.99.0.1", "reef.example"});
  CHECK(pki->ca_sha256() == ca);
  CHECK(Read(dir + "/server.crt") != before);
  CHECK(Has(pki->server_certificate().ip_addresses(), "10.99.0.1"));
  CHECK(Has(pki->server_certificate().dns_names(), "reef.example"));
  std::string with_sans = Read(dir + "/server.crt");
  Load(dir, {"reef.example", "10.99.0.1"});  // same set, another order: kept
  CHECK(Read(dir + "/server.crt") == with_sans);

  auto bad = ClusterPki::LoadOrCreate({dir, {"not a name"}});
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(Contains(bad.status().message(), "--tls-san"));
}

TEST_CASE("a CA certificate without its key is not silently replaced") {
  testing::TempDir tmp;
  std::string dir = tmp.path() + "/pki";
  Load(dir);
  REQUIRE(std::remove((dir + "/ca.key").c_str()) == 0);
  auto pki = ClusterPki::LoadOrCreate({dir, {}});
  CHECK(absl::IsFailedPrecondition(pki.status()));
  CHECK(Contains(pki.status().message(), "ca.key is missing"));
}

TEST_CASE("node certificates: CN=<node>, O=reef:nodes, for the CSR's key, and the CSR must name the node") {
  testing::TempDir tmp;
  auto pki = Load(tmp.path() + "/pki");
  auto key = pki::PrivateKey::Generate();
  REQUIRE(key.ok());
  auto csr = pki::CertificateRequest::Create(*key, {"edge-1", {"reef:admins"}});
  REQUIRE(csr.ok());

  auto cert = pki->IssueNodeCertificate("edge-1", csr->ToPem(), absl::Seconds(20));
  REQUIRE_MESSAGE(cert.ok(), cert.status().ToString());
  CHECK(cert->common_name() == "edge-1");
  // The group comes from the controller, not from what the CSR asks for.
  CHECK(cert->organizations() == std::vector<std::string>{kNodesGroup});
  CHECK(cert->MatchesKey(*key));
  CHECK(pki::VerifyChain(*cert, pki->ca_certificate()).ok());
  CHECK(cert->not_after() - cert->not_before() == absl::Seconds(20));

  auto mismatch = pki->IssueNodeCertificate("edge-2", csr->ToPem(), absl::Seconds(20));
  CHECK(absl::IsInvalidArgument(mismatch.status()));
  CHECK(mismatch.status().message() == "the CSR's common name \"edge-1\" is not the node name \"edge-2\"");

  auto junk = pki->IssueNodeCertificate("edge-1", "junk", absl::Seconds(20));
  CHECK(absl::IsInvalidArgument(junk.status()));
  CHECK(Contains(junk.status().message(), "CSR: read CSR"));
}

}  // namespace
}  // namespace reef::controller
