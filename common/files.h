#pragma once
// Small file helpers. errno becomes a Status here and nowhere else.

#include <cstdint>
#include <string>

#include "common/status.h"

namespace reef {

// The Status for a failed system call: "open /x/y: No such file or directory".
absl::Status ErrnoStatus(std::string_view what, int err);

// Reads a whole file, refusing one larger than max_bytes with a message that names the
// file, its size and the limit (so a 10 MB manifest is one clear error, not an OOM).
absl::StatusOr<std::string> ReadFileLimited(const std::string& path, uint64_t max_bytes);

// Reads all of a file descriptor (stdin), with the same limit.
absl::StatusOr<std::string> ReadFdLimited(int fd, std::string_view name, uint64_t max_bytes);

// Writes a file atomically (temp file, fsync, rename, fsync of the folder) with `mode`.
absl::Status WriteFileAtomic(const std::string& path, std::string_view content, int mode);

// Creates a folder and its parents with `mode` for the ones it creates.
absl::Status MakeDirs(const std::string& path, int mode);

// Whether something is mounted on `path`: a folder on another device than its
// parent, or the root of its file system.
bool IsMountPoint(const std::string& path);

// "10.0 MiB", "512 B": sizes in messages for people.
std::string HumanBytes(uint64_t n);

// "NAME: 10.0 MiB is larger than the 3.0 MiB limit", with exact byte counts when
// the rounded sizes would read the same. An empty name leaves out "NAME: ".
std::string SizeLimitMessage(std::string_view name, uint64_t size, uint64_t limit);

}  // namespace reef
