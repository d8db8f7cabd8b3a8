// Registries that misbehave: a blob whose content does not match its digest (the real
// registry's storage corrupted), a transfer cut halfway (resumed with Range), a
// registry that is not there.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/registry.h"

namespace reef::testing {
namespace {

// The layer blob of the shared test image (tag "1").
image::Digest TestLayerDigest() {
  auto index = nlohmann::json::parse(std::ifstream(SharedTestImageLayout() + "/index.json"));
  for (const auto& m : index["manifests"]) {
    if (m["annotations"]["org.opencontainers.image.ref.name"] != "1") continue;
    auto digest = image::Digest::Parse(m["digest"].get<std::string>());
    auto manifest = nlohmann::json::parse(
        std::ifstream(SharedTestImageLayout() + "/blobs/sha256/" + digest->hex()));
    return *image::Digest::Parse(manifest["layers"][0]["digest"].get<std::string>());
  }
  throw std::runtime_error("test image has no tag 1");
}

void FlipFirstByte(const std::string& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(file.good());
  char c = 0;
  file.read(&c, 1);
  c = static_cast<char>(c ^ 0xff);
  file.seekp(0);
  file.write(&c, 1);
}

TEST_CASE("a blob that does not match its digest: error, nothing stored or unpacked") {
  const std::string& layout = SharedTestImageLayout();
  TestRegistry registry;
  registry.Push(layout, "1", "busybox", "1");
  const image::Digest layer = TestLayerDigest();
  const std::string stored = registry.BlobDataPath(layer);
  REQUIRE(std::filesystem::exists(stored));
  FlipFirstByte(stored);

  ImageStoreUnderTest s(registry.Config());
  auto pulled = s.store->Pull(registry.host() + "/busybox:1");
  REQUIRE_FALSE(pulled.ok());
  CHECK(absl::IsDataLoss(pulled.status()));
  const std::string message(pulled.status().message());
  CHECK(message.find("pull " + registry.host() + "/busybox:1: fetch layer 0: ") == 0);
  CHECK(message.find("digest mismatch: expected " + layer.ToString()) != std::string::npos);

  CHECK(absl::IsNotFound(s.store->Get(registry.host() + "/busybox:1").status()));
  CHECK_FALSE(std::filesystem::exists(s.root() + "/blobs/sha256/" + layer.hex()));
  CHECK(std::filesystem::is_empty(s.root() + "/ingest"));
  CHECK(s.snapshotter->List()->empty());
}

TEST_CASE("a transfer cut halfway resumes with Range") {
  const image::Digest layer = TestLayerDigest();
  FaultRegistry registry({.layout = SharedTestImageLayout(), .cut_once = layer.hex()});
  ImageStoreUnderTest s(registry.Config());
  auto pulled = s.store->Pull(registry.host() + "/busybox:1");
  REQUIRE_MESSAGE(pulled.ok(), pulled.status().ToString());
  CHECK(std::filesystem::is_regular_file(pulled->layers[0].snapshot + "/bin/busybox"));

  std::vector<std::string> layer_requests;
  for (const std::string& r : registry.Requests()) {
    if (r.find("/blobs/" + layer.ToString()) != std::string::npos) layer_requests.push_back(r);
  }
  REQUIRE(layer_requests.size() == 2);
  CHECK(layer_requests[0].ends_with("range=-"));
  const size_t half =
      std::filesystem::file_size(SharedTestImageLayout() + "/blobs/sha256/" + layer.hex()) / 2;
  CHECK(layer_requests[1].ends_with("range=bytes=" + std::to_string(half) + "-"));
}

TEST_CASE("a corrupt answer from a fake registry is refused too") {
  const image::Digest layer = TestLayerDigest();
  FaultRegistry registry({.layout = SharedTestImageLayout(), .corrupt = layer.hex()});
  ImageStoreUnderTest s(registry.Config());
  auto pulled = s.store->Pull(registry.host() + "/busybox:1");
  CHECK(absl::IsDataLoss(pulled.status()));
  CHECK(s.snapshotter->List()->empty());
}

TEST_CASE("a registry that is not there: retried, then a clear Unavailable") {
  image::RegistriesConfig config;
  image::RegistryHostConfig plain;
  plain.plain_http = true;
  const std::string host = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  config.SetConfig(host, plain);
  ImageStoreUnderTest s(config);
  auto pulled = s.store->Pull(host + "/busybox:1");
  REQUIRE_FALSE(pulled.ok());
  CHECK(absl::IsUnavailable(pulled.status()));
  const std::string message(pulled.status().message());
  CHECK(message.find("fetch manifest") != std::string::npos);
  CHECK(message.find("gave up after 3 attempts") != std::string::npos);
}

}  // namespace
}  // namespace reef::testing
