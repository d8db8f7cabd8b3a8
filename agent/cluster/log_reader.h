#pragma once
// Reads a container's log file (CRI format, rotated by its monitor) the way
// `kubectl logs` shows it: each record's content, partial records joined, and new
// records as they are appended, across rotations.
//
// Not thread-safe: one reader per relayed log.

#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace reef::agent {

class CriLogReader {
 public:
  explicit CriLogReader(std::string path) : path_(std::move(path)) {}

  // The content of the last `tail_lines` records (all when negative) of the file as
  // it is now; later calls to ReadNew() continue from there. NotFound when the
  // container has written nothing yet.
  absl::StatusOr<std::string> ReadInitial(int64_t tail_lines);
  // What was appended since the previous call ("" when nothing). When the monitor
  // rotated the file, the rest of the old one comes first, then the new one.
  absl::StatusOr<std::string> ReadNew();

 private:
  absl::Status Open();
  // Appends complete records of `data` (and what was left of the previous read) to
  // `out` as content.
  void Decode(std::string_view data, std::string* out);

  const std::string path_;
  UniqueFd fd_;
  ino_t inode_ = 0;
  std::string carry_;  // an incomplete last line, waiting for its '\n'
};

}  // namespace reef::agent
