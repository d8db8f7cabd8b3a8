// Pulls from a real docker-registry on 127.0.0.1: anonymous, basic and token auth,
// OCI and Docker schema2, by tag and by digest, and a multi-platform index; layers
// unpacked by the real Snapshotter.

#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/image/registry_client.h"
#include "tests/support/registry.h"

namespace reef::testing {
namespace {

using image::Credentials;
using image::PullOptions;

void CheckRunnable(const image::Image& img) {
  CHECK(img.config.cmd == std::vector<std::string>{"/bin/sh"});
  CHECK(img.config.env == std::vector<std::string>{"PATH=/bin"});
  REQUIRE(img.layers.size() == 1);
  CHECK(std::filesystem::is_regular_file(img.layers[0].snapshot + "/bin/busybox"));
  CHECK(std::filesystem::is_symlink(img.layers[0].snapshot + "/bin/sh"));
}

image::RegistriesConfig WithCredentials(const TestRegistry& registry, Credentials credentials) {
  image::RegistriesConfig config;
  image::RegistryHostConfig host;
  host.plain_http = true;
  host.auth = std::move(credentials);
  config.SetConfig(registry.host(), host);
  return config;
}

TEST_CASE("anonymous pull by tag and by digest, OCI and Docker schema2") {
  const std::string& layout = SharedTestImageLayout();
  TestRegistry registry;
  registry.Push(layout, "1", "busybox", "1");
  registry.Push(layout, "1", "library/busybox", "v2s2", /*docker_schema2=*/true);
  ImageStoreUnderTest s(registry.Config());

  auto by_tag = s.store->Pull(registry.host() + "/busybox:1");
  REQUIRE_MESSAGE(by_tag.ok(), by_tag.status().ToString());
  CHECK(by_tag->reference == registry.host() + "/busybox:1");
  CheckRunnable(*by_tag);

  const std::string by_digest_ref =
      registry.host() + "/busybox@" + by_tag->manifest_digest.ToString();
  PullOptions always;
  always.policy = image::PullPolicy::kAlways;
  auto by_digest = s.store->Pull(by_digest_ref, always);
  REQUIRE_MESSAGE(by_digest.ok(), by_digest.status().ToString());
  CHECK(by_digest->manifest_digest == by_tag->manifest_digest);

  auto schema2 = s.store->Pull(registry.host() + "/library/busybox:v2s2");
  REQUIRE_MESSAGE(schema2.ok(), schema2.status().ToString());
  auto manifest = nlohmann::json::parse(
      *image::ContentStore::Open(s.root()).value()->Read(schema2->manifest_digest, 1 << 20));
  CHECK(manifest["mediaType"] == image::media_type::kDockerManifest);
  CHECK(schema2->manifest_digest != by_tag->manifest_digest);
  CHECK(schema2->layers[0].diff_id == by_tag->layers[0].diff_id);  // same layer content
  CheckRunnable(*schema2);
  CHECK(s.store->List()->size() == 3);
}

TEST_CASE("basic auth (htpasswd)") {
  const std::string& layout = SharedTestImageLayout();
  TestRegistry registry({.auth = TestRegistry::Auth::kBasic});
  registry.Push(layout, "1", "busybox", "1");
  const std::string ref = registry.host() + "/busybox:1";

  ImageStoreUnderTest anonymous(registry.Config());
  auto refused = anonymous.store->Pull(ref);
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::IsUnauthenticated(refused.status()));
  CHECK(std::string(refused.status().message()).find("no credentials are configured") !=
        std::string::npos);

  ImageStoreUnderTest configured(WithCredentials(registry, {"reef", "s3cret-pw"}));
  auto pulled = configured.store->Pull(ref);
  REQUIRE_MESSAGE(pulled.ok(), pulled.status().ToString());
  CheckRunnable(*pulled);

  // An image pull secret, with nothing in registries.yaml; a wrong one is refused.
  PullOptions secret;
  secret.credentials = Credentials{"reef", "s3cret-pw"};
  REQUIRE(anonymous.store->Pull(ref, secret).ok());
  ImageStoreUnderTest other(registry.Config());
  secret.credentials = Credentials{"reef", "wrong"};
  auto wrong = other.store->Pull(ref, secret);
  CHECK(absl::IsUnauthenticated(wrong.status()));
  CHECK_MESSAGE(
      std::string(wrong.status().message()).find("refused the credentials of user \"reef\"") !=
          std::string::npos,
      wrong.status());
}

TEST_CASE("token auth: the token server is asked for the repository's pull scope") {
  const std::string& layout = SharedTestImageLayout();
  TestRegistry registry({.auth = TestRegistry::Auth::kToken});
  registry.Push(layout, "1", "busybox", "1");
  const std::string ref = registry.host() + "/busybox:1";
  const size_t pushes = registry.TokenRequests().size();

  ImageStoreUnderTest configured(WithCredentials(registry, {"reef", "s3cret-pw"}));
  auto pulled = configured.store->Pull(ref);
  REQUIRE_MESSAGE(pulled.ok(), pulled.status().ToString());
  CheckRunnable(*pulled);
  std::vector<std::string> tokens = registry.TokenRequests();
  tokens.erase(tokens.begin(), tokens.begin() + pushes);
  // One token for manifest, config and layer: cached per scope.
  CHECK(tokens == std::vector<std::string>{"scope=repository:busybox:pull user=reef"});

  ImageStoreUnderTest anonymous(registry.Config());
  auto refused = anonymous.store->Pull(ref);
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::IsUnauthenticated(refused.status()));
  CHECK(std::string(refused.status().message()).find("insufficient_scope") != std::string::npos);
}

TEST_CASE("TLS: verified by default, trusted through ca_file or insecure_skip_verify") {
  const std::string& layout = SharedTestImageLayout();
  TestRegistry registry({.tls = true});
  registry.Push(layout, "1", "busybox", "1");
  const std::string ref = registry.host() + "/busybox:1";

  ImageStoreUnderTest untrusted(image::RegistriesConfig{});
  auto refused = untrusted.store->Pull(ref);
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::IsFailedPrecondition(refused.status()));  // not retried as a transient fault
  CHECK(std::string(refused.status().message()).find("https://" + registry.host()) !=
        std::string::npos);

  ImageStoreUnderTest with_ca(registry.Config());
  auto pulled = with_ca.store->Pull(ref);
  REQUIRE_MESSAGE(pulled.ok(), pulled.status().ToString());
  CheckRunnable(*pulled);

  image::RegistriesConfig insecure;
  image::RegistryHostConfig skip;
  skip.tls.verify = false;
  insecure.SetConfig(registry.host(), skip);
  ImageStoreUnderTest skipping(insecure);
  REQUIRE(skipping.store->Pull(ref).ok());
}

TEST_CASE("a multi-platform index resolves to the requested platform") {
  const std::string& layout = SharedTestImageLayout();
  TestRegistry registry;
  registry.Push(layout, "1", "busybox", "amd64");
  registry.Push(layout, "arm64", "busybox", "arm64");
  auto http = image::HttpClient::Open();
  REQUIRE(http.ok());
  auto client = image::RegistryClient::Open(http->get(), registry.Config());
  REQUIRE(client.ok());
  nlohmann::json manifests = nlohmann::json::array();
  std::map<std::string, image::Digest> digests;
  for (auto [tag, platform] :
       {std::pair{"amd64", R"({"architecture":"amd64","os":"linux"})"},
        std::pair{"arm64", R"({"architecture":"arm64","os":"linux","variant":"v8"})"}}) {
    auto resolved = (*client)->Resolve(
        *image::Reference::Parse(registry.host() + "/busybox:" + tag),
        image::Platform::Parse(std::string("linux/") + tag).value(), std::nullopt);
    REQUIRE_MESSAGE(resolved.ok(), resolved.status().ToString());
    digests[tag] = resolved->digest;
    manifests.push_back({{"mediaType", image::media_type::kOciManifest},
                         {"digest", resolved->digest.ToString()},
                         {"size", resolved->bytes.size()},
                         {"platform", nlohmann::json::parse(platform)}});
  }
  CHECK(digests["amd64"] != digests["arm64"]);
  const nlohmann::json index = {
      {"schemaVersion", 2}, {"mediaType", image::media_type::kOciIndex}, {"manifests", manifests}};
  registry.PutManifest("busybox", "multi", index.dump(), std::string(image::media_type::kOciIndex));

  ImageStoreUnderTest s(registry.Config());
  PullOptions amd64;
  amd64.platform = {"linux", "amd64", ""};
  auto on_amd64 = s.store->Pull(registry.host() + "/busybox:multi", amd64);
  REQUIRE_MESSAGE(on_amd64.ok(), on_amd64.status().ToString());
  CHECK(on_amd64->manifest_digest == digests["amd64"]);
  CHECK(on_amd64->config.platform.architecture == "amd64");

  ImageStoreUnderTest arm(registry.Config());
  PullOptions arm64;
  arm64.platform = {"linux", "arm64", "v8"};
  auto on_arm64 = arm.store->Pull(registry.host() + "/busybox:multi", arm64);
  REQUIRE_MESSAGE(on_arm64.ok(), on_arm64.status().ToString());
  CHECK(on_arm64->manifest_digest == digests["arm64"]);
  CHECK(on_arm64->config.platform.architecture == "arm64");

  PullOptions riscv;
  riscv.policy = image::PullPolicy::kAlways;  // the name is here already, as arm64
  riscv.platform = {"linux", "riscv64", ""};
  auto none = arm.store->Pull(registry.host() + "/busybox:multi", riscv);
  CHECK(absl::IsNotFound(none.status()));
}

}  // namespace
}  // namespace reef::testing
