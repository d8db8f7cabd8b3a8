#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/image/content_store.h"
#include "common/files.h"
#include "tests/support/process.h"

namespace reef::agent::image {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it)
    ++n;
  return n;
}

// A manifest document over `config` and `layers`, stored; returns its descriptor.
Descriptor PutManifest(ContentStore& store, const Digest& config,
                       const std::vector<Digest>& layers) {
  Manifest m;
  m.media_type = media_type::kOciManifest;
  m.config = {std::string(media_type::kOciConfig), config, 1, std::nullopt, {}};
  for (const Digest& layer : layers) {
    m.layers.push_back({std::string(media_type::kOciLayerGzip), layer, 1, std::nullopt, {}});
  }
  const std::string bytes = SerializeManifest(m);
  const Digest digest = Digest::Of(bytes);
  REQUIRE(store.Write(digest, bytes).ok());
  return {std::string(media_type::kOciManifest),
          digest,
          static_cast<int64_t>(bytes.size()),
          std::nullopt,
          {}};
}

TEST_CASE("the store is an OCI image layout") {
  testing::TempDir dir;
  auto store = ContentStore::Open(dir.path());
  REQUIRE(store.ok());
  CHECK(nlohmann::json::parse(ReadAll(dir.path() + "/oci-layout"))["imageLayoutVersion"] ==
        "1.0.0");

  const Digest digest = Digest::Of("hello");
  CHECK_FALSE((*store)->Has(digest));
  REQUIRE((*store)->Write(digest, "hello").ok());
  CHECK((*store)->Has(digest));
  CHECK((*store)->Path(digest) == dir.path() + "/blobs/sha256/" + digest.hex());
  CHECK(ReadAll((*store)->Path(digest)) == "hello");
  struct stat st;
  REQUIRE(::stat((*store)->Path(digest).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0444);  // blobs are read-only
  CHECK(*(*store)->Read(digest, 100) == "hello");
  CHECK_FALSE((*store)->Read(digest, 2).ok());
  CHECK((*store)->Write(digest, "hello").ok());  // idempotent

  // Bytes that do not hash to the digest never land.
  const Digest other = Digest::Of("other");
  CHECK(absl::IsDataLoss((*store)->Write(other, "not other")));
  CHECK_FALSE((*store)->Has(other));
}

TEST_CASE("ingest verifies, renames into place, and deletes a bad file") {
  testing::TempDir dir;
  auto store = *ContentStore::Open(dir.path());
  const Digest digest = Digest::Of("layer bytes");
  const std::string partial = store->IngestPath(digest);
  REQUIRE(WriteFileAtomic(partial, "layer bytes", 0644).ok());
  REQUIRE(store->Ingest(partial, digest, 11, ContentStore::Verify::kHash).ok());
  CHECK(store->Has(digest));
  CHECK_FALSE(std::filesystem::exists(partial));

  const Digest wanted = Digest::Of("wanted");
  REQUIRE(WriteFileAtomic(partial, "tampered", 0644).ok());
  absl::Status bad = store->Ingest(partial, wanted, -1, ContentStore::Verify::kHash);
  CHECK(absl::IsDataLoss(bad));
  CHECK(std::string(bad.message()).find("digest mismatch") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(partial));
  CHECK_FALSE(store->Has(wanted));

  REQUIRE(WriteFileAtomic(partial, "wanted!", 0644).ok());
  CHECK(absl::IsDataLoss(store->Ingest(partial, wanted, 6, ContentStore::Verify::kTrustCaller)));
  CHECK_FALSE(std::filesystem::exists(partial));

  REQUIRE(store->Delete(digest).ok());
  CHECK_FALSE(store->Has(digest));
  CHECK(store->Delete(digest).ok());
}

TEST_CASE("image names persist in index.json") {
  testing::TempDir dir;
  Descriptor manifest;
  {
    auto store = *ContentStore::Open(dir.path());
    const Digest config = Digest::Of("config");
    REQUIRE(store->Write(config, "config").ok());
    manifest = PutManifest(*store, config, {});
    REQUIRE(store->SetImage("docker.io/library/busybox:1", manifest).ok());
    REQUIRE(
        store->SetImage("registry.local:5000/app@" + manifest.digest.ToString(), manifest).ok());
  }
  const auto index = nlohmann::json::parse(ReadAll(dir.path() + "/index.json"));
  CHECK(index["schemaVersion"] == 2);
  REQUIRE(index["manifests"].size() == 2);
  CHECK(index["manifests"][0]["annotations"]["io.containerd.image.name"] ==
        "docker.io/library/busybox:1");
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "1");
  CHECK(index["manifests"][1]["annotations"].count("org.opencontainers.image.ref.name") == 0);

  auto reopened = *ContentStore::Open(dir.path());
  auto listed = reopened->ListImages();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].name == "docker.io/library/busybox:1");
  CHECK(reopened->GetImage("docker.io/library/busybox:1")->digest == manifest.digest);
  REQUIRE(reopened->RemoveImage("docker.io/library/busybox:1").ok());
  CHECK(absl::IsNotFound(reopened->RemoveImage("docker.io/library/busybox:1")));
  CHECK_FALSE(reopened->GetImage("docker.io/library/busybox:1"));
  CHECK((*ContentStore::Open(dir.path()))->ListImages().size() == 1);

  REQUIRE(WriteFileAtomic(dir.path() + "/index.json", "{broken", 0644).ok());
  auto corrupt = ContentStore::Open(dir.path());
  REQUIRE_FALSE(corrupt.ok());
  CHECK(std::string(corrupt.status().message()).find("index.json") != std::string::npos);
}

TEST_CASE("garbage collection keeps what named images reference") {
  testing::TempDir dir;
  auto store = *ContentStore::Open(dir.path());
  auto put = [&](const std::string& content) {
    const Digest d = Digest::Of(content);
    REQUIRE(store->Write(d, content).ok());
    return d;
  };
  const Digest shared = put("shared layer"), only_a = put("layer a"), only_b = put("layer b");
  const Digest config_a = put("config a"), config_b = put("config b");
  const Digest stray = put("stray");
  const Descriptor a = PutManifest(*store, config_a, {shared, only_a});
  const Descriptor b = PutManifest(*store, config_b, {shared, only_b});
  REQUIRE(store->SetImage("a", a).ok());
  REQUIRE(store->SetImage("b", b).ok());
  REQUIRE(WriteFileAtomic(store->IngestPath(stray), "leftover", 0644).ok());

  auto first = store->GarbageCollect();
  REQUIRE(first.ok());
  CHECK(first->blobs_removed == 1);  // stray
  CHECK_FALSE(store->Has(stray));
  CHECK(CountFiles(store->IngestDir()) == 0);

  REQUIRE(store->RemoveImage("b").ok());
  auto second = store->GarbageCollect();
  REQUIRE(second.ok());
  CHECK(second->blobs_removed == 3);  // b's manifest, config and own layer
  CHECK(store->Has(shared));
  CHECK(store->Has(only_a));
  CHECK(store->Has(a.digest));
  CHECK_FALSE(store->Has(only_b));
  CHECK_FALSE(store->Has(config_b));
  CHECK(second->bytes_freed > 0);
  CHECK(store->ListBlobs()->size() == 4);
}

}  // namespace
}  // namespace reef::agent::image
