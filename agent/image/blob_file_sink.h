#pragma once
// Writes a blob download into a file, resumably: it starts from the bytes a previous
// attempt left there (hashing them again, so the final check covers the whole file),
// asks to be told the Range to request, follows the server's 200-or-206 choice, and
// checks size and digest at the end. Content that cannot be the blob (too long, wrong
// digest) deletes the file.

#include <memory>
#include <string>

#include "agent/image/digest.h"
#include "agent/image/http_client.h"
#include "agent/image/manifest.h"

namespace reef::agent::image {

class BlobFileSink final : public BodySink {
 public:
  // Opens (creating) `path` for `blob` and hashes the partial content already there.
  static absl::StatusOr<std::unique_ptr<BlobFileSink>> Open(const std::string& path,
                                                            const Descriptor& blob);
  ~BlobFileSink() override;
  BlobFileSink(const BlobFileSink&) = delete;
  BlobFileSink& operator=(const BlobFileSink&) = delete;

  // Bytes in the file so far: what to ask for with "Range: bytes=<offset>-".
  uint64_t offset() const { return offset_; }
  bool complete() const { return offset_ == static_cast<uint64_t>(blob_.size); }

  absl::Status Begin(int status, const HttpHeaders& headers) override;
  absl::Status Write(std::string_view chunk) override;

  // After a transfer: OK when the file is exactly the blob; Unavailable when it is
  // still short (resume later); DataLoss when it does not match (file deleted).
  absl::Status Finish();
  // Starts over from an empty file (the server cannot resume where we are).
  absl::Status Restart();

 private:
  BlobFileSink(std::string path, const Descriptor& blob, int fd);
  absl::Status Discard(absl::Status why);

  const std::string path_;
  const Descriptor blob_;
  int fd_;
  uint64_t offset_ = 0;
  std::unique_ptr<Sha256> hash_;
};

}  // namespace reef::agent::image
