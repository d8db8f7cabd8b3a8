#include "agent/image/registries_config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

constexpr uint64_t kMaxFileBytes = 1 << 20;
constexpr std::string_view kDockerHubDomain = "docker.io";
constexpr std::string_view kDockerHubRegistry = "registry-1.docker.io";

absl::Status FieldError(std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", path, why));
}

std::string Child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : reef::StrCat(path, ".", key);
}

absl::Status CheckMap(const YAML::Node& node, std::string_view path,
                      const std::set<std::string>& allowed) {
  if (!node.IsMap()) return FieldError(path, "expected a mapping");
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    if (!allowed.empty() && !allowed.contains(key)) {
      return FieldError(Child(path, key), absl::StrFormat("unknown field (expected one of: %s)",
                                                          absl::StrJoin(allowed, ", ")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ScalarField(const YAML::Node& node, std::string_view path) {
  if (!node.IsScalar()) return FieldError(path, "expected a string");
  return node.Scalar();
}

absl::StatusOr<bool> BoolField(const YAML::Node& node, std::string_view path) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    return FieldError(path, "expected true or false");
  }
  return value;
}

absl::StatusOr<Credentials> ParseAuth(const YAML::Node& node, std::string_view path) {
  RETURN_IF_ERROR(CheckMap(node, path, {"username", "password", "auth", "identity_token"}));
  Credentials c;
  if (node["identity_token"]) {
    return FieldError(Child(path, "identity_token"), "not supported (use username and password)");
  }
  if (node["username"]) {
    ASSIGN_OR_RETURN(c.username, ScalarField(node["username"], Child(path, "username")));
  }
  if (node["password"]) {
    ASSIGN_OR_RETURN(c.password, ScalarField(node["password"], Child(path, "password")));
  }
  if (node["auth"]) {
    ASSIGN_OR_RETURN(std::string encoded, ScalarField(node["auth"], Child(path, "auth")));
    std::string decoded;
    if (!absl::Base64Unescape(encoded, &decoded) || decoded.find(':') == std::string::npos) {
      return FieldError(Child(path, "auth"), "expected base64 of \"username:password\"");
    }
    const size_t colon = decoded.find(':');
    c.username = decoded.substr(0, colon);
    c.password = decoded.substr(colon + 1);
  }
  return c;
}

absl::StatusOr<TlsOptions> ParseTls(const YAML::Node& node, std::string_view path) {
  RETURN_IF_ERROR(
      CheckMap(node, path, {"insecure_skip_verify", "ca_file", "cert_file", "key_file"}));
  TlsOptions tls;
  if (node["insecure_skip_verify"]) {
    ASSIGN_OR_RETURN(bool insecure,
                     BoolField(node["insecure_skip_verify"], Child(path, "insecure_skip_verify")));
    tls.verify = !insecure;
  }
  if (node["ca_file"]) {
    ASSIGN_OR_RETURN(tls.ca_file, ScalarField(node["ca_file"], Child(path, "ca_file")));
  }
  if (node["cert_file"]) {
    ASSIGN_OR_RETURN(tls.cert_file, ScalarField(node["cert_file"], Child(path, "cert_file")));
  }
  if (node["key_file"]) {
    ASSIGN_OR_RETURN(tls.key_file, ScalarField(node["key_file"], Child(path, "key_file")));
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return FieldError(path, "cert_file and key_file go together");
  }
  return tls;
}

// "https://h:5000/prefix" -> scheme, host and path; a bare "h:5000" has no scheme.
struct EndpointUrl {
  std::string scheme;  // empty when not given
  std::string host;
  std::string path;  // "" or "/prefix"
};

absl::StatusOr<EndpointUrl> SplitEndpoint(std::string_view url) {
  EndpointUrl out;
  std::string_view rest = url;
  if (const size_t sep = rest.find("://"); sep != std::string_view::npos) {
    out.scheme = std::string(rest.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https") {
      return absl::InvalidArgumentError(
          absl::StrFormat("endpoint \"%s\": scheme must be http or https", url));
    }
    rest.remove_prefix(sep + 3);
  }
  const size_t slash = rest.find('/');
  out.host = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  if (out.host.empty() || out.host.find_first_of("@?# ") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrFormat("endpoint \"%s\": bad host", url));
  }
  return out;
}

}  // namespace

absl::StatusOr<RegistriesConfig> RegistriesConfig::Parse(std::string_view yaml,
                                                         std::string_view source) {
  auto fail = [&](const absl::Status& s) { return Annotate(s, source); };
  RegistriesConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return fail(absl::InvalidArgumentError(absl::StrFormat("invalid YAML: %s", e.what())));
  }
  if (root.IsNull()) return config;  // an empty file
  try {
    if (absl::Status s = CheckMap(root, "", {"mirrors", "configs"}); !s.ok()) return fail(s);
    if (const YAML::Node mirrors = root["mirrors"]; mirrors && !mirrors.IsNull()) {
      if (absl::Status s = CheckMap(mirrors, "mirrors", {}); !s.ok()) return fail(s);
      for (const auto& item : mirrors) {
        const std::string domain = item.first.as<std::string>();
        const std::string path = Child("mirrors", domain);
        if (absl::Status s = CheckMap(item.second, path, {"endpoint", "rewrite"}); !s.ok()) {
          return fail(s);
        }
        if (item.second["rewrite"]) {
          return fail(FieldError(Child(path, "rewrite"), "not supported"));
        }
        const YAML::Node endpoints = item.second["endpoint"];
        if (!endpoints || !endpoints.IsSequence()) {
          return fail(FieldError(Child(path, "endpoint"), "expected a list of URLs"));
        }
        std::vector<std::string>& list = config.mirrors_[domain];
        for (size_t i = 0; i < endpoints.size(); ++i) {
          const std::string field = absl::StrFormat("%s.endpoint[%d]", path, i);
          auto url = ScalarField(endpoints[i], field);
          if (!url.ok()) return fail(url.status());
          if (auto split = SplitEndpoint(*url); !split.ok()) {
            return fail(Annotate(split.status(), field));
          }
          list.push_back(*url);
        }
      }
    }
    if (const YAML::Node configs = root["configs"]; configs && !configs.IsNull()) {
      if (absl::Status s = CheckMap(configs, "configs", {}); !s.ok()) return fail(s);
      for (const auto& item : configs) {
        const std::string host = item.first.as<std::string>();
        const std::string path = Child("configs", host);
        if (absl::Status s = CheckMap(item.second, path, {"auth", "tls", "plain_http"}); !s.ok()) {
          return fail(s);
        }
        RegistryHostConfig host_config;
        if (item.second["auth"]) {
          auto auth = ParseAuth(item.second["auth"], Child(path, "auth"));
          if (!auth.ok()) return fail(auth.status());
          host_config.auth = *std::move(auth);
        }
        if (item.second["tls"]) {
          auto tls = ParseTls(item.second["tls"], Child(path, "tls"));
          if (!tls.ok()) return fail(tls.status());
          host_config.tls = *std::move(tls);
        }
        if (item.second["plain_http"]) {
          auto plain = BoolField(item.second["plain_http"], Child(path, "plain_http"));
          if (!plain.ok()) return fail(plain.status());
          host_config.plain_http = *plain;
        }
        config.configs_[host] = std::move(host_config);
      }
    }
  } catch (const YAML::Exception& e) {
    return fail(absl::InvalidArgumentError(absl::StrFormat("invalid YAML: %s", e.what())));
  }
  return config;
}

absl::StatusOr<RegistriesConfig> RegistriesConfig::Load(const std::string& path) {
  auto content = ReadFileLimited(path, kMaxFileBytes);
  if (absl::IsNotFound(content.status())) return RegistriesConfig();
  if (!content.ok()) return content.status();
  return Parse(*content, path);
}

const RegistryHostConfig& RegistriesConfig::ConfigFor(std::string_view host) const {
  static const RegistryHostConfig* kDefaults = new RegistryHostConfig();
  auto it = configs_.find(host);
  // Docker Hub's settings may be written under the name people use for it.
  if (it == configs_.end() && host == kDockerHubRegistry) it = configs_.find(kDockerHubDomain);
  return it == configs_.end() ? *kDefaults : it->second;
}

std::vector<RegistryEndpoint> RegistriesConfig::EndpointsFor(const std::string& domain) const {
  std::vector<RegistryEndpoint> out;
  auto add = [&](std::string_view url, bool is_mirror) {
    auto split = SplitEndpoint(url);
    if (!split.ok()) return;  // Parse() has checked configured ones
    if (split->scheme.empty()) split->scheme = ConfigFor(split->host).plain_http ? "http" : "https";
    std::string root = split->scheme + "://" + split->host + split->path;
    if (!split->path.ends_with("/v2")) root += "/v2";
    out.push_back(RegistryEndpoint{root, split->host, is_mirror});
  };
  const std::string registry_host(domain == kDockerHubDomain ? kDockerHubRegistry : domain);
  auto mirrors = mirrors_.find(domain);
  if (mirrors == mirrors_.end()) mirrors = mirrors_.find("*");
  bool registry_listed = false;
  if (mirrors != mirrors_.end()) {
    for (const std::string& url : mirrors->second) add(url, /*is_mirror=*/true);
    // K3s's way to reach a registry over plain HTTP is to list it as its own mirror:
    // that entry is then the registry, not a mirror to fall back from.
    for (RegistryEndpoint& e : out) {
      if (e.host == registry_host) {
        e.is_mirror = false;
        registry_listed = true;
      }
    }
  }
  if (!registry_listed) add(registry_host, /*is_mirror=*/false);
  return out;
}

}  // namespace reef::agent::image
