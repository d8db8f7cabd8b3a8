#include "agent/runtime/cri_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

// "<timestamp> stderr F " and the final newline: a record's bytes besides its content.
constexpr size_t kOverheadBytes = 30 + 1 + 6 + 3 + 1;

}  // namespace

std::string_view StreamName(LogStream stream) {
  return stream == LogStream::kStdout ? "stdout" : "stderr";
}

std::string FormatCriTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", t, absl::UTCTimeZone());
}

std::string RotatedLogPath(std::string_view path, int index) {
  return index == 0 ? std::string(path) : absl::StrFormat("%s.%d", path, index);
}

absl::StatusOr<std::unique_ptr<CriLogWriter>> CriLogWriter::Open(const LogOptions& options,
                                                                 const Clock& clock) {
  if (options.path.empty()) return absl::InvalidArgumentError("log: no path");
  if (options.max_files < 1 || options.max_bytes <= static_cast<int64_t>(kOverheadBytes)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("log %s: max_files must be at least 1 and max_bytes above %d", options.path,
                        kOverheadBytes));
  }
  std::string dir = std::filesystem::path(options.path).parent_path().string();
  if (!dir.empty()) RETURN_IF_ERROR(MakeDirs(dir, 0755));
  UniqueFd fd(::open(options.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd.valid()) return ErrnoStatus(reef::StrCat("open ", options.path), errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(reef::StrCat("stat ", options.path), errno);
  return std::unique_ptr<CriLogWriter>(new CriLogWriter(options, clock, std::move(fd), st.st_size));
}

CriLogWriter::CriLogWriter(const LogOptions& options, const Clock& clock, UniqueFd fd, int64_t size)
    : options_(options), clock_(clock), fd_(std::move(fd)), size_(size) {}

absl::Status CriLogWriter::Write(LogStream stream, std::string_view data) {
  const std::string prefix =
      reef::StrCat(FormatCriTimestamp(clock_.Now()), " ", StreamName(stream));
  // Longer lines are split into P records so that no record crosses the cap.
  const size_t max_content = options_.max_bytes - kOverheadBytes;
  absl::Status status;
  while (!data.empty()) {
    size_t newline = data.find('\n');
    size_t line_end = newline == std::string_view::npos ? data.size() : newline;
    size_t take = std::min(line_end, max_content);
    bool full = take == line_end && newline != std::string_view::npos;
    std::string record = reef::StrCat(prefix, full ? " F " : " P ", data.substr(0, take), "\n");
    data.remove_prefix(full ? take + 1 : take);

    if (size_ > 0 && size_ + static_cast<int64_t>(record.size()) > options_.max_bytes) {
      status.Update(Flush());
      status.Update(Rotate());
    }
    size_ += record.size();
    pending_ += record;
  }
  status.Update(Flush());
  return status;
}

absl::Status CriLogWriter::Flush() {
  std::string_view rest = pending_;
  absl::Status status;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = ErrnoStatus(reef::StrCat("write ", options_.path), n < 0 ? errno : EIO);
      size_ -= rest.size();
      break;
    }
    rest.remove_prefix(n);
  }
  pending_.clear();
  return status;
}

absl::Status CriLogWriter::Rotate() {
  const std::string& path = options_.path;
  std::error_code ec;
  std::filesystem::remove(RotatedLogPath(path, options_.max_files - 1), ec);
  for (int i = options_.max_files - 2; i >= 0; --i) {
    std::filesystem::rename(RotatedLogPath(path, i), RotatedLogPath(path, i + 1), ec);
  }
  // With max_files == 1 the loop renamed nothing and the file was removed above.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd.valid()) return ErrnoStatus(reef::StrCat("rotate ", path), errno);
  fd_ = std::move(fd);
  size_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<CriRecord> ParseCriRecord(std::string_view line) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        reef::StrCat("log record \"", line.substr(0, 80), "\": ", why));
  };
  size_t time_end = line.find(' ');
  if (time_end == std::string_view::npos) return bad("no stream");
  CriRecord record;
  absl::StatusOr<absl::Time> time = ParseTimestamp(line.substr(0, time_end));
  if (!time.ok()) return bad("bad timestamp");
  record.time = *time;
  std::string_view rest = line.substr(time_end + 1);
  if (rest.starts_with("stdout ")) {
    record.stream = LogStream::kStdout;
  } else if (rest.starts_with("stderr ")) {
    record.stream = LogStream::kStderr;
  } else {
    return bad("stream is neither stdout nor stderr");
  }
  rest.remove_prefix(7);
  if (rest.size() < 2 || (rest[0] != 'F' && rest[0] != 'P') || rest[1] != ' ') {
    return bad("no F/P tag");
  }
  record.partial = rest[0] == 'P';
  record.content = std::string(rest.substr(2));
  return record;
}

}  // namespace reef::agent::runtime
