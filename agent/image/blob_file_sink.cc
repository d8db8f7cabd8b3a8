#include "agent/image/blob_file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

// "bytes 100-199/1000" -> 100 and 1000 (-1 when the total is "*").
bool ParseContentRange(const std::string& value, uint64_t* start, int64_t* total) {
  uint64_t first = 0, last = 0;
  char total_text[32] = "";
  if (std::sscanf(value.c_str(), "bytes %" SCNu64 "-%" SCNu64 "/%31s", &first, &last, total_text) !=
      3) {
    return false;
  }
  *start = first;
  *total = std::string_view(total_text) == "*" ? -1 : std::strtoll(total_text, nullptr, 10);
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlobFileSink>> BlobFileSink::Open(const std::string& path,
                                                                 const Descriptor& blob) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  std::unique_ptr<BlobFileSink> sink(new BlobFileSink(path, blob, fd));
  // Hash what an earlier attempt wrote; the final check then covers every byte.
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(reef::StrCat("read ", path), errno);
    }
    if (n == 0) break;
    sink->offset_ += n;
    sink->hash_->Update(std::string_view(buf, static_cast<size_t>(n)));
  }
  if (sink->offset_ > static_cast<uint64_t>(blob.size)) RETURN_IF_ERROR(sink->Restart());
  return sink;
}

BlobFileSink::BlobFileSink(std::string path, const Descriptor& blob, int fd)
    : path_(std::move(path)), blob_(blob), fd_(fd), hash_(std::make_unique<Sha256>()) {}

BlobFileSink::~BlobFileSink() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status BlobFileSink::Restart() {
  if (::ftruncate(fd_, 0) != 0) return ErrnoStatus(reef::StrCat("truncate ", path_), errno);
  offset_ = 0;
  hash_ = std::make_unique<Sha256>();
  return absl::OkStatus();
}

absl::Status BlobFileSink::Discard(absl::Status why) {
  ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
  return why;
}

absl::Status BlobFileSink::Begin(int status, const HttpHeaders& headers) {
  if (status != 206) {
    // The whole blob (a server may ignore Range): start the file over.
    return offset_ == 0 ? absl::OkStatus() : Restart();
  }
  uint64_t start = 0;
  int64_t total = -1;
  const std::optional<std::string> range = headers.Get("Content-Range");
  if (!range || !ParseContentRange(*range, &start, &total)) {
    RETURN_IF_ERROR(Restart());
    return absl::UnavailableError("206 answer without a usable Content-Range; starting over");
  }
  if (total >= 0 && total != blob_.size) {
    return Discard(absl::DataLossError(
        absl::StrFormat("blob %s: the server has %d bytes, the manifest says %d",
                        blob_.digest.ToString(), total, blob_.size)));
  }
  if (start != offset_) {
    RETURN_IF_ERROR(Restart());
    return absl::UnavailableError(
        absl::StrFormat("server resumed at byte %d, not %d; starting over", start, offset_));
  }
  return absl::OkStatus();
}

absl::Status BlobFileSink::Write(std::string_view chunk) {
  if (offset_ + chunk.size() > static_cast<uint64_t>(blob_.size)) {
    return Discard(
        absl::DataLossError(absl::StrFormat("blob %s: more than the %d bytes its descriptor gives",
                                            blob_.digest.ToString(), blob_.size)));
  }
  hash_->Update(chunk);
  while (!chunk.empty()) {
    const ssize_t n = ::pwrite(fd_, chunk.data(), chunk.size(), static_cast<off_t>(offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(reef::StrCat("write ", path_), errno);
    }
    offset_ += n;
    chunk.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::Status BlobFileSink::Finish() {
  if (fd_ < 0)
    return absl::DataLossError(absl::StrFormat("blob %s: discarded", blob_.digest.ToString()));
  if (!complete()) {
    return absl::UnavailableError(absl::StrFormat("blob %s: got %d of %d bytes",
                                                  blob_.digest.ToString(), offset_, blob_.size));
  }
  const Digest got = hash_->Finish();
  if (got != blob_.digest) {
    return Discard(
        DigestMismatch(reef::StrCat("blob ", blob_.digest.ToString()), blob_.digest, got));
  }
  return absl::OkStatus();
}

}  // namespace reef::agent::image
