#pragma once
// Which endpoints serve a registry and how to talk to them, from a registries file in
// K3s's format (/etc/rancher/k3s/registries.yaml):
//
//   mirrors:
//     docker.io:                      # a registry domain as it appears in references,
//       endpoint:                     # or "*" for every registry without its own entry
//         - "https://mirror.local:5000"
//         - "http://10.0.0.2:5000"    # http:// = plain HTTP to that mirror
//   configs:
//     "mirror.local:5000":            # host[:port] of a mirror or registry
//       auth: {username: u, password: p}   # or auth: {auth: base64("u:p")}
//       tls: {insecure_skip_verify: true, ca_file: ..., cert_file: ..., key_file: ...}
//       plain_http: true              # Reef's addition: talk HTTP, not HTTPS, to this host
//                                     # when it is reached without an explicit scheme
//                                     # (a registry on loopback, a lab box)
//
// Mirrors are tried in the order given, then the registry itself. Unknown keys are
// errors that name their path, so a typo does not silently disable a mirror.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/image/http_client.h"
#include "common/status.h"

namespace reef::agent::image {

struct Credentials {
  std::string username;
  std::string password;
  bool empty() const { return username.empty() && password.empty(); }
  friend bool operator==(const Credentials& a, const Credentials& b) = default;
};

struct RegistryHostConfig {
  Credentials auth;
  TlsOptions tls;
  bool plain_http = false;
};

// One place to fetch a registry's content from.
struct RegistryEndpoint {
  std::string api_root;  // "https://mirror.local:5000/v2": requests append "/<repo>/..."
  std::string host;      // "mirror.local:5000": the key into configs
  bool is_mirror = false;
};

class RegistriesConfig {
 public:
  // `source` names the document in errors ("registries.yaml: configs.x.tls: ...").
  static absl::StatusOr<RegistriesConfig> Parse(std::string_view yaml, std::string_view source);
  // Reads the file; a missing file is an empty configuration (no mirrors, no auth).
  static absl::StatusOr<RegistriesConfig> Load(const std::string& path);

  // Where to fetch content of `domain` (a Reference's domain, e.g. "docker.io"):
  // its mirrors (or those of "*") in order, then the registry itself.
  std::vector<RegistryEndpoint> EndpointsFor(const std::string& domain) const;
  // The settings for host[:port]; defaults (verify TLS, no credentials) when none.
  const RegistryHostConfig& ConfigFor(std::string_view host) const;

  // For tests and for callers that build a configuration in code.
  void AddMirror(const std::string& domain, const std::string& endpoint_url) {
    mirrors_[domain].push_back(endpoint_url);
  }
  void SetConfig(const std::string& host, RegistryHostConfig config) {
    configs_[host] = std::move(config);
  }

 private:
  std::map<std::string, std::vector<std::string>> mirrors_;
  std::map<std::string, RegistryHostConfig, std::less<>> configs_;
};

}  // namespace reef::agent::image
