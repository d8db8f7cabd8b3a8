#pragma once
// Join tokens: how a new node proves it may join, and which controller it must trust.
//
//   REEF1.<sha256 of the CA certificate's DER, 64 hex>.<id>.<key>
//
// The secret part `<id>.<key>` has kubeadm's bootstrap-token shape: a 6-character
// public id and a 16-character key, both lowercase [a-z0-9]. The controller stores
// only the id, the sha256 of the key, an optional expiry and a description, as a
// Secret `reef-system/join-token-<id>` of type reef.io/join-token; it never stores the
// key, so reading the store does not yield a usable token.

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/status.h"
#include "reef/v1/api.pb.h"

namespace reef {

inline constexpr std::string_view kJoinTokenPrefix = "REEF1";
inline constexpr size_t kJoinTokenIdLength = 6;
inline constexpr size_t kJoinTokenKeyLength = 16;
inline constexpr std::string_view kJoinTokenNamespace = "reef-system";
inline constexpr std::string_view kJoinTokenSecretType = "reef.io/join-token";

struct JoinToken {
  std::string ca_sha256;  // 64 lowercase hex
  std::string id;
  std::string key;

  // A fresh random id and key for the CA with this fingerprint.
  static JoinToken Generate(std::string_view ca_sha256);
  // InvalidArgument naming the part that is wrong, never echoing the key.
  static absl::StatusOr<JoinToken> Parse(std::string_view text);
  std::string ToString() const;
};

// "abc123" (the id), "abc123.<key>" or a whole REEF1 token: the id, for `token revoke`.
absl::StatusOr<std::string> JoinTokenIdFrom(std::string_view text);

// The name of the Secret that records token `id`.
std::string JoinTokenSecretName(std::string_view id);

// What the controller stores about one token.
struct JoinTokenRecord {
  std::string id;
  std::string key_sha256;
  std::optional<absl::Time> expires;  // none: valid until revoked
  std::string description;

  static JoinTokenRecord For(const JoinToken& token, std::optional<absl::Time> expires,
                             std::string description);
  // The Secret `reef-system/join-token-<id>` that stores this record.
  v1::Object ToSecret() const;
  // FailedPrecondition naming the broken field when the Secret is not a join token.
  static absl::StatusOr<JoinTokenRecord> FromSecret(const v1::Object& secret);

  // Whether `key` is this token's key (constant time).
  bool KeyMatches(std::string_view key) const;
};

}  // namespace reef
