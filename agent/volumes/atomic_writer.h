#pragma once
// Projects a set of files into a folder the way the kubelet's AtomicWriter does, so
// that a container that bind-mounts the folder sees every update at once, never a mix:
//
//   <dir>/..2024_05_01_12_00_00.AbC123/   the files of one version (mode 0755)
//   <dir>/..data -> ..2024_05_01_12_00_00.AbC123
//   <dir>/<name> -> ..data/<name>          for each top-level name of the payload
//
// An update writes a new timestamped folder, points ..data_tmp at it and renames that
// over ..data (atomic), fixes the user-visible links, then removes the old version.
// Nothing is written when the current version already holds exactly the payload
// (same paths, bytes and modes): the agent calls this every sync pass and SD cards wear.
//
// Not thread-safe for one folder; the agent's sync loop is its only caller.

#include <map>
#include <string>

#include "common/status.h"

namespace reef::agent::volumes {

struct FileProjection {
  std::string data;
  int mode = 0644;
};

// Relative path ("key", "conf/app.yaml") -> file.
using Payload = std::map<std::string, FileProjection>;

// InvalidArgument for a path that is empty, absolute, has a ".." component or starts
// with ".." (it would collide with the writer's own names).
absl::Status ValidatePayloadPath(const std::string& path);

// Makes `dir` (which must exist) hold `payload`. Returns whether it wrote anything.
absl::StatusOr<bool> WriteAtomic(const std::string& dir, const Payload& payload);

}  // namespace reef::agent::volumes
