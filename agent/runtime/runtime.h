#pragma once
// The seam between the agent and an OCI runtime. The runc implementation drives the
// runc CLI with one reef-monitor per container; a fake one can stand in where real
// containers do not matter.
//
// Contract: a container is named by an id unique within one Runtime (the agent derives
// it from the pod uid and the container name). Run() returns once the container's
// process runs (or failed to start); from then on the container's end is recorded by
// its monitor, whether or not the agent is alive, and Exit() reads that record. The
// agent calls Delete() once it has read the exit it needs.
//
// Thread safety: every method may be called from any thread; calls for different ids
// do not interfere. Two concurrent calls for one id are the caller's problem.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "agent/runtime/cri_log.h"
#include "agent/runtime/exit_record.h"
#include "common/status.h"

namespace reef::agent::runtime {

struct RunOptions {
  std::string id;
  std::string bundle;  // absolute; holds config.json (see oci_spec.h)
  LogOptions log;      // where the monitor writes the container's output
};

struct Started {
  int pid = 0;  // the container's init process on the host
  absl::Time started_at;
};

// OCI runtime states, as `runc state` reports them.
enum class OciStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
std::string_view OciStatusName(OciStatus status);

// What a command run in a container by Exec left behind.
struct ExecResult {
  int exit_code = 0;   // -signal when it was killed by a signal
  std::string output;  // stdout then stderr, each capped (see Exec)
};

struct ContainerState {
  std::string id;
  OciStatus status = OciStatus::kStopped;
  int pid = 0;  // 0 once stopped
  std::string bundle;
  absl::Time created;
  std::map<std::string, std::string> annotations;  // from config.json (see oci_spec.h)
  bool monitor_alive = false;  // false: nobody will record this container's exit
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Creates and starts the container under a new monitor. AlreadyExists while the id
  // is in use, i.e. until Delete (even after the container ended). When runc fails
  // (bad command, bad config) the error carries runc's message, and the monitor has
  // also recorded a StartError exit.
  virtual absl::StatusOr<Started> Run(const RunOptions& options) = 0;

  // NotFound when the runtime has no such container.
  virtual absl::StatusOr<ContainerState> State(std::string_view id) = 0;
  virtual absl::StatusOr<std::vector<ContainerState>> List() = 0;

  // Sends `signal` to the container's init. FailedPrecondition when it is not running.
  virtual absl::Status Kill(std::string_view id, int signal) = 0;

  // Removes the container, its cgroup and its monitor's folder (the log stays). Only a
  // stopped container unless `force` (which SIGKILLs it first). Deleting a container
  // that does not exist is not an error.
  virtual absl::Status Delete(std::string_view id, bool force) = 0;

  // The exit the monitor recorded; NotFound while the container has not ended. Once
  // it is recorded the log holds all of the container's output.
  virtual absl::StatusOr<ExitRecord> Exit(std::string_view id) = 0;

  // Waits up to `timeout` for the exit to be recorded: DeadlineExceeded when it is not,
  // FailedPrecondition when no monitor is left to record it.
  virtual absl::StatusOr<ExitRecord> WaitForExit(std::string_view id, absl::Duration timeout) = 0;

  // Runs argv (argv[0] looked up in the container's PATH) in the running container,
  // as its init's user, with stdin from /dev/null, and waits for it. A non-zero exit
  // is a result; keeps up to `max_output` bytes of stdout and of stderr each.
  // NotFound without such a container; FailedPrecondition when it is not running (or
  // stopped during the command); an error with runc's message when the command cannot
  // be started (e.g. no such program); DeadlineExceeded past `timeout`, the command
  // then SIGKILLed (its children, if any, are left to the container's init).
  virtual absl::StatusOr<ExecResult> Exec(std::string_view id,
                                          const std::vector<std::string>& argv,
                                          absl::Duration timeout,
                                          size_t max_output = 10 * 1024) = 0;

 protected:
  Runtime() = default;
};

// Stops a container as the kubelet does: SIGTERM, up to `grace` for it to exit, then
// SIGKILL. (A shell as PID 1 ignores SIGTERM unless it traps it: it takes the whole
// grace period.) Returns the recorded exit; a container already stopped returns its
// exit at once.
absl::StatusOr<ExitRecord> StopContainer(Runtime& runtime, std::string_view id,
                                         absl::Duration grace);

}  // namespace reef::agent::runtime
