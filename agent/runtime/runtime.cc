#include "agent/runtime/runtime.h"

#include <signal.h>

namespace reef::agent::runtime {
namespace {

// How long a SIGKILLed container may take to be reaped and recorded.
constexpr absl::Duration kKillTimeout = absl::Seconds(10);

}  // namespace

std::string_view OciStatusName(OciStatus status) {
  switch (status) {
    case OciStatus::kCreating:
      return "creating";
    case OciStatus::kCreated:
      return "created";
    case OciStatus::kRunning:
      return "running";
    case OciStatus::kPaused:
      return "paused";
    case OciStatus::kStopped:
      return "stopped";
  }
  return "unknown";
}

absl::StatusOr<ExitRecord> StopContainer(Runtime& runtime, std::string_view id,
                                         absl::Duration grace) {
  const std::string what = reef::StrCat("stop ", id);
  // Not running any more (FailedPrecondition) is fine: its exit is being recorded.
  absl::Status term = runtime.Kill(id, SIGTERM);
  if (!term.ok() && !absl::IsFailedPrecondition(term)) return Annotate(term, what);
  absl::StatusOr<ExitRecord> exit = runtime.WaitForExit(id, grace);
  if (!absl::IsDeadlineExceeded(exit.status())) return exit;

  absl::Status kill = runtime.Kill(id, SIGKILL);
  if (!kill.ok() && !absl::IsFailedPrecondition(kill)) return Annotate(kill, what);
  exit = runtime.WaitForExit(id, kKillTimeout);
  if (!exit.ok()) return Annotate(exit.status(), what);
  return exit;
}

}  // namespace reef::agent::runtime
