// Pull flows of RegistryClient against FakeRegistry: resolution, auth, retries,
// verification and resume, without a network.

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "agent/image/registry_client.h"
#include "common/files.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace reef::agent::image {
namespace {

using testing::FakeRegistry;

RegistryClientOptions FastRetries(int attempts = 3) {
  RegistryClientOptions options;
  options.max_attempts = attempts;
  options.initial_backoff = absl::Milliseconds(1);
  options.max_backoff = absl::Milliseconds(4);
  return options;
}

struct Fixture {
  FakeRegistry registry;
  std::unique_ptr<RegistryClient> client;
  testing::TempDir dir;

  explicit Fixture(RegistriesConfig config = {}, RegistryClientOptions options = FastRetries()) {
    client = *RegistryClient::Open(&registry.client(), std::move(config), options);
  }

  absl::StatusOr<ResolvedManifest> Resolve(std::string_view ref,
                                           const Platform& platform = {"linux", "amd64", ""},
                                           std::optional<Credentials> credentials = std::nullopt) {
    return client->Resolve(*Reference::Parse(ref), platform, credentials);
  }
};

std::string FileContent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

TEST_CASE("resolve a tag to an OCI manifest, sending the full Accept list") {
  Fixture f;
  auto built = f.registry.AddImage("app", "1", {"layer-one", "layer-two"});
  auto resolved = f.Resolve("registry.test/app:1");
  REQUIRE_MESSAGE(resolved.ok(), resolved.status().ToString());
  CHECK(resolved->digest == built.manifest);
  CHECK(resolved->bytes == built.manifest_body);
  CHECK_FALSE(resolved->index_digest);
  CHECK(resolved->manifest.config.digest == built.config);
  REQUIRE(resolved->manifest.layers.size() == 2);
  const HttpRequest first = f.registry.client().requests().front();
  CHECK(first.url == "https://registry.test/v2/app/manifests/1");
  CHECK(first.headers.Get("Accept") == ManifestAcceptHeader());

  // Config in memory, layers to a file; both verified.
  auto config = f.client->FetchBlob(*resolved, resolved->manifest.config, kMaxConfigBytes);
  REQUIRE(config.ok());
  CHECK(Digest::Of(*config) == built.config);
  const std::string path = f.dir.path() + "/layer";
  REQUIRE(f.client->DownloadBlob(*resolved, resolved->manifest.layers[1], path).ok());
  CHECK(FileContent(path) == "layer-two");
}

TEST_CASE("Docker schema2 manifests and references by digest") {
  Fixture f;
  auto built = f.registry.AddImage("ns/app", "v2", {"docker-layer"}, {"linux", "amd64", ""},
                                   /*docker_schema2=*/true);
  auto by_digest = f.Resolve("registry.test/ns/app@" + built.manifest.ToString());
  REQUIRE_MESSAGE(by_digest.ok(), by_digest.status().ToString());
  CHECK(by_digest->manifest.media_type == media_type::kDockerManifest);
  CHECK(by_digest->manifest.layers[0].media_type == media_type::kDockerLayerGzip);
  CHECK(f.registry.client().requests().front().url ==
        "https://registry.test/v2/ns/app/manifests/" + built.manifest.ToString());
}

TEST_CASE("an index resolves to the requested platform's manifest") {
  Fixture f;
  auto amd64 = f.registry.AddImage("multi", "amd64-only", {"x86 layer"}, {"linux", "amd64", ""});
  auto arm64 = f.registry.AddImage("multi", "arm64-only", {"arm layer"}, {"linux", "arm64", "v8"});
  const Digest index = f.registry.AddIndex(
      "multi", "1", {{amd64, {"linux", "amd64", ""}}, {arm64, {"linux", "arm64", "v8"}}});

  auto on_amd64 = f.Resolve("registry.test/multi:1");
  REQUIRE(on_amd64.ok());
  CHECK(on_amd64->digest == amd64.manifest);
  CHECK(on_amd64->index_digest == index);
  auto on_arm64 = f.Resolve("registry.test/multi:1", {"linux", "arm64", ""});
  REQUIRE(on_arm64.ok());
  CHECK(on_arm64->digest == arm64.manifest);
  auto on_riscv = f.Resolve("registry.test/multi:1", {"linux", "riscv64", ""});
  REQUIRE_FALSE(on_riscv.ok());
  CHECK(absl::IsNotFound(on_riscv.status()));
  CHECK(std::string(on_riscv.status().message()).find("no manifest for platform linux/riscv64") !=
        std::string::npos);
}

TEST_CASE("basic auth: configured credentials, pull secrets, and a clear refusal") {
  RegistriesConfig config;
  RegistryHostConfig host;
  host.auth = {"alice", "wonder"};
  config.SetConfig("registry.test", host);
  Fixture f(config);
  f.registry.AddImage("private", "1", {"secret layer"});
  f.registry.RequireBasic({"alice", "wonder"});
  REQUIRE(f.Resolve("registry.test/private:1").ok());

  // A pull secret takes precedence over registries.yaml.
  auto wrong =
      f.Resolve("registry.test/private:1", {"linux", "amd64", ""}, Credentials{"eve", "x"});
  REQUIRE_FALSE(wrong.ok());
  CHECK(absl::IsUnauthenticated(wrong.status()));
  CHECK(std::string(wrong.status().message()).find("refused the credentials of user \"eve\"") !=
        std::string::npos);

  Fixture anonymous;
  anonymous.registry.AddImage("private", "1", {"secret layer"});
  anonymous.registry.RequireBasic({"alice", "wonder"});
  auto none = anonymous.Resolve("registry.test/private:1");
  CHECK(absl::IsUnauthenticated(none.status()));
  CHECK(std::string(none.status().message()).find("no credentials are configured") !=
        std::string::npos);
}

TEST_CASE("bearer auth: one token per repository scope, reused for the blobs") {
  Fixture f;
  auto built = f.registry.AddImage("team/app", "1", {"l1", "l2"});
  f.registry.RequireBearer({"bob", "builder"});
  auto resolved =
      f.Resolve("registry.test/team/app:1", {"linux", "amd64", ""}, Credentials{"bob", "builder"});
  REQUIRE_MESSAGE(resolved.ok(), resolved.status().ToString());
  REQUIRE(f.client->FetchBlob(*resolved, resolved->manifest.config, kMaxConfigBytes).ok());
  REQUIRE(
      f.client->DownloadBlob(*resolved, resolved->manifest.layers[0], f.dir.path() + "/l").ok());
  CHECK(f.registry.token_scopes() == std::vector<std::string>{"repository:team/app:pull"});

  auto anonymous = f.Resolve("registry.test/team/app:1");
  REQUIRE_FALSE(anonymous.ok());
  CHECK(absl::IsUnauthenticated(anonymous.status()));
}

TEST_CASE("transient failures are retried with backoff, others are not") {
  Fixture f;
  f.registry.AddImage("app", "1", {"layer"});
  f.registry.FailRequests("/manifests/", 2, 503);
  REQUIRE(f.Resolve("registry.test/app:1").ok());
  CHECK(f.registry.client().CountRequests("/manifests/1") == 3);

  f.registry.FailRequests("/manifests/", 10, 502);
  auto gave_up = f.Resolve("registry.test/app:1");
  REQUIRE_FALSE(gave_up.ok());
  CHECK(absl::IsUnavailable(gave_up.status()));
  CHECK(std::string(gave_up.status().message()).find("gave up after 3 attempts") !=
        std::string::npos);

  Fixture missing;
  auto not_found = missing.Resolve("registry.test/nope:1");
  CHECK(absl::IsNotFound(not_found.status()));
  CHECK(std::string(not_found.status().message()).find("404 Not Found: MANIFEST_UNKNOWN") !=
        std::string::npos);
  CHECK(missing.registry.client().CountRequests("/manifests/") == 1);
}

TEST_CASE("content that does not match its digest is refused and discarded") {
  Fixture f;
  auto built = f.registry.AddImage("app", "1", {"good layer content", "second"});
  auto resolved = f.Resolve("registry.test/app:1");
  REQUIRE(resolved.ok());
  f.registry.CorruptBlob(built.layers[0]);
  const std::string path = f.dir.path() + "/layer.partial";
  absl::Status s = f.client->DownloadBlob(*resolved, resolved->manifest.layers[0], path);
  CHECK(absl::IsDataLoss(s));
  CHECK(std::string(s.message()).find("digest mismatch") != std::string::npos);
  CHECK_FALSE(Exists(path));

  f.registry.CorruptBlob(built.config);
  auto config = f.client->FetchBlob(*resolved, resolved->manifest.config, kMaxConfigBytes);
  CHECK(absl::IsDataLoss(config.status()));

  // A manifest asked for by digest must hash to it.
  const Digest claimed = Digest::Of("something else");
  f.registry.AddManifest("app", claimed.ToString(), built.manifest_body,
                         std::string(media_type::kOciManifest));
  auto wrong = f.Resolve("registry.test/app@" + claimed.ToString());
  CHECK(absl::IsDataLoss(wrong.status()));
}

TEST_CASE("an interrupted download resumes with Range") {
  Fixture f;
  const std::string content(100'000, 'z');
  auto built = f.registry.AddImage("app", "1", {content});
  auto resolved = f.Resolve("registry.test/app:1");
  REQUIRE(resolved.ok());
  f.registry.CutBlobOnce(built.layers[0], 30'000);
  const std::string path = f.dir.path() + "/layer.partial";
  REQUIRE(f.client->DownloadBlob(*resolved, resolved->manifest.layers[0], path).ok());
  CHECK(FileContent(path) == content);
  std::vector<std::string> ranges;
  for (const HttpRequest& r : f.registry.client().requests()) {
    if (r.url.find("/blobs/") != std::string::npos)
      ranges.push_back(r.headers.Get("Range").value_or("-"));
  }
  CHECK(ranges == std::vector<std::string>{"-", "bytes=30000-"});

  SUBCASE("a partial file from an earlier pull is resumed, a server ignoring Range restarts it") {
    const std::string again = f.dir.path() + "/again.partial";
    REQUIRE(WriteFileAtomic(again, content.substr(0, 4000), 0644).ok());
    REQUIRE(f.client->DownloadBlob(*resolved, resolved->manifest.layers[0], again).ok());
    CHECK(f.registry.client().requests().back().headers.Get("Range") == "bytes=4000-");
    CHECK(FileContent(again) == content);

    f.registry.IgnoreRange(true);
    const std::string third = f.dir.path() + "/third.partial";
    REQUIRE(WriteFileAtomic(third, content.substr(0, 500), 0644).ok());
    REQUIRE(f.client->DownloadBlob(*resolved, resolved->manifest.layers[0], third).ok());
    CHECK(FileContent(third) == content);
  }
  SUBCASE("a partial file that is not a prefix of the blob fails the check and goes") {
    const std::string bad = f.dir.path() + "/bad.partial";
    REQUIRE(WriteFileAtomic(bad, std::string(4000, 'x'), 0644).ok());
    CHECK(absl::IsDataLoss(f.client->DownloadBlob(*resolved, resolved->manifest.layers[0], bad)));
    CHECK_FALSE(Exists(bad));
  }
}

TEST_CASE(
    "mirrors are tried first, then the registry, and blobs follow the endpoint that answered") {
  RegistriesConfig config;
  config.AddMirror("registry.test", "https://mirror.test");
  Fixture f(config);
  f.registry.AddImage("app", "1", {"layer"});
  auto resolved = f.Resolve("registry.test/app:1");
  REQUIRE_MESSAGE(resolved.ok(), resolved.status().ToString());
  auto requests = f.registry.client().requests();
  CHECK(requests[0].url.starts_with("https://mirror.test/v2/app/manifests/1"));
  CHECK(resolved->endpoints.front().host == "registry.test");
  const size_t before = f.registry.client().requests().size();
  REQUIRE(f.client->FetchBlob(*resolved, resolved->manifest.config, kMaxConfigBytes).ok());
  CHECK(f.registry.client().requests().size() == before + 1);  // not the mirror again

  auto missing = f.Resolve("registry.test/absent:1");
  REQUIRE_FALSE(missing.ok());
  const std::string message(missing.status().message());
  CHECK(absl::IsNotFound(missing.status()));  // the registry's own answer decides the code
  CHECK(message.find("mirror mirror.test: ") != std::string::npos);
  CHECK(message.find("registry.test: GET https://registry.test/v2/absent/manifests/1: 404") !=
        std::string::npos);
}

TEST_CASE("answers are bounded") {
  Fixture f;
  f.registry.AddManifest("big", "1", std::string(kMaxManifestBytes + 1, ' '),
                         std::string(media_type::kOciManifest));
  auto big = f.Resolve("registry.test/big:1");
  REQUIRE_FALSE(big.ok());
  CHECK(std::string(big.status().message()).find("4 MiB") != std::string::npos);

  auto built = f.registry.AddImage("app", "1", {"layer"});
  auto resolved = f.Resolve("registry.test/app:1");
  REQUIRE(resolved.ok());
  auto config = f.client->FetchBlob(*resolved, resolved->manifest.config, 10);
  CHECK(absl::IsInvalidArgument(config.status()));
  CHECK(std::string(config.status().message()).find("limit") != std::string::npos);
}

}  // namespace
}  // namespace reef::agent::image
