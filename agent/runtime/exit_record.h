#pragma once
// How a container ended, as its monitor records it in exit.json when the container's
// init process has been reaped. The agent reads it back, also after a restart of its
// own, to learn exits that happened while it was down.

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/status.h"

namespace reef::agent::runtime {

// Kubernetes' ContainerStateTerminated reasons, plus containerd's for a container that
// never started (runc failed: bad command, missing binary, bad config).
inline constexpr std::string_view kReasonCompleted = "Completed";
inline constexpr std::string_view kReasonError = "Error";
inline constexpr std::string_view kReasonOomKilled = "OOMKilled";
inline constexpr std::string_view kReasonStartError = "StartError";

struct ExitRecord {
  int exit_code = 0;  // 128 + signal when the init process was killed, as shells say
  int signal = 0;     // the signal that killed it, 0 when it exited
  std::string reason;
  std::string message;  // runc's error for StartError
  int pid = 0;          // the container's init process on the host
  absl::Time started_at = absl::UnixEpoch();
  absl::Time finished_at = absl::UnixEpoch();

  friend bool operator==(const ExitRecord&, const ExitRecord&) = default;
};

// The record for an init process that ended with waitpid status `wait_status`.
// OOMKilled when the memory cgroup's OOM killer acted at all (as containerd does: the
// killed process may have been a child of init), otherwise Completed for exit code 0
// and Error for anything else.
ExitRecord RecordFromWaitStatus(int wait_status, bool oom_killed);

std::string ExitRecordToJson(const ExitRecord& record);
// InvalidArgument naming the problem for anything but a well-formed record.
absl::StatusOr<ExitRecord> ParseExitRecord(std::string_view json);

// Written atomically (temp file, fsync, rename): a reader sees all of it or nothing.
absl::Status WriteExitRecord(const std::string& path, const ExitRecord& record);
// NotFound while the container has not ended.
absl::StatusOr<ExitRecord> ReadExitRecord(const std::string& path);

}  // namespace reef::agent::runtime
