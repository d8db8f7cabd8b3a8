#include "agent/runtime/runc_runtime.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "agent/runtime/monitor_protocol.h"
#include "agent/runtime/runc_output.h"
#include "agent/runtime/subprocess.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

constexpr size_t kMaxStartReport = 64 * 1024;
// A monitor ends moments after its container; this bounds a stuck one.
constexpr absl::Duration kMonitorExitTimeout = absl::Seconds(10);

// runc's own rule for ids, minus a leading '.', since the id also names a folder.
absl::Status ValidateId(std::string_view id) {
  auto allowed = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == '+';
  };
  if (!id.empty() && id.size() <= 1024 && id[0] != '.' &&
      std::all_of(id.begin(), id.end(), allowed)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      reef::StrCat("container id \"", id, "\": use letters, digits and _ - . + (not first .)"));
}

absl::StatusOr<std::string> AbsolutePath(const std::string& path, std::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(reef::StrCat(what, ": no path given"));
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) return ErrnoStatus(reef::StrCat(what, " ", path), ec.value());
  return p.lexically_normal().string();
}

// True when runc itself failed rather than the command it ran: `runc exec` exits 255
// and, with --log-format json, its last stderr line is a {"level":"error"} object.
bool IsRuncExecFailure(const CommandResult& result) {
  if (result.exit_code != 255) return false;
  std::string_view err = result.err;
  while (!err.empty() && err.back() == '\n') err.remove_suffix(1);
  size_t newline = err.rfind('\n');
  if (newline != std::string_view::npos) err.remove_prefix(newline + 1);
  return err.starts_with("{\"level\":\"error\"");
}

// Reads the monitor's start report until it closes the pipe or `deadline` passes.
absl::StatusOr<std::string> ReadReport(int fd, absl::Time deadline) {
  std::string text;
  char buf[4096];
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("no start report");
    pollfd pfd = {fd, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n < 0 && errno != EINTR) return ErrnoStatus("poll start report", errno);
    if (n <= 0) continue;
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return text;
    if (text.size() + got > kMaxStartReport) return absl::InternalError("start report too large");
    text.append(buf, got);
  }
}

class RuncRuntime : public Runtime {
 public:
  explicit RuncRuntime(RuncOptions options) : options_(std::move(options)) {}

  absl::StatusOr<Started> Run(const RunOptions& run) override;

  absl::StatusOr<ContainerState> State(std::string_view id) override {
    RETURN_IF_ERROR(ValidateId(id));
    ASSIGN_OR_RETURN(std::string out, Runc({"state", std::string(id)}, reef::StrCat("state ", id)));
    ASSIGN_OR_RETURN(ContainerState state, ParseRuncState(out));
    state.monitor_alive = MonitorAlive(Files(id));
    return state;
  }

  absl::StatusOr<std::vector<ContainerState>> List() override {
    ASSIGN_OR_RETURN(std::string out, Runc({"list", "--format", "json"}, "list"));
    ASSIGN_OR_RETURN(std::vector<ContainerState> states, ParseRuncList(out));
    for (ContainerState& s : states) s.monitor_alive = MonitorAlive(Files(s.id));
    return states;
  }

  absl::Status Kill(std::string_view id, int signal) override {
    RETURN_IF_ERROR(ValidateId(id));
    return Runc({"kill", std::string(id), absl::StrCat(signal)},
                absl::StrFormat("kill -%d %s", signal, id))
        .status();
  }

  absl::Status Delete(std::string_view id, bool force) override {
    RETURN_IF_ERROR(ValidateId(id));
    std::vector<std::string> args = {"delete"};
    if (force) args.push_back("--force");
    args.push_back(std::string(id));
    absl::Status deleted = Runc(args, reef::StrCat("delete ", id)).status();
    if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
    // The monitor still has to record the exit of a container killed just now.
    MonitorFiles files = Files(id);
    absl::Time deadline = absl::Now() + kMonitorExitTimeout;
    while (MonitorAlive(files)) {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(reef::StrCat("delete ", id,
                                                        ": its monitor still runs after ",
                                                        absl::FormatDuration(kMonitorExitTimeout)));
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    std::error_code ec;
    std::filesystem::remove_all(files.dir, ec);
    if (ec) return ErrnoStatus(reef::StrCat("delete ", id, ": remove ", files.dir), ec.value());
    return absl::OkStatus();
  }

  absl::StatusOr<ExitRecord> Exit(std::string_view id) override {
    RETURN_IF_ERROR(ValidateId(id));
    return ReadExitRecord(Files(id).exit());
  }

  absl::StatusOr<ExecResult> Exec(std::string_view id, const std::vector<std::string>& argv,
                                  absl::Duration timeout, size_t max_output) override;

  absl::StatusOr<ExitRecord> WaitForExit(std::string_view id, absl::Duration timeout) override {
    RETURN_IF_ERROR(ValidateId(id));
    MonitorFiles files = Files(id);
    absl::Time deadline = absl::Now() + timeout;
    absl::Duration pause = absl::Milliseconds(5);
    while (true) {
      // Liveness first: a monitor that ended has written its record before.
      bool alive = MonitorAlive(files);
      absl::StatusOr<ExitRecord> record = ReadExitRecord(files.exit());
      if (!absl::IsNotFound(record.status())) return record;
      if (!alive) {
        return absl::FailedPreconditionError(
            reef::StrCat("container ", id, ": no monitor records its exit"));
      }
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(reef::StrCat("container ", id, ": still running after ",
                                                        absl::FormatDuration(timeout)));
      }
      absl::SleepFor(std::min(pause, deadline - absl::Now()));
      pause = std::min(pause * 2, absl::Milliseconds(100));
    }
  }

 private:
  MonitorFiles Files(std::string_view id) const {
    return MonitorFiles{reef::StrCat(options_.monitor_dir, "/", id)};
  }

  // Runs `runc --root R --log-format json ARGS` and returns its stdout.
  absl::StatusOr<std::string> Runc(const std::vector<std::string>& args, std::string_view what) {
    std::vector<std::string> argv = {options_.binary, "--root", options_.root, "--log-format",
                                     "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = RunCommand(argv, options_.command_timeout);
    if (!result.ok()) return Annotate(result.status(), what);
    if (result->exit_code != 0) return RuncError(what, result->err, result->exit_code);
    return std::move(result->out);
  }

  // True when `runc state` says the container runs; errors as State's.
  absl::StatusOr<bool> Running(std::string_view id) {
    absl::StatusOr<ContainerState> state = State(id);
    if (!state.ok()) return state.status();
    return state->status == OciStatus::kRunning;
  }

  const RuncOptions options_;
  std::atomic<uint64_t> exec_counter_{0};  // names each Exec's pid file
};

absl::StatusOr<ExecResult> RuncRuntime::Exec(std::string_view id,
                                             const std::vector<std::string>& argv,
                                             absl::Duration timeout, size_t max_output) {
  RETURN_IF_ERROR(ValidateId(id));
  const std::string what = reef::StrCat("exec in ", id);
  if (argv.empty()) return absl::InvalidArgumentError(reef::StrCat(what, ": no command"));
  // runc would say so too, but only as a failure indistinguishable from the
  // command's own exit code 1 or 255 without parsing its stderr.
  ASSIGN_OR_RETURN(bool running, Running(id));
  if (!running) return absl::FailedPreconditionError(reef::StrCat(what, ": not running"));

  // Killing `runc exec` on a timeout would leave the command running in the container:
  // runc tells us its pid so that we can kill it ourselves. The pid file goes under
  // runc's root (a tmpfs): exec probes run every few seconds, forever, and must not
  // write to the flash each time.
  const std::string pid_file = absl::StrFormat("%s/exec-%s-%d.pid", options_.root, id, exec_counter_++);
  std::vector<std::string> command = {options_.binary, "--root", options_.root, "--log-format",
                                      "json", "exec", "--pid-file", pid_file, std::string(id)};
  command.insert(command.end(), argv.begin(), argv.end());
  absl::StatusOr<CommandResult> result = RunCommand(command, timeout, max_output);
  absl::StatusOr<std::string> pid_text = ReadFileLimited(pid_file, 64);
  ::unlink(pid_file.c_str());

  if (absl::IsDeadlineExceeded(result.status())) {
    int pid = 0;
    if (pid_text.ok() && absl::SimpleAtoi(reef::ToAbsl(*pid_text), &pid) && pid > 1) {
      ::kill(pid, SIGKILL);
    }
    return absl::DeadlineExceededError(absl::StrFormat(
        "%s: %s: still running after %s, killed", what,
        absl::StrJoin(argv, " "), absl::FormatDuration(timeout)));
  }
  if (!result.ok()) return Annotate(result.status(), what);
  if (IsRuncExecFailure(*result)) {
    absl::Status failed = RuncError(what, result->err, result->exit_code);
    absl::StatusOr<bool> still = Running(id);
    if (still.ok() && !*still) return absl::FailedPreconditionError(failed.message());
    return failed;
  }
  if (result->exit_code != 0) {
    // The container may have stopped under the command (runc then reports the kill).
    absl::StatusOr<bool> still = Running(id);
    if (still.ok() && !*still) {
      return absl::FailedPreconditionError(reef::StrCat(what, ": the container stopped"));
    }
  }
  ExecResult exec;
  exec.exit_code = result->exit_code;
  exec.output = std::move(result->out);
  exec.output += result->err;
  return exec;
}

absl::StatusOr<Started> RuncRuntime::Run(const RunOptions& run) {
  RETURN_IF_ERROR(ValidateId(run.id));
  const std::string what = reef::StrCat("run ", run.id);
  MonitorFiles files = Files(run.id);
  // The folder goes with Delete: until then it may hold an exit nobody has read.
  if (MonitorAlive(files) || ::access(files.exit().c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(reef::StrCat(what, ": in use (delete it first)"));
  }
  RETURN_IF_ERROR(Annotate(MakeDirs(files.dir, 0755), what));

  MonitorOptions monitor;
  monitor.id = run.id;
  monitor.run_prefix = options_.run_prefix;
  ASSIGN_OR_RETURN(monitor.bundle, AbsolutePath(run.bundle, "bundle"));
  monitor.runtime = options_.binary;
  monitor.runtime_root = options_.root;
  monitor.dir = files.dir;
  monitor.log = run.log;
  ASSIGN_OR_RETURN(monitor.log.path, AbsolutePath(run.log.path, "log"));
  monitor.sync_fd = 3;

  ASSIGN_OR_RETURN(Pipe sync, MakePipe());
  std::vector<std::string> argv = {options_.monitor_binary};
  for (std::string& arg : monitor.ToArgs()) argv.push_back(std::move(arg));
  SpawnOptions spawn;
  spawn.argv = std::move(argv);
  spawn.extra_fds = {{sync.write.get(), 3}};
  absl::StatusOr<pid_t> pid = Spawn(spawn);
  if (!pid.ok()) return Annotate(pid.status(), what);
  sync.write.Reset();
  // The first process exits as soon as it has forked the daemon.
  ASSIGN_OR_RETURN(int wait_status, WaitForChild(*pid));

  absl::StatusOr<std::string> text =
      ReadReport(sync.read.get(), absl::Now() + options_.start_timeout);
  if (!text.ok()) return Annotate(text.status(), what);
  if (text->empty()) {
    return absl::InternalError(absl::StrFormat(
        "%s: reef-monitor ended (status %d) without a report; see %s/monitor.log", what,
        WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status),
        files.dir));
  }
  absl::StatusOr<StartReport> report = ParseStartReport(*text);
  if (!report.ok()) return Annotate(report.status(), what);
  if (!report->error.empty()) {
    return absl::FailedPreconditionError(reef::StrCat(what, ": ", report->error));
  }
  Started started;
  started.pid = report->pid;
  started.started_at = report->started_at;
  return started;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Runtime>> OpenRuncRuntime(const RuncOptions& options) {
  RuncOptions o = options;
  ASSIGN_OR_RETURN(o.root, AbsolutePath(o.root, "runc root"));
  ASSIGN_OR_RETURN(o.monitor_dir, AbsolutePath(o.monitor_dir, "monitor folder"));
  if (o.monitor_binary.empty()) {
    std::error_code ec;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return ErrnoStatus("find reef-monitor: read /proc/self/exe", ec.value());
    o.monitor_binary = (self.parent_path() / "reef-monitor").string();
  }
  if (::access(o.monitor_binary.c_str(), X_OK) != 0) {
    return ErrnoStatus(reef::StrCat("reef-monitor at ", o.monitor_binary), errno);
  }
  absl::StatusOr<CommandResult> version = RunCommand({o.binary, "--version"}, o.command_timeout);
  if (!version.ok() || version->exit_code != 0) {
    return absl::FailedPreconditionError(
        reef::StrCat(o.binary, " --version failed: ",
                     version.ok() ? version->err : std::string(version.status().message())));
  }
  RETURN_IF_ERROR(MakeDirs(o.root, 0700));
  RETURN_IF_ERROR(MakeDirs(o.monitor_dir, 0755));
  return std::unique_ptr<Runtime>(new RuncRuntime(std::move(o)));
}

absl::StatusOr<std::unique_ptr<Runtime>> OpenCrunRuntime(const RuncOptions& options) {
  RuncOptions o = options;
  if (o.binary == "runc") o.binary = "crun";
  absl::StatusOr<std::string> unified =
      ReadFileLimited("/sys/fs/cgroup/unified/cgroup.controllers", 4096);
  if (o.run_prefix.empty() && unified.ok() && !absl::StripAsciiWhitespace(*unified).empty()) {
    o.run_prefix = {"unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    "umount /sys/fs/cgroup/unified && exec \"$0\" \"$@\""};
  }
  return OpenRuncRuntime(o);
}

}  // namespace reef::agent::runtime
