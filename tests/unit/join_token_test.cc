// common/join_token.h: the token's shape, its parse errors, and the stored record.

#include "common/join_token.h"

#include <doctest/doctest.h>

#include "common/pki.h"

namespace reef {
namespace {

const std::string kHash(64, 'a');

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

std::string ParseError(std::string_view text) {
  auto t = JoinToken::Parse(text);
  REQUIRE(!t.ok());
  CHECK(absl::IsInvalidArgument(t.status()));
  return std::string(t.status().message());
}

TEST_CASE("generated tokens have kubeadm's secret shape and parse back") {
  JoinToken t = JoinToken::Generate(kHash);
  CHECK(t.id.size() == 6);
  CHECK(t.key.size() == 16);
  for (char c : t.id + t.key) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')));
  std::string text = t.ToString();
  CHECK(text == "REEF1." + kHash + "." + t.id + "." + t.key);
  auto parsed = JoinToken::Parse(text + "\n");  // as read from the node-token file
  REQUIRE(parsed.ok());
  CHECK(parsed->ca_sha256 == kHash);
  CHECK(parsed->id == t.id);
  CHECK(parsed->key == t.key);
  CHECK(JoinToken::Generate(kHash).ToString() != text);
  // An upper-case hash (copied from another tool) is the same hash.
  auto upper = JoinToken::Parse("REEF1." + std::string(64, 'A') + ".abcdef.0123456789abcdef");
  REQUIRE(upper.ok());
  CHECK(upper->ca_sha256 == kHash);
}

TEST_CASE("malformed tokens say which part is wrong, without echoing the key") {
  CHECK(Contains(ParseError(""), "the token is empty"));
  CHECK(Contains(ParseError("K10abc::server:secret"), "does not start with \"REEF1.\""));
  CHECK(Contains(ParseError("REEF1." + kHash + ".abcdef"), "3 dot-separated parts, not 4"));
  CHECK(Contains(ParseError("REEF1.abc.abcdef.0123456789abcdef"), "the CA hash must be 64 hex digits"));
  CHECK(Contains(ParseError("REEF1." + std::string(64, 'g') + ".abcdef.0123456789abcdef"), "64 hex digits"));
  CHECK(Contains(ParseError("REEF1." + kHash + ".ABCDEF.0123456789abcdef"), "the id must be 6 characters"));
  CHECK(Contains(ParseError("REEF1." + kHash + ".abcde.0123456789abcdef"), "the id must be 6 characters"));
  std::string bad_key = ParseError("REEF1." + kHash + ".abcdef.0123456789abcdeF");
  CHECK(Contains(bad_key, "the key must be 16 characters of [a-z0-9]"));
  CHECK(!Contains(bad_key, "0123456789abcdeF"));
  CHECK(Contains(bad_key, "malformed join token: "));
}

TEST_CASE("a token id from an id, a secret or a whole token") {
  CHECK(*JoinTokenIdFrom("abcdef") == "abcdef");
  CHECK(*JoinTokenIdFrom("abcdef.0123456789abcdef") == "abcdef");
  CHECK(*JoinTokenIdFrom("REEF1." + kHash + ".abcdef.0123456789abcdef") == "abcdef");
  CHECK(!JoinTokenIdFrom("abc").ok());
  CHECK(!JoinTokenIdFrom("abcdef.short").ok());
  CHECK(JoinTokenSecretName("abcdef") == "join-token-abcdef");
}

TEST_CASE("the stored record holds the key's hash, never the key") {
  JoinToken t = JoinToken::Generate(kHash);
  absl::Time expires = absl::FromUnixSeconds(1'800'000'000);
  JoinTokenRecord r = JoinTokenRecord::For(t, expires, "for the lab");
  CHECK(r.key_sha256 == pki::Sha256Hex(t.key));
  CHECK(r.KeyMatches(t.key));
  CHECK(!r.KeyMatches("0000000000000000"));

  v1::Object secret = r.ToSecret();
  CHECK(secret.secret().metadata().name() == "join-token-" + t.id);
  CHECK(secret.secret().metadata().namespace_() == "reef-system");
  CHECK(secret.secret().type() == "reef.io/join-token");
  for (const auto& [k, v] : secret.secret().data()) CHECK_MESSAGE(!Contains(v, t.key), k);

  auto back = JoinTokenRecord::FromSecret(secret);
  REQUIRE(back.ok());
  CHECK(back->id == t.id);
  CHECK(back->key_sha256 == r.key_sha256);
  CHECK(back->expires == expires);
  CHECK(back->description == "for the lab");

  // No expiry: none stored, none read.
  auto forever = JoinTokenRecord::FromSecret(JoinTokenRecord::For(t, std::nullopt, "").ToSecret());
  REQUIRE(forever.ok());
  CHECK(!forever->expires);

  // Broken records name the field.
  v1::Object broken = secret;
  (*broken.mutable_secret()->mutable_data())["expiration"] = "tomorrow";
  auto bad = JoinTokenRecord::FromSecret(broken);
  CHECK(absl::IsFailedPrecondition(bad.status()));
  CHECK(Contains(bad.status().message(), "data[expiration]"));
  broken.mutable_secret()->set_type("Opaque");
  CHECK(!JoinTokenRecord::FromSecret(broken).ok());
}

}  // namespace
}  // namespace reef
