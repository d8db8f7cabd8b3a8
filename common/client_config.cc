#include "common/client_config.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/escaping.h"
#include "common/files.h"
#include "common/pki.h"

namespace reef {
namespace {

constexpr char kServer[] = "server";
constexpr char kCa[] = "certificate-authority-data";
constexpr char kCert[] = "client-certificate-data";
constexpr char kKey[] = "client-key-data";

std::string Base64(std::string_view data) {
  std::string out;
  absl::Base64Escape(ToAbsl(data), &out);
  return out;
}

}  // namespace

std::string ClientConfigFile::Format() const {
  return reef::StrCat(
      "# A Reef client config, written by reef-controller. It holds a private key: keep it\n"
      "# 0600. Use it with `reefctl --config FILE`, REEFCONFIG=FILE or as ~/.reef/config.\n",
      kServer, ": ", server, "\n", kCa, ": ", Base64(ca_pem), "\n", kCert, ": ", Base64(certificate_pem),
      "\n", kKey, ": ", Base64(key_pem), "\n");
}

absl::StatusOr<ClientConfigFile> ClientConfigFile::Parse(std::string_view text, std::string_view source) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(reef::StrCat(source, ": ", why));
  };
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(reef::StrCat("line ", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
  if (!root.IsMap()) return fail("not a Reef config (expected server: and the *-data: fields)");
  auto scalar = [&](const char* key) -> absl::StatusOr<std::string> {
    YAML::Node n = root[key];
    if (!n || !n.IsScalar() || n.Scalar().empty()) return fail(reef::StrCat("no \"", key, "\" entry"));
    return n.Scalar();
  };
  auto pem = [&](const char* key) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string b64, scalar(key));
    std::string out;
    if (!absl::Base64Unescape(b64, &out)) return fail(reef::StrCat(key, ": not base64"));
    return out;
  };
  ClientConfigFile c;
  ASSIGN_OR_RETURN(c.server, scalar(kServer));
  ASSIGN_OR_RETURN(c.ca_pem, pem(kCa));
  ASSIGN_OR_RETURN(c.certificate_pem, pem(kCert));
  ASSIGN_OR_RETURN(c.key_pem, pem(kKey));
  auto ca = pki::Certificate::FromPem(c.ca_pem);
  if (!ca.ok()) return fail(reef::StrCat(kCa, ": ", ca.status().message()));
  auto cert = pki::Certificate::FromPem(c.certificate_pem);
  if (!cert.ok()) return fail(reef::StrCat(kCert, ": ", cert.status().message()));
  auto key = pki::PrivateKey::FromPem(c.key_pem);
  if (!key.ok()) return fail(reef::StrCat(kKey, ": ", key.status().message()));
  if (!cert->MatchesKey(*key)) return fail(reef::StrCat(kKey, " does not match ", kCert));
  return c;
}

absl::StatusOr<ClientConfigFile> ClientConfigFile::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, 1 << 20));
  return Parse(text, path);
}

}  // namespace reef
