#pragma once
// reef-monitor's work once it has daemonized, like conmon's for CRI-O: start the
// container with `runc run --detach` on pipes it holds, copy the container's stdout and
// stderr into the CRI log, reap the container's init (re-parented to the monitor, a
// child subreaper, when runc exits), and record the exit. The monitor outlives the
// agent that started it; the agent reads what it left in the monitor's folder.

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "agent/runtime/cri_log.h"
#include "agent/runtime/exit_record.h"
#include "agent/runtime/monitor_protocol.h"
#include "common/unique_fd.h"

namespace reef::agent::runtime {

class Monitor {
 public:
  // The process must already be a child subreaper with SIGCHLD blocked.
  Monitor(MonitorOptions options, std::unique_ptr<CriLogWriter> log);
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Runs the container to its end; returns the monitor's exit code (0 once the exit
  // record is written, also for a container that failed to start).
  int Run();

 private:
  absl::Status StartRuntime(int stdout_fd, int stderr_fd);
  void ReapChildren();
  void OnRuntimeExit(int wait_status);
  void OnContainerExit(int wait_status);
  // Reads one chunk from a stream into the log; false at end of file.
  bool Pump(int fd, LogStream stream);
  void Report(const StartReport& report);
  std::string RuntimeError(int wait_status) const;

  const MonitorOptions options_;
  const MonitorFiles files_;
  std::unique_ptr<CriLogWriter> log_;
  std::string cgroups_path_;  // from config.json, for the OOM count
  UniqueFd sync_;
  UniqueFd signals_;  // signalfd for SIGCHLD

  pid_t runtime_pid_ = -1;
  pid_t container_pid_ = -1;
  bool container_done_ = false;
  std::map<pid_t, int> orphans_;  // reaped before we knew which pid was init
  ExitRecord exit_;
  int log_errors_ = 0;
};

}  // namespace reef::agent::runtime
