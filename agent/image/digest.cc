#include "agent/image/digest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";
constexpr size_t kSha256HexLength = 64;

std::string ToHex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

absl::StatusOr<Digest> Digest::FromHex(std::string_view hex) {
  if (hex.size() != kSha256HexLength) {
    return absl::InvalidArgumentError(
        absl::StrFormat("sha256 digest must have 64 hex characters, not %d", hex.size()));
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError("sha256 digest must be lowercase hex");
    }
  }
  return Digest(std::string(hex));
}

absl::StatusOr<Digest> Digest::Parse(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("digest \"%s\": expected ALGORITHM:HEX", text));
  }
  if (text.substr(0, colon + 1) != kSha256Prefix) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "digest \"%s\": unsupported algorithm \"%s\" (only sha256)", text, text.substr(0, colon)));
  }
  auto digest = FromHex(text.substr(colon + 1));
  if (!digest.ok()) return Annotate(digest.status(), absl::StrFormat("digest \"%s\"", text));
  return digest;
}

Digest Digest::Of(std::string_view bytes) {
  Sha256 hash;
  hash.Update(bytes);
  return hash.Finish();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Only allocation can fail here; without a context nothing can be verified, and a
  // silently wrong digest would be worse than stopping.
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }

Digest Sha256::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, out, &n);
  return *Digest::FromHex(ToHex(out, n));
}

absl::StatusOr<Digest> DigestOfFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  Sha256 hash;
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(reef::StrCat("read ", path), err);
    }
    if (n == 0) break;
    hash.Update(std::string_view(buf, static_cast<size_t>(n)));
  }
  ::close(fd);
  return hash.Finish();
}

absl::Status DigestMismatch(std::string_view what, const Digest& expected, const Digest& got) {
  return absl::DataLossError(absl::StrFormat("%s: digest mismatch: expected %s, got %s", what,
                                             expected.ToString(), got.ToString()));
}

}  // namespace reef::agent::image
