#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/probes/handlers.h"

namespace reef::agent::probes {
namespace {

// The kubelet keeps at most this much of an exec probe's output.
constexpr size_t kMaxOutput = 10 * 1024;

}  // namespace

ProbeOutcome ExecProbe(runtime::Runtime& runtime, const std::string& container_id,
                       const std::vector<std::string>& command, absl::Duration timeout) {
  if (command.empty()) return ProbeOutcome::Error("exec probe: no command");
  // %q in the kubelet: Go-quoted, which for these plain strings is C-escaped in quotes.
  const std::string quoted = absl::StrFormat("\"%s\"", absl::CEscape(absl::StrJoin(command, " ")));
  absl::StatusOr<runtime::ExecResult> result =
      runtime.Exec(container_id, command, timeout, kMaxOutput);
  if (absl::IsDeadlineExceeded(result.status())) {
    // Since Kubernetes 1.20 (ExecProbeTimeout) a timed-out exec probe is a failure.
    return ProbeOutcome::Failure(reef::StrCat("command ", quoted, " timed out"));
  }
  if (!result.ok()) return ProbeOutcome::Error(std::string(result.status().message()));
  std::string output(absl::StripTrailingAsciiWhitespace(result->output));
  if (result->exit_code == 0) return ProbeOutcome::Success(std::move(output));
  if (output.empty()) {
    output = absl::StrFormat("command %s exited with %d", quoted, result->exit_code);
  }
  return ProbeOutcome::Failure(std::move(output));
}

}  // namespace reef::agent::probes
