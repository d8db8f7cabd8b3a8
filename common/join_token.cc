#include "common/join_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/pki.h"

namespace reef {
namespace {

constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr char kShape[] = "expected REEF1.<CA sha256>.<id>.<key>";

// Secret data keys.
constexpr char kIdKey[] = "token-id";
constexpr char kKeyHashKey[] = "token-key-sha256";
constexpr char kExpirationKey[] = "expiration";
constexpr char kDescriptionKey[] = "description";

std::string RandomString(size_t n) {
  std::string out;
  while (out.size() < n) {
    unsigned char buf[32];
    // RAND_bytes only fails when the OS entropy source is broken; nothing sane follows.
    if (RAND_bytes(buf, sizeof buf) != 1) std::abort();
    for (unsigned char b : buf) {
      // 252 = 7 * 36: dropping the rest keeps every character equally likely.
      if (b < 252 && out.size() < n) out.push_back(kAlphabet[b % 36]);
    }
  }
  return out;
}

bool AllOf(std::string_view s, bool (*pred)(unsigned char)) {
  for (unsigned char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

bool IsLowerAlnum(unsigned char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); }
bool IsHex(unsigned char c) { return absl::ascii_isxdigit(c); }

absl::Status Malformed(std::string_view why) {
  return absl::InvalidArgumentError(reef::StrCat("malformed join token: ", why));
}

absl::Status CheckId(std::string_view id) {
  if (id.size() == kJoinTokenIdLength && AllOf(id, IsLowerAlnum)) return absl::OkStatus();
  return Malformed(reef::StrCat("the id must be ", kJoinTokenIdLength, " characters of [a-z0-9]"));
}

absl::Status CheckKey(std::string_view key) {
  if (key.size() == kJoinTokenKeyLength && AllOf(key, IsLowerAlnum)) return absl::OkStatus();
  return Malformed(reef::StrCat("the key must be ", kJoinTokenKeyLength, " characters of [a-z0-9]"));
}

}  // namespace

JoinToken JoinToken::Generate(std::string_view ca_sha256) {
  return JoinToken{std::string(ca_sha256), RandomString(kJoinTokenIdLength),
                   RandomString(kJoinTokenKeyLength)};
}

absl::StatusOr<JoinToken> JoinToken::Parse(std::string_view text) {
  std::string_view t = ToStd(absl::StripAsciiWhitespace(ToAbsl(text)));
  if (t.empty()) return Malformed(reef::StrCat("the token is empty; ", kShape));
  std::vector<std::string> parts = absl::StrSplit(ToAbsl(t), '.');
  if (parts[0] != kJoinTokenPrefix) {
    return Malformed(reef::StrCat("it does not start with \"", kJoinTokenPrefix, ".\"; ", kShape));
  }
  if (parts.size() != 4) {
    return Malformed(reef::StrCat("it has ", parts.size(), " dot-separated parts, not 4; ", kShape));
  }
  if (parts[1].size() != 64 || !AllOf(parts[1], IsHex)) {
    return Malformed("the CA hash must be 64 hex digits (a sha256)");
  }
  RETURN_IF_ERROR(CheckId(parts[2]));
  RETURN_IF_ERROR(CheckKey(parts[3]));
  return JoinToken{absl::AsciiStrToLower(parts[1]), parts[2], parts[3]};
}

std::string JoinToken::ToString() const {
  return reef::StrCat(kJoinTokenPrefix, ".", ca_sha256, ".", id, ".", key);
}

absl::StatusOr<std::string> JoinTokenIdFrom(std::string_view text) {
  if (text.substr(0, kJoinTokenPrefix.size() + 1) == reef::StrCat(kJoinTokenPrefix, ".")) {
    ASSIGN_OR_RETURN(JoinToken token, JoinToken::Parse(text));
    return token.id;
  }
  std::string_view id = text.substr(0, text.find('.'));
  RETURN_IF_ERROR(CheckId(id));
  if (id.size() < text.size()) RETURN_IF_ERROR(CheckKey(text.substr(id.size() + 1)));
  return std::string(id);
}

std::string JoinTokenSecretName(std::string_view id) { return reef::StrCat("join-token-", id); }

JoinTokenRecord JoinTokenRecord::For(const JoinToken& token, std::optional<absl::Time> expires,
                                     std::string description) {
  return JoinTokenRecord{token.id, pki::Sha256Hex(token.key), expires, std::move(description)};
}

v1::Object JoinTokenRecord::ToSecret() const {
  v1::Object object;
  v1::Secret* secret = object.mutable_secret();
  secret->mutable_metadata()->set_name(JoinTokenSecretName(id));
  secret->mutable_metadata()->set_namespace_(std::string(kJoinTokenNamespace));
  secret->set_type(std::string(kJoinTokenSecretType));
  auto& data = *secret->mutable_data();
  data[kIdKey] = id;
  data[kKeyHashKey] = key_sha256;
  if (expires) data[kExpirationKey] = FormatTimestamp(*expires);
  if (!description.empty()) data[kDescriptionKey] = description;
  return object;
}

absl::StatusOr<JoinTokenRecord> JoinTokenRecord::FromSecret(const v1::Object& object) {
  if (!object.has_secret() || object.secret().type() != kJoinTokenSecretType) {
    return absl::FailedPreconditionError(reef::StrCat("not a Secret of type ", kJoinTokenSecretType));
  }
  const auto& data = object.secret().data();
  auto field = [&](const char* key) -> std::string {
    auto it = data.find(key);
    return it == data.end() ? "" : it->second;
  };
  JoinTokenRecord r;
  r.id = field(kIdKey);
  r.key_sha256 = field(kKeyHashKey);
  r.description = field(kDescriptionKey);
  if (r.id.size() != kJoinTokenIdLength || !AllOf(r.id, IsLowerAlnum)) {
    return absl::FailedPreconditionError(reef::StrCat("data[", kIdKey, "] is not a token id"));
  }
  if (r.key_sha256.size() != 64 || !AllOf(r.key_sha256, IsHex)) {
    return absl::FailedPreconditionError(reef::StrCat("data[", kKeyHashKey, "] is not a sha256"));
  }
  if (std::string expiration = field(kExpirationKey); !expiration.empty()) {
    auto t = ParseTimestamp(expiration);
    if (!t.ok()) {
      return absl::FailedPreconditionError(
          reef::StrCat("data[", kExpirationKey, "]: ", t.status().message()));
    }
    r.expires = *t;
  }
  return r;
}

bool JoinTokenRecord::KeyMatches(std::string_view key) const {
  std::string hash = pki::Sha256Hex(key);
  return hash.size() == key_sha256.size() &&
         CRYPTO_memcmp(hash.data(), key_sha256.data(), hash.size()) == 0;
}

}  // namespace reef
