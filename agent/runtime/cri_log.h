#pragma once
// A container's log in the CRI format that the kubelet, crictl and `kubectl logs` read,
// one record per line of output:
//
//   2026-12-03T13:03:02.123456789Z stdout F hello
//   2026-12-03T13:03:02.123460000Z stderr P no newline yet
//
// F closes a line; P is a piece of a line whose rest follows in later records (a write
// without its newline yet, or a line split to fit the size cap). Files are size-capped
// and rotated: path, path.1 (newest rotated) ... path.<max_files - 1> (oldest).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "common/clock.h"
#include "common/status.h"

namespace reef::agent::runtime {

enum class LogStream { kStdout, kStderr };
std::string_view StreamName(LogStream stream);

struct LogOptions {
  std::string path;
  // The kubelet's defaults (containerLogMaxSize, containerLogMaxFiles).
  int64_t max_bytes = 10 << 20;  // per file; no record crosses it
  int max_files = 5;             // the current file and the rotated ones kept
};

// "2026-12-03T13:03:02.123456789Z": always nine digits, so records sort as text.
std::string FormatCriTimestamp(absl::Time t);

// The file that holds rotation `index` (0 = the current one).
std::string RotatedLogPath(std::string_view path, int index);

// Not thread-safe: a monitor's single loop owns its writer.
class CriLogWriter {
 public:
  // Appends to an existing file (and counts its size towards the cap). Creates the
  // parent folder when missing.
  static absl::StatusOr<std::unique_ptr<CriLogWriter>> Open(const LogOptions& options,
                                                            const Clock& clock = Clock::Real());
  CriLogWriter(const CriLogWriter&) = delete;
  CriLogWriter& operator=(const CriLogWriter&) = delete;
  ~CriLogWriter() = default;

  // Logs one chunk read from the container's stream, all of it stamped with the time
  // of the call. On a write error the chunk is dropped and the error returned; the
  // next call tries again (a full disk must not stall the container).
  absl::Status Write(LogStream stream, std::string_view data);

 private:
  CriLogWriter(const LogOptions& options, const Clock& clock, UniqueFd fd, int64_t size);
  absl::Status Flush();
  absl::Status Rotate();

  const LogOptions options_;
  const Clock& clock_;
  UniqueFd fd_;
  int64_t size_ = 0;     // bytes in the current file, pending_ included
  std::string pending_;  // records not written yet
};

struct CriRecord {
  absl::Time time;
  LogStream stream = LogStream::kStdout;
  bool partial = false;
  std::string content;
};

// Parses one record (without its '\n'); InvalidArgument when it is not one.
absl::StatusOr<CriRecord> ParseCriRecord(std::string_view line);

}  // namespace reef::agent::runtime
