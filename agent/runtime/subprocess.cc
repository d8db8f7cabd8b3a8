#include "agent/runtime/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "common/files.h"

extern char** environ;

namespace reef::agent::runtime {
namespace {

// Runs posix_spawn_file_actions_destroy / posix_spawnattr_destroy on scope exit.
struct SpawnState {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnState() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnState() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

void MapFd(posix_spawn_file_actions_t* actions, int ours, int theirs) {
  if (ours < 0) {
    posix_spawn_file_actions_addopen(actions, theirs, "/dev/null", O_RDWR, 0);
  } else {
    // glibc clears FD_CLOEXEC when ours == theirs, so the child keeps it either way.
    posix_spawn_file_actions_adddup2(actions, ours, theirs);
  }
}

// Appends what is readable on fd to out (up to max bytes kept); false at end of file.
bool ReadSome(int fd, std::string* out, size_t max) {
  char buf[16 * 1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  if (out->size() < max) out->append(buf, std::min<size_t>(n, max - out->size()));
  return true;
}

}  // namespace

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

absl::StatusOr<pid_t> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("spawn: empty argv");
  SpawnState state;
  MapFd(&state.actions, options.stdin_fd, 0);
  MapFd(&state.actions, options.stdout_fd, 1);
  MapFd(&state.actions, options.stderr_fd, 2);
  for (const auto& [ours, theirs] : options.extra_fds) MapFd(&state.actions, ours, theirs);

  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&state.attr, &none);
  posix_spawnattr_setsigdefault(&state.attr, &all);
  posix_spawnattr_setflags(&state.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int err = ::posix_spawnp(&pid, argv[0], &state.actions, &state.attr, argv.data(), environ);
  if (err != 0) return ErrnoStatus(reef::StrCat("start ", options.argv[0]), err);
  return pid;
}

absl::StatusOr<int> WaitForChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus(absl::StrCat("waitpid ", pid), errno);
  }
  return status;
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout, size_t max_output) {
  ASSIGN_OR_RETURN(Pipe out, MakePipe());
  ASSIGN_OR_RETURN(Pipe err, MakePipe());
  SpawnOptions spawn;
  spawn.argv = argv;
  spawn.stdout_fd = out.write.get();
  spawn.stderr_fd = err.write.get();
  ASSIGN_OR_RETURN(pid_t pid, Spawn(spawn));
  out.write.Reset();
  err.write.Reset();

  CommandResult result;
  absl::Time deadline = absl::Now() + timeout;
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out.read.get() : -1, POLLIN, 0},
                     {err_open ? err.read.get() : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) out_open = ReadSome(out.read.get(), &result.out, max_output);
    if (fds[1].revents != 0) err_open = ReadSome(err.read.get(), &result.err, max_output);
  }
  // Pipes closed but the process may still be running: give it the rest of the time.
  int status = 0;
  while (!timed_out) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return ErrnoStatus(absl::StrCat("waitpid ", pid), errno);
    if (absl::Now() >= deadline) {
      timed_out = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    (void)WaitForChild(pid);
    return absl::DeadlineExceededError(absl::StrFormat("%s: still running after %s, killed",
                                                       argv[0], absl::FormatDuration(timeout)));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return result;
}

}  // namespace reef::agent::runtime
