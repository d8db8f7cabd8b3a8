#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "agent/image/registries_config.h"
#include "tests/support/process.h"

namespace reef::agent::image {
namespace {

std::string Error(std::string_view yaml) {
  auto config = RegistriesConfig::Parse(yaml, "registries.yaml");
  REQUIRE_FALSE(config.ok());
  CHECK(absl::IsInvalidArgument(config.status()));
  return std::string(config.status().message());
}

std::vector<std::string> Roots(const std::vector<RegistryEndpoint>& endpoints) {
  std::vector<std::string> out;
  for (const RegistryEndpoint& e : endpoints) out.push_back(e.api_root);
  return out;
}

TEST_CASE("a K3s registries.yaml gives mirrors in order, then the registry") {
  auto config = RegistriesConfig::Parse(R"(
mirrors:
  docker.io:
    endpoint:
      - "https://mirror.local:5000"
      - "http://10.0.0.2:5000/cache/"
      - "lab.box:5000"
  "*":
    endpoint: ["https://all.mirror"]
configs:
  "mirror.local:5000":
    auth: {username: alice, password: "p:w"}
    tls: {insecure_skip_verify: true, ca_file: /etc/ca.pem}
  "lab.box:5000":
    plain_http: true
    auth: {auth: "Ym9iOnNlY3JldA=="}
  docker.io:
    auth: {username: hub, password: x}
)",
                                        "registries.yaml");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());

  auto hub = config->EndpointsFor("docker.io");
  CHECK(Roots(hub) ==
        std::vector<std::string>{"https://mirror.local:5000/v2", "http://10.0.0.2:5000/cache/v2",
                                 "http://lab.box:5000/v2", "https://registry-1.docker.io/v2"});
  CHECK(hub[0].is_mirror);
  CHECK_FALSE(hub[3].is_mirror);
  CHECK(hub[3].host == "registry-1.docker.io");

  // "*" covers registries without their own entry.
  CHECK(Roots(config->EndpointsFor("quay.io")) ==
        std::vector<std::string>{"https://all.mirror/v2", "https://quay.io/v2"});

  const RegistryHostConfig& mirror = config->ConfigFor("mirror.local:5000");
  CHECK(mirror.auth.username == "alice");
  CHECK(mirror.auth.password == "p:w");
  CHECK_FALSE(mirror.tls.verify);
  CHECK(mirror.tls.ca_file == "/etc/ca.pem");
  CHECK(config->ConfigFor("lab.box:5000").auth.username == "bob");
  CHECK(config->ConfigFor("lab.box:5000").auth.password == "secret");
  // Docker Hub's settings may be written under docker.io.
  CHECK(config->ConfigFor("registry-1.docker.io").auth.username == "hub");
  // Unknown hosts get the defaults: verify TLS, anonymous.
  CHECK(config->ConfigFor("other:1").tls.verify);
  CHECK(config->ConfigFor("other:1").auth.empty());
}

TEST_CASE("plain_http and a registry listed as its own mirror") {
  auto config = RegistriesConfig::Parse(R"(
mirrors:
  "registry.lan:5000":
    endpoint: ["http://registry.lan:5000"]
configs:
  "127.0.0.1:5000": {plain_http: true}
)",
                                        "r.yaml");
  REQUIRE(config.ok());
  auto lan = config->EndpointsFor("registry.lan:5000");
  REQUIRE(lan.size() == 1);  // not tried twice
  CHECK(lan[0].api_root == "http://registry.lan:5000/v2");
  CHECK_FALSE(lan[0].is_mirror);  // pull secrets apply to it
  CHECK(Roots(config->EndpointsFor("127.0.0.1:5000")) ==
        std::vector<std::string>{"http://127.0.0.1:5000/v2"});
  CHECK(Roots(config->EndpointsFor("[::1]:5000")) ==
        std::vector<std::string>{"https://[::1]:5000/v2"});
}

TEST_CASE("mistakes in registries.yaml name their path") {
  CHECK(Error("mirrors: [a]").find("registries.yaml: mirrors: expected a mapping") !=
        std::string::npos);
  CHECK(Error("mirror: {}").find("mirror: unknown field") != std::string::npos);
  CHECK(Error("mirrors: {docker.io: {endpoints: [x]}}").find("mirrors.docker.io.endpoints") !=
        std::string::npos);
  CHECK(Error("mirrors: {docker.io: {endpoint: x}}").find("mirrors.docker.io.endpoint") !=
        std::string::npos);
  CHECK(Error("mirrors: {docker.io: {endpoint: [\"ftp://x\"]}}")
            .find("scheme must be http or https") != std::string::npos);
  CHECK(Error("mirrors: {docker.io: {endpoint: [x], rewrite: {a: b}}}")
            .find("rewrite: not supported") != std::string::npos);
  CHECK(Error("configs: {h: {tls: {insecure_skip_verify: maybe}}}")
            .find("configs.h.tls.insecure_skip_verify: expected true or false") !=
        std::string::npos);
  CHECK(Error("configs: {h: {tls: {cert_file: /c}}}").find("cert_file and key_file") !=
        std::string::npos);
  CHECK(Error("configs: {h: {auth: {auth: \"not base64!\"}}}").find("configs.h.auth.auth") !=
        std::string::npos);
  CHECK(Error("configs: {h: {auth: {identity_token: t}}}").find("identity_token: not supported") !=
        std::string::npos);
  CHECK(Error("configs: {h: {plain_http: true, tsl: {}}}").find("configs.h.tsl: unknown field") !=
        std::string::npos);
  CHECK(Error("mirrors: {a: [").find("invalid YAML") != std::string::npos);
}

TEST_CASE("registries.yaml is optional") {
  testing::TempDir dir;
  auto missing = RegistriesConfig::Load(dir.path() + "/registries.yaml");
  REQUIRE(missing.ok());
  CHECK(Roots(missing->EndpointsFor("docker.io")) ==
        std::vector<std::string>{"https://registry-1.docker.io/v2"});
  std::ofstream(dir.path() + "/empty.yaml") << "";
  CHECK(RegistriesConfig::Load(dir.path() + "/empty.yaml").ok());
  std::ofstream(dir.path() + "/bad.yaml") << "configs: {h: {tls: 3}}";
  auto bad = RegistriesConfig::Load(dir.path() + "/bad.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find(dir.path() + "/bad.yaml: configs.h.tls") == 0);
}

}  // namespace
}  // namespace reef::agent::image
