#pragma once
// Child processes for the agent: the runc CLI, runc and the monitor started with chosen
// file descriptors, CNI plugins fed a config on stdin. posix_spawn rather than fork, so
// that nothing runs in the child between fork and exec.

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "common/status.h"

namespace reef::agent::runtime {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// A pipe with O_CLOEXEC on both ends: only a child that gets an end through Spawn's
// fd list sees it.
absl::StatusOr<Pipe> MakePipe();

struct SpawnOptions {
  // argv[0] is searched in PATH unless it contains a '/'.
  std::vector<std::string> argv;
  // Our descriptors to give the child as 0, 1, 2; -1 gives it /dev/null.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Further descriptors as {ours, the child's number}, e.g. {sync_pipe, 3}.
  std::vector<std::pair<int, int>> extra_fds;
  // Variables to set (or replace) in the child's environment, which is otherwise ours.
  std::vector<std::pair<std::string, std::string>> env;
};

// Starts a child with an empty signal mask and every signal at its default action (a
// monitor blocks SIGCHLD and ignores SIGPIPE; the container must not inherit either).
// The caller reaps it.
absl::StatusOr<pid_t> Spawn(const SpawnOptions& options);

struct CommandResult {
  int exit_code = 0;  // -signal when the command was killed by a signal
  std::string out;
  std::string err;
};

// Runs argv to completion with stdin from /dev/null, capturing up to max_output bytes
// of stdout and of stderr each (the rest is read and dropped). A non-zero exit is a
// result, not an error; an error means it could not be run, or ran past `timeout`
// (DeadlineExceeded; the command is SIGKILLed and reaped).
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout, size_t max_output = 1 << 20);

struct CommandOptions {
  absl::Duration timeout = absl::Seconds(30);
  size_t max_output = 1 << 20;
  // Written to the child's stdin, which is then closed. A child that exits without
  // reading all of it is fine (no SIGPIPE for us).
  std::string stdin_data;
  // As SpawnOptions::env.
  std::vector<std::pair<std::string, std::string>> env;
};

// RunCommand with input and environment: the same contract, but stdin carries
// options.stdin_data instead of /dev/null.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const CommandOptions& options);

// Waits for a child of ours to exit and returns its wait status, retrying on EINTR.
absl::StatusOr<int> WaitForChild(pid_t pid);

}  // namespace reef::agent::runtime
