#pragma once
// Content digests as OCI writes them ("sha256:<64 lowercase hex>") and the SHA-256
// hashing behind them (OpenSSL EVP). Only sha256 is accepted: it is what every registry
// and image tool produces, and one algorithm keeps the store's layout simple.

#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace reef::agent::image {

class Digest {
 public:
  Digest() = default;
  // Accepts "sha256:<64 lowercase hex>"; the error says what is wrong with `text`.
  static absl::StatusOr<Digest> Parse(std::string_view text);
  // From 64 lowercase hex characters (a blob's file name).
  static absl::StatusOr<Digest> FromHex(std::string_view hex);
  // The digest of `bytes`.
  static Digest Of(std::string_view bytes);

  const std::string& hex() const { return hex_; }
  std::string ToString() const { return hex_.empty() ? "" : "sha256:" + hex_; }
  bool empty() const { return hex_.empty(); }

  friend bool operator==(const Digest& a, const Digest& b) = default;
  friend auto operator<=>(const Digest& a, const Digest& b) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.hex_);
  }

 private:
  explicit Digest(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

// Incremental SHA-256. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Ends the hash; the object must not be updated afterwards.
  Digest Finish();

 private:
  EVP_MD_CTX* ctx_;
};

// The digest of a file's content, read in chunks.
absl::StatusOr<Digest> DigestOfFile(const std::string& path);

// The error for content that does not hash to what it should: "<what>: digest mismatch:
// expected sha256:..., got sha256:...". DataLoss: the content is bad, not the link, so
// retrying the same source is pointless.
absl::Status DigestMismatch(std::string_view what, const Digest& expected, const Digest& got);

}  // namespace reef::agent::image
