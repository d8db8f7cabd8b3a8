#include <doctest/doctest.h>

#include <string>

#include "agent/image/image_config.h"
#include "agent/image/manifest.h"

namespace reef::agent::image {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string ManifestJson(std::string_view layers_json,
                         std::string_view config_type = media_type::kOciConfig) {
  return reef::StrCat(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)",
      R"("config":{"mediaType":")", config_type, R"(","digest":")", kA, R"(","size":10},"layers":)",
      layers_json, "}");
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST_CASE("image manifests parse with every field checked") {
  auto m = ManifestJson(
      reef::StrCat(R"([{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")", kB,
                   R"(","size":1234}])"));
  auto manifest = ParseManifest(m);
  REQUIRE_MESSAGE(manifest.ok(), manifest.status().ToString());
  CHECK(manifest->config.digest.ToString() == kA);
  REQUIRE(manifest->layers.size() == 1);
  CHECK(manifest->layers[0].size == 1234);

  // umoci leaves mediaType out: the document is still an OCI manifest.
  auto bare = ParseManifest(reef::StrCat(
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")",
      kA, R"(","size":1},"layers":[]})"));
  REQUIRE(bare.ok());
  CHECK(bare->media_type == media_type::kOciManifest);

  CHECK(Message(ParseManifest("{").status()).find("invalid JSON") != std::string::npos);
  CHECK(Message(ParseManifest(R"({"schemaVersion":1})").status()).find("schemaVersion") !=
        std::string::npos);
  CHECK(Message(ParseManifest(ManifestJson(R"([{"mediaType":"x","digest":"sha256:1","size":1}])"))
                    .status())
            .find("layers[0].digest") != std::string::npos);
  CHECK(Message(ParseManifest(ManifestJson(reef::StrCat(R"([{"mediaType":"text/plain","digest":")",
                                                        kB, R"(","size":1}])")))
                    .status())
            .find("layers[0].mediaType") != std::string::npos);
  CHECK(Message(ParseManifest(
                    ManifestJson(reef::StrCat(
                        R"([{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")", kB,
                        R"(","size":-1}])")))
                    .status())
            .find("layers[0].size: negative") != std::string::npos);
  CHECK(Message(
            ParseManifest(ManifestJson("[]", "application/vnd.cncf.helm.config.v1+json")).status())
            .find("not a container image") != std::string::npos);
  CHECK(Message(ParseManifest(ManifestJson(R"({"a":1})")).status()).find("layers") !=
        std::string::npos);
}

TEST_CASE("a manifest's media type comes from Content-Type, else from the document") {
  CHECK(*DetectManifestMediaType("{}", "application/vnd.oci.image.index.v1+json") ==
        media_type::kOciIndex);
  CHECK(*DetectManifestMediaType(
            R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json"})",
            "application/json; charset=utf-8") == media_type::kDockerManifest);
  CHECK(*DetectManifestMediaType(R"({"manifests":[]})", "") == media_type::kOciIndex);
  CHECK(*DetectManifestMediaType(R"({"layers":[]})", "") == media_type::kOciManifest);
  auto schema1 =
      DetectManifestMediaType("{}", "application/vnd.docker.distribution.manifest.v1+prettyjws");
  CHECK(Message(schema1.status()).find("schema1") != std::string::npos);
  CHECK_FALSE(DetectManifestMediaType(R"({"x":1})", "text/html").ok());
  // The Accept list names all four types, or registries convert or refuse.
  const std::string accept = ManifestAcceptHeader();
  for (std::string_view t : {media_type::kOciIndex, media_type::kOciManifest,
                             media_type::kDockerManifestList, media_type::kDockerManifest}) {
    CHECK(accept.find(t) != std::string::npos);
  }
}

TEST_CASE("an index entry is chosen for the platform") {
  auto entry = [](const std::string& digest, std::string_view platform) {
    std::string p;
    if (platform == "amd64") p = R"({"architecture":"amd64","os":"linux"})";
    if (platform == "arm64") p = R"({"architecture":"arm64","os":"linux","variant":"v8"})";
    if (platform == "armv6") p = R"({"architecture":"arm","os":"linux","variant":"v6"})";
    if (platform == "attest") p = R"({"architecture":"unknown","os":"unknown"})";
    return reef::StrCat(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")",
                        digest, R"(","size":7,"platform":)", p, "}");
  };
  const std::string body = reef::StrCat(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)",
      entry(kA, "amd64"), ",", entry(kB, "arm64"), ",", entry(kC, "armv6"), ",",
      entry(kA, "attest"), "]}");
  auto index = ParseIndex(body);
  REQUIRE_MESSAGE(index.ok(), index.status().ToString());
  CHECK(SelectPlatform(*index, {"linux", "amd64", ""})->digest.ToString() == kA);
  CHECK(SelectPlatform(*index, {"linux", "arm64", "v8"})->digest.ToString() == kB);
  CHECK(SelectPlatform(*index, {"linux", "arm64", ""})->digest.ToString() == kB);
  CHECK(SelectPlatform(*index, {"linux", "arm", "v7"})->digest.ToString() == kC);  // v6 runs on v7
  auto none = SelectPlatform(*index, {"linux", "riscv64", ""});
  REQUIRE_FALSE(none.ok());
  CHECK(absl::IsNotFound(none.status()));
  CHECK(Message(none.status()).find("linux/amd64, linux/arm/v6, linux/arm64/v8") !=
        std::string::npos);
}

TEST_CASE("image configs give what the runtime needs") {
  auto config = ParseImageConfig(reef::StrCat(
      R"({"architecture":"arm64","os":"linux","variant":"v8","config":{"Entrypoint":["/init"],)",
      R"("Cmd":["serve","--port","80"],"Env":["PATH=/bin","A=b"],"WorkingDir":"/srv","User":"1000:1000",)",
      R"("ExposedPorts":{"80/tcp":{}},"Labels":{"k":"v"},"StopSignal":"SIGQUIT"},)",
      R"("rootfs":{"type":"layers","diff_ids":[")", kA, R"(",")", kB, R"("]},"history":[]})"));
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->platform.ToString() == "linux/arm64/v8");
  CHECK(config->entrypoint == std::vector<std::string>{"/init"});
  CHECK(config->cmd == std::vector<std::string>{"serve", "--port", "80"});
  CHECK(config->env == std::vector<std::string>{"PATH=/bin", "A=b"});
  CHECK(config->working_dir == "/srv");
  CHECK(config->user == "1000:1000");
  CHECK(config->stop_signal == "SIGQUIT");
  CHECK(config->labels.at("k") == "v");
  CHECK(config->exposed_ports == std::vector<std::string>{"80/tcp"});
  REQUIRE(config->diff_ids.size() == 2);
  CHECK(config->diff_ids[1].ToString() == kB);

  // null Entrypoint/Cmd (as Docker writes them) are empty lists.
  auto nulls = ParseImageConfig(
      R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":null,"Cmd":null},"rootfs":{"type":"layers","diff_ids":[]}})");
  REQUIRE(nulls.ok());
  CHECK(nulls->entrypoint.empty());

  CHECK(
      Message(
          ParseImageConfig(
              R"({"architecture":"amd64","os":"linux","config":{"Env":["A",3]},"rootfs":{"type":"layers"}})")
              .status())
          .find("config.Env[1]: expected a string") != std::string::npos);
  CHECK(Message(ParseImageConfig(R"({"architecture":"amd64","os":"linux"})").status())
            .find("rootfs: required") != std::string::npos);
  CHECK(
      Message(
          ParseImageConfig(
              R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["x"]}})")
              .status())
          .find("rootfs.diff_ids[0]") != std::string::npos);
  CHECK(Message(ParseImageConfig("[]").status()).find("expected an object") != std::string::npos);
}

}  // namespace
}  // namespace reef::agent::image
