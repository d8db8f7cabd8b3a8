#pragma once
// What the runtime and reef-monitor agree on: the monitor's flags, the files it keeps
// for its container, and the one message it sends back once the container has started.
//
// The monitor's folder (<monitor_dir>/<container id>/):
//   monitor.pid    the monitor's pid, flock()ed for as long as the monitor lives, so
//                  that liveness survives pid reuse and the agent's own restarts
//   container.pid  the container's init pid on the host (runc --pid-file)
//   exit.json      the ExitRecord, written once the container has ended
//   runc.log       runc's own log (JSON lines), where its errors are read from

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agent/runtime/cri_log.h"
#include "common/status.h"

namespace reef::agent::runtime {

struct MonitorFiles {
  std::string dir;

  std::string monitor_pid() const { return dir + "/monitor.pid"; }
  std::string container_pid() const { return dir + "/container.pid"; }
  std::string exit() const { return dir + "/exit.json"; }
  std::string runc_log() const { return dir + "/runc.log"; }
};

// True while a monitor holds monitor.pid's lock.
bool MonitorAlive(const MonitorFiles& files);

struct MonitorOptions {
  std::string id;      // the container id given to runc
  std::string bundle;  // holds config.json
  std::string runtime = "runc";
  std::string runtime_root;  // runc --root
  // Put before the runtime's argv for `run` only (crun's cgroup workaround, see
  // runc_runtime.h).
  std::vector<std::string> run_prefix;
  std::string dir;  // the monitor's folder (MonitorFiles)
  LogOptions log;
  int sync_fd = -1;  // where the StartReport goes; -1: nowhere

  std::vector<std::string> ToArgs() const;  // flags, without the program name
  // InvalidArgument naming the flag for anything unknown, malformed or missing.
  static absl::StatusOr<MonitorOptions> FromArgs(const std::vector<std::string>& args);
};

// Sent by the monitor on sync_fd as one JSON line, then the pipe is closed.
struct StartReport {
  std::string error;  // empty when the container started
  int pid = 0;
  absl::Time started_at;
};
std::string StartReportToJson(const StartReport& report);
absl::StatusOr<StartReport> ParseStartReport(std::string_view json);

}  // namespace reef::agent::runtime
