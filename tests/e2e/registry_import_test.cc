// Air-gapped import of archives written by skopeo: an OCI-layout tar and a
// docker-archive tar, then Get with no registry anywhere.

#include <doctest/doctest.h>

#include <filesystem>

#include "tests/support/registry.h"

namespace reef::testing {
namespace {

std::string SkopeoArchive(const TempDir& dir, const std::string& transport, const std::string& file,
                          const std::string& name) {
  RequireBinary("skopeo", "skopeo");
  const std::string path = dir.path() + "/" + file;
  RunResult r = Run({"skopeo", "--insecure-policy", "copy", "--quiet",
                     "oci:" + SharedTestImageLayout() + ":1", transport + ":" + path + ":" + name});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return path;
}

void CheckImported(image::ImageStore& store, const std::string& name) {
  auto image = store.Get(name);
  REQUIRE_MESSAGE(image.ok(), image.status().ToString());
  CHECK(image->config.cmd == std::vector<std::string>{"/bin/sh"});
  REQUIRE(image->layers.size() == 1);
  CHECK(std::filesystem::is_regular_file(image->layers[0].snapshot + "/bin/busybox"));
}

TEST_CASE("import an OCI-layout tar (skopeo oci-archive), then Get without a registry") {
  TempDir dir;
  const std::string tar = SkopeoArchive(dir, "oci-archive", "busybox-oci.tar", "busybox:1");
  ImageStoreUnderTest s({});
  auto images = s.store->Import(tar);
  REQUIRE_MESSAGE(images.ok(), images.status().ToString());
  REQUIRE(images->size() == 1);
  CHECK((*images)[0].reference == "docker.io/library/busybox:1");
  CheckImported(*s.store, "busybox:1");
  // The same manifest as in the layout: OCI import keeps content as it is.
  CHECK(std::filesystem::exists(SharedTestImageLayout() + "/blobs/sha256/" +
                                (*images)[0].manifest_digest.hex()));
}

TEST_CASE("import a docker-archive tar (docker save format), then Get without a registry") {
  TempDir dir;
  const std::string tar =
      SkopeoArchive(dir, "docker-archive", "busybox-docker.tar", "reef.test/tools/busybox:2");
  ImageStoreUnderTest s({});
  auto images = s.store->Import(tar);
  REQUIRE_MESSAGE(images.ok(), images.status().ToString());
  REQUIRE(images->size() == 1);
  CHECK((*images)[0].reference == "reef.test/tools/busybox:2");
  CheckImported(*s.store, "reef.test/tools/busybox:2");
  // docker-archive layers are plain tars: their digest is the diff_id.
  CHECK((*images)[0].layers[0].blob.digest == (*images)[0].layers[0].diff_id);
}

TEST_CASE("an images folder is imported as K3s does at start") {
  TempDir dir;
  const std::string folder = dir.path() + "/images";
  std::filesystem::create_directories(folder);
  SkopeoArchive(dir, "oci-archive", "images/a.tar", "one/busybox:1");
  SkopeoArchive(dir, "docker-archive", "images/b.tar", "two/busybox:1");
  ImageStoreUnderTest s({});
  auto results = s.store->ImportFolder(folder);
  REQUIRE(results.size() == 2);
  for (const auto& r : results)
    CHECK_MESSAGE(r.images.ok(), r.file, ": ", r.images.status().ToString());
  CheckImported(*s.store, "one/busybox:1");
  CheckImported(*s.store, "two/busybox:1");
  // Both share one layer snapshot.
  CHECK(s.snapshotter->List()->size() == 1);
}

}  // namespace
}  // namespace reef::testing
