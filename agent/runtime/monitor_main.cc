// reef-monitor: one per container, started by the agent. It detaches from the agent
// (double fork, own session) so that the container and its log survive the agent's
// death, then runs Monitor. Usage: see MonitorOptions::ToArgs.

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "agent/runtime/monitor.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

// Tells the agent waiting on the sync pipe why the container will not start.
int Fail(int sync_fd, const absl::Status& status) {
  StartReport report;
  report.error = std::string(status.message());
  std::string json = StartReportToJson(report);
  if (sync_fd < 0 || ::write(sync_fd, json.data(), json.size()) < 0) {
    std::fprintf(stderr, "reef-monitor: %s\n", std::string(status.message()).c_str());
  }
  return 1;
}

// Leaves the agent's process tree and session: the first child's parent (the agent)
// reaps it at once, and the grandchild, re-parented to init, is nobody's to wait for.
absl::Status Daemonize() {
  for (int i = 0; i < 2; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoStatus("fork", errno);
    if (pid > 0) ::_exit(0);
    if (i == 0 && ::setsid() < 0) return ErrnoStatus("setsid", errno);
  }
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return ErrnoStatus("PR_SET_CHILD_SUBREAPER", errno);
  if (::chdir("/") != 0) return ErrnoStatus("chdir /", errno);
  return absl::OkStatus();
}

// stdin from /dev/null, stdout and stderr to monitor.log for the monitor's own notes.
absl::Status RedirectStdio(const MonitorFiles& files) {
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::string path = files.dir + "/monitor.log";
  int log = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (null < 0 || log < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  ::dup2(null, 0);
  ::dup2(log, 1);
  ::dup2(log, 2);
  ::close(null);
  ::close(log);
  return absl::OkStatus();
}

// Takes monitor.pid's lock for the rest of the process's life. A short retry covers an
// agent's liveness probe, which holds a shared lock for an instant.
absl::Status LockPidFile(const MonitorFiles& files) {
  int fd = ::open(files.monitor_pid().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", files.monitor_pid()), errno);
  for (int attempt = 0; ::flock(fd, LOCK_EX | LOCK_NB) != 0; ++attempt) {
    if (errno != EWOULDBLOCK) return ErrnoStatus(reef::StrCat("lock ", files.monitor_pid()), errno);
    if (attempt == 20) {
      return absl::AlreadyExistsError(reef::StrCat("another monitor holds ", files.monitor_pid()));
    }
    ::usleep(5000);
  }
  std::string pid = absl::StrFormat("%d\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::write(fd, pid.data(), pid.size()) < 0) {
    return ErrnoStatus(reef::StrCat("write ", files.monitor_pid()), errno);
  }
  return absl::OkStatus();  // fd stays open: the lock lives as long as we do
}

int Main(int argc, char** argv) {
  absl::StatusOr<MonitorOptions> options =
      MonitorOptions::FromArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    std::fprintf(stderr, "reef-monitor: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  const int sync_fd = options->sync_fd;
  MonitorFiles files{options->dir};
  // Whatever else the agent leaked to us must not reach runc and the container.
  if (sync_fd > 3) ::close_range(3, sync_fd - 1, 0);
  ::close_range(std::max(3, sync_fd + 1), ~0U, 0);
  ::signal(SIGPIPE, SIG_IGN);
  ::umask(022);
  // Blocked before runc exists, so that no SIGCHLD can be missed; signalfd reads them.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);

  if (absl::Status s = Daemonize(); !s.ok()) return Fail(sync_fd, s);
  if (absl::Status s = RedirectStdio(files); !s.ok()) return Fail(sync_fd, s);
  if (absl::Status s = LockPidFile(files); !s.ok()) return Fail(sync_fd, s);
  absl::StatusOr<std::unique_ptr<CriLogWriter>> log = CriLogWriter::Open(options->log);
  if (!log.ok()) return Fail(sync_fd, log.status());
  return Monitor(*std::move(options), *std::move(log)).Run();
}

}  // namespace
}  // namespace reef::agent::runtime

int main(int argc, char** argv) { return reef::agent::runtime::Main(argc, argv); }
