#include <doctest/doctest.h>

#include <string>

#include "agent/image/digest.h"
#include "agent/image/platform.h"
#include "agent/image/reference.h"

namespace reef::agent::image {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string Canonical(std::string_view text) {
  auto ref = Reference::Parse(text);
  REQUIRE_MESSAGE(ref.ok(), ref.status().ToString());
  return ref->ToString();
}

std::string ParseError(std::string_view text) {
  auto ref = Reference::Parse(text);
  REQUIRE_MESSAGE(!ref.ok(), "parsed: ", ref->ToString());
  CHECK(absl::IsInvalidArgument(ref.status()));
  return std::string(ref.status().message());
}

TEST_CASE("references normalise as Docker does") {
  CHECK(Canonical("busybox") == "docker.io/library/busybox:latest");
  CHECK(Canonical("busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(Canonical("docker.io/library/busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(Canonical("index.docker.io/library/busybox") == "docker.io/library/busybox:latest");
  CHECK(Canonical("docker.io/busybox") == "docker.io/library/busybox:latest");
  CHECK(Canonical("bitnami/redis:7") == "docker.io/bitnami/redis:7");
  CHECK(Canonical("ghcr.io/org/team/app:v1.2.3") == "ghcr.io/org/team/app:v1.2.3");
  CHECK(Canonical("registry.local:5000/ns/app:tag") == "registry.local:5000/ns/app:tag");
  CHECK(Canonical("localhost/app") == "localhost/app:latest");
  CHECK(Canonical("localhost:5000/app:1") == "localhost:5000/app:1");
  CHECK(Canonical("[::1]:5000/app:1") == "[::1]:5000/app:1");
  CHECK(Canonical("[fe80::1]/app") == "[fe80::1]/app:latest");
  CHECK(Canonical("127.0.0.1:5000/a/b-c_d.e__f:1") == "127.0.0.1:5000/a/b-c_d.e__f:1");
  // A digest alone adds no tag; with a tag both stay.
  CHECK(Canonical("busybox@sha256:" + kHex) == "docker.io/library/busybox@sha256:" + kHex);
  CHECK(Canonical("busybox:1@sha256:" + kHex) == "docker.io/library/busybox:1@sha256:" + kHex);
}

TEST_CASE("reference parts and the registry to contact") {
  auto hub = Reference::Parse("busybox:1");
  REQUIRE(hub.ok());
  CHECK(hub->domain() == "docker.io");
  CHECK(hub->path() == "library/busybox");
  CHECK(hub->tag() == "1");
  CHECK(hub->digest().empty());
  CHECK(hub->RegistryHost() == "registry-1.docker.io");
  CHECK(hub->ManifestReference() == "1");
  CHECK(hub->Repository() == "docker.io/library/busybox");

  auto local = Reference::Parse("127.0.0.1:5000/ns/app:2@sha256:" + kHex);
  REQUIRE(local.ok());
  CHECK(local->domain() == "127.0.0.1:5000");
  CHECK(local->RegistryHost() == "127.0.0.1:5000");
  CHECK(local->path() == "ns/app");
  CHECK(local->ManifestReference() == "sha256:" + kHex);  // the digest wins
  CHECK(local->AtDigest(*Digest::FromHex(kHex)).ToString() ==
        "127.0.0.1:5000/ns/app@sha256:" + kHex);

  // An uppercase first component is a host, as in distribution/reference.
  auto upper = Reference::Parse("MyRegistry/app");
  REQUIRE(upper.ok());
  CHECK(upper->domain() == "MyRegistry");
}

TEST_CASE("invalid references say what is wrong") {
  CHECK(ParseError("").find("empty") != std::string::npos);
  CHECK(ParseError("Busybox").find("must be lowercase") != std::string::npos);
  CHECK(ParseError("docker.io/Library/busybox").find("must be lowercase") != std::string::npos);
  CHECK(ParseError("busybox:").find("invalid tag") != std::string::npos);
  CHECK(ParseError("busybox:-x").find("invalid tag") != std::string::npos);
  CHECK(ParseError("busybox:" + std::string(129, 'a')).find("invalid tag") != std::string::npos);
  CHECK(ParseError("busybox@sha256:abc").find("64 hex") != std::string::npos);
  CHECK(ParseError("busybox@md5:" + kHex).find("unsupported algorithm") != std::string::npos);
  CHECK(ParseError("busybox@sha256:" + std::string(64, 'A')).find("lowercase hex") !=
        std::string::npos);
  CHECK(ParseError("a//b").find("path component") != std::string::npos);
  CHECK(ParseError("a/-b").find("path component") != std::string::npos);
  CHECK(ParseError("a/b..c").find("path component") != std::string::npos);
  CHECK(ParseError("host:99x/app").find("registry host") != std::string::npos);
  CHECK(ParseError("-bad.host/app").find("registry host") != std::string::npos);
  CHECK(ParseError("[zz::1]/app").find("registry host") != std::string::npos);
  CHECK(ParseError(kHex).find("hexadecimal") != std::string::npos);
  CHECK(ParseError("registry.local:5000/").find("missing repository") != std::string::npos);
  CHECK(ParseError("a/" + std::string(260, 'b')).find("255") != std::string::npos);
  CHECK(ParseError("busybox latest").find("busybox latest") != std::string::npos);
}

TEST_CASE("digests") {
  auto d = Digest::Parse("sha256:" + kHex);
  REQUIRE(d.ok());
  CHECK(d->hex() == kHex);
  CHECK(d->ToString() == "sha256:" + kHex);
  CHECK_FALSE(Digest::Parse(kHex).ok());
  CHECK_FALSE(Digest::Parse("sha256:" + kHex + "0").ok());
  CHECK(Digest::Of("").ToString() ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 hash;
  hash.Update("hello ");
  hash.Update("world");
  CHECK(hash.Finish() == Digest::Of("hello world"));
  const absl::Status mismatch = DigestMismatch("blob x", Digest::Of("a"), Digest::Of("b"));
  CHECK(absl::IsDataLoss(mismatch));
  CHECK(std::string(mismatch.message()).find("digest mismatch") != std::string::npos);
}

TEST_CASE("platforms parse, normalise and match") {
  auto arm64 = Platform::Parse("linux/aarch64");
  REQUIRE(arm64.ok());
  CHECK(arm64->ToString() == "linux/arm64/v8");
  CHECK(Platform::Parse("linux/x86_64")->ToString() == "linux/amd64");
  CHECK(Platform::Parse("linux/arm")->ToString() == "linux/arm/v7");
  CHECK(Platform::Parse("linux/armhf")->ToString() == "linux/arm/v7");
  CHECK_FALSE(Platform::Parse("linux").ok());
  CHECK_FALSE(Platform::Parse("linux//v7").ok());

  const Platform want_arm64{"linux", "arm64", "v8"};
  CHECK(MatchRank(want_arm64, {"linux", "arm64", ""}) == 0);
  CHECK(MatchRank(want_arm64, {"linux", "arm64", "v8"}) == 0);
  CHECK_FALSE(MatchRank(want_arm64, {"linux", "amd64", ""}));
  CHECK_FALSE(MatchRank(want_arm64, {"windows", "arm64", ""}));

  const Platform want_armv7{"linux", "arm", "v7"};
  CHECK(MatchRank(want_armv7, {"linux", "arm", "v7"}) == 0);
  CHECK(MatchRank(want_armv7, {"linux", "arm", "v6"}) == 1);
  CHECK(MatchRank(want_armv7, {"linux", "arm", "v5"}) == 2);
  CHECK_FALSE(MatchRank(want_armv7, {"linux", "arm", "v8"}));
  CHECK_FALSE(MatchRank({"linux", "arm", "v6"}, {"linux", "arm", "v7"}));

  const Platform want_amd64{"linux", "amd64", ""};
  CHECK(MatchRank(want_amd64, {"linux", "amd64", "v1"}) == 0);
  CHECK_FALSE(MatchRank(want_amd64, {"linux", "amd64", "v3"}));

  const Platform host = Platform::Host();
  CHECK(host.os == "linux");
  CHECK(MatchRank(host, host) == 0);
}

}  // namespace
}  // namespace reef::agent::image
