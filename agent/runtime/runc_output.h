#pragma once
// What runc prints: `state` and `list --format json` documents, and errors on stderr
// (with --log-format json, one {"level":"error","msg":...} object per line).

#include <string_view>
#include <vector>

#include "agent/runtime/runtime.h"
#include "common/status.h"

namespace reef::agent::runtime {

absl::StatusOr<ContainerState> ParseRuncState(std::string_view json);
// `runc list` prints "null" when there is no container.
absl::StatusOr<std::vector<ContainerState>> ParseRuncList(std::string_view json);

// The Status for a failed runc command, "<what>: <runc's message>", with a code from
// the message: NotFound (no such container), AlreadyExists, FailedPrecondition (not in
// a state that allows it), else Internal.
absl::Status RuncError(std::string_view what, std::string_view stderr_text, int exit_code);

}  // namespace reef::agent::runtime
