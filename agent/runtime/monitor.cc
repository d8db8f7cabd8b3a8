#include "agent/runtime/monitor.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/runtime/cgroups.h"
#include "agent/runtime/subprocess.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr uint64_t kMaxConfig = 4 << 20;
constexpr uint64_t kMaxRuncLog = 1 << 20;
// After init has exited the kernel kills the rest of its pid namespace, so the pipes
// close at once; this only bounds a writer that escaped (a shared pid namespace).
constexpr absl::Duration kDrainAfterExit = absl::Seconds(2);

std::string CgroupsPathOf(const std::string& bundle) {
  absl::StatusOr<std::string> config = ReadFileLimited(bundle + "/config.json", kMaxConfig);
  if (!config.ok()) return "";
  nlohmann::json j = nlohmann::json::parse(*config, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("linux") || !j["linux"].is_object()) return "";
  const nlohmann::json& path = j["linux"]["cgroupsPath"];
  return path.is_string() ? path.get<std::string>() : "";
}

}  // namespace

Monitor::Monitor(MonitorOptions options, std::unique_ptr<CriLogWriter> log)
    : options_(std::move(options)),
      files_{options_.dir},
      log_(std::move(log)),
      sync_(options_.sync_fd) {}

int Monitor::Run() {
  cgroups_path_ = CgroupsPathOf(options_.bundle);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  signals_.Reset(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));

  absl::StatusOr<Pipe> out = MakePipe();
  absl::StatusOr<Pipe> err = MakePipe();
  absl::Status started = !signals_.valid() ? ErrnoStatus("signalfd", errno)
                         : !out.ok()       ? out.status()
                         : !err.ok()       ? err.status()
                                           : StartRuntime(out->write.get(), err->write.get());
  if (!started.ok()) {
    StartReport report;
    report.error = std::string(started.message());
    Report(report);
    return 1;
  }
  // Only the container holds the write ends now: end of file means it has gone.
  out->write.Reset();
  err->write.Reset();

  UniqueFd streams[2] = {std::move(out->read), std::move(err->read)};
  const LogStream kinds[2] = {LogStream::kStdout, LogStream::kStderr};
  absl::Time drain_deadline = absl::InfiniteFuture();
  while (streams[0].valid() || streams[1].valid() || !container_done_) {
    int timeout_ms = -1;
    if (container_done_) {
      absl::Duration left = drain_deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    pollfd fds[3] = {
        {signals_.get(), POLLIN, 0}, {streams[0].get(), POLLIN, 0}, {streams[1].get(), POLLIN, 0}};
    if (::poll(fds, 3, timeout_ms) < 0 && errno != EINTR) {
      if (!container_done_) {
        exit_.exit_code = 255;
        exit_.reason = kReasonError;
        exit_.message =
            std::string(ErrnoStatus("reef-monitor lost the container: poll", errno).message());
        exit_.finished_at = absl::Now();
      }
      break;
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info;
      while (::read(signals_.get(), &info, sizeof info) > 0) {
      }
      ReapChildren();
      if (container_done_ && drain_deadline == absl::InfiniteFuture()) {
        drain_deadline = absl::Now() + kDrainAfterExit;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i + 1].revents != 0 && !Pump(streams[i].get(), kinds[i])) streams[i].Reset();
    }
  }

  absl::Status written = WriteExitRecord(files_.exit(), exit_);
  if (!written.ok()) {
    std::fprintf(stderr, "reef-monitor: %s\n", std::string(written.message()).c_str());
    return 1;
  }
  return 0;
}

absl::Status Monitor::StartRuntime(int stdout_fd, int stderr_fd) {
  std::vector<std::string> argv = options_.run_prefix;
  argv.insert(argv.end(), {options_.runtime, "--root", options_.runtime_root, "--log",
                           files_.runc_log(), "--log-format", "json", "run", "--detach", "--bundle",
                           options_.bundle, "--pid-file", files_.container_pid(), options_.id});
  // runc hands its own stdio to the container (pass-through), so these pipes become
  // the container's stdout and stderr.
  SpawnOptions spawn;
  spawn.argv = std::move(argv);
  spawn.stdout_fd = stdout_fd;
  spawn.stderr_fd = stderr_fd;
  ASSIGN_OR_RETURN(runtime_pid_, Spawn(spawn));
  return absl::OkStatus();
}

void Monitor::ReapChildren() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == runtime_pid_) {
      OnRuntimeExit(status);
    } else {
      orphans_[pid] = status;  // init, or one of runc's own helpers
    }
  }
  if (container_pid_ > 0 && !container_done_) {
    auto it = orphans_.find(container_pid_);
    if (it != orphans_.end()) OnContainerExit(it->second);
  }
  // Until runc has exited and named init, any of these may be it.
  if (container_done_) orphans_.clear();
}

void Monitor::OnRuntimeExit(int wait_status) {
  int pid = 0;
  absl::StatusOr<std::string> pid_text = ReadFileLimited(files_.container_pid(), 64);
  bool ok = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 && pid_text.ok() &&
            absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid_text), &pid) && pid > 0;
  StartReport report;
  if (ok) {
    container_pid_ = pid;
    exit_.pid = pid;
    exit_.started_at = absl::Now();
    report.pid = pid;
    report.started_at = exit_.started_at;
    Report(report);
    return;
  }
  // The container never ran: record that as its exit, as containerd does.
  container_done_ = true;
  exit_.exit_code = 128;
  exit_.reason = kReasonStartError;
  exit_.message = RuntimeError(wait_status);
  exit_.started_at = exit_.finished_at = absl::Now();
  report.error = exit_.message;
  Report(report);
}

void Monitor::OnContainerExit(int wait_status) {
  absl::Time started_at = exit_.started_at;
  absl::StatusOr<int64_t> ooms = cgroups_path_.empty()
                                     ? absl::NotFoundError("no cgroupsPath in config.json")
                                     : ReadOomKillCount(cgroups_path_);
  if (!ooms.ok()) {
    std::fprintf(stderr, "reef-monitor: OOM count: %s\n",
                 std::string(ooms.status().message()).c_str());
  }
  exit_ = RecordFromWaitStatus(wait_status, ooms.ok() && *ooms > 0);
  exit_.pid = container_pid_;
  exit_.started_at = started_at;
  exit_.finished_at = absl::Now();
  container_done_ = true;
}

bool Monitor::Pump(int fd, LogStream stream) {
  char buf[kReadChunk];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  absl::Status status = log_->Write(stream, std::string_view(buf, n));
  // One line per failure would fill the disk that is already full.
  if (!status.ok() && log_errors_++ == 0) {
    std::fprintf(stderr, "reef-monitor: log: %s\n", std::string(status.message()).c_str());
  }
  return true;
}

void Monitor::Report(const StartReport& report) {
  if (!sync_.valid()) return;
  std::string json = StartReportToJson(report);
  // The agent may be gone (SIGPIPE is ignored): then nobody needs the report.
  (void)!::write(sync_.get(), json.data(), json.size());
  sync_.Reset();
}

std::string Monitor::RuntimeError(int wait_status) const {
  absl::StatusOr<std::string> log = ReadFileLimited(files_.runc_log(), kMaxRuncLog);
  std::string message;
  if (log.ok()) {
    for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
      nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
      if (j.is_object() && j["level"] == "error" && j["msg"].is_string()) message = j["msg"];
    }
  }
  if (!message.empty()) return message;
  if (WIFSIGNALED(wait_status)) {
    return absl::StrFormat("%s killed by signal %d", options_.runtime, WTERMSIG(wait_status));
  }
  return absl::StrFormat("%s exited with status %d", options_.runtime, WEXITSTATUS(wait_status));
}

}  // namespace reef::agent::runtime
