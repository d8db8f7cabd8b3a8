#include "agent/runtime/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
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

// Our environment with `overrides` set, as "NAME=value" strings.
std::vector<std::string> MergedEnv(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [n, v] : overrides) replaced = replaced || n == name;
    if (!replaced) out.emplace_back(entry);
  }
  for (const auto& [n, v] : overrides) out.push_back(reef::StrCat(n, "=", v));
  return out;
}

// Writes what it can of data[*written..] to a non-blocking fd; false once nothing more
// will be written (all of it, or the reader went away).
bool WriteSome(int fd, const std::string& data, size_t* written) {
  // MSG_NOSIGNAL: a child that exits without reading its input must not SIGPIPE us.
  ssize_t n = ::send(fd, data.data() + *written, data.size() - *written, MSG_NOSIGNAL);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  *written += static_cast<size_t>(n);
  return *written < data.size();
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
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  if (!options.env.empty()) {
    env_strings = MergedEnv(options.env);
    for (std::string& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
  }
  pid_t pid = -1;
  int err = ::posix_spawnp(&pid, argv[0], &state.actions, &state.attr, argv.data(),
                           options.env.empty() ? environ : env.data());
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
  CommandOptions options;
  options.timeout = timeout;
  options.max_output = max_output;
  return RunCommand(argv, options);
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const CommandOptions& options) {
  ASSIGN_OR_RETURN(Pipe out, MakePipe());
  ASSIGN_OR_RETURN(Pipe err, MakePipe());
  // Input goes through a socket rather than a pipe so that send(MSG_NOSIGNAL) can
  // write it: the process may not ignore SIGPIPE, and a plugin may exit unread.
  UniqueFd in_ours, in_theirs;
  if (!options.stdin_data.empty()) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return ErrnoStatus("socketpair", errno);
    }
    in_ours.Reset(fds[0]);
    in_theirs.Reset(fds[1]);
    ::shutdown(in_ours.get(), SHUT_RD);
    ::fcntl(in_ours.get(), F_SETFL, ::fcntl(in_ours.get(), F_GETFL) | O_NONBLOCK);
  }
  SpawnOptions spawn;
  spawn.argv = argv;
  spawn.stdin_fd = in_theirs.get();
  spawn.stdout_fd = out.write.get();
  spawn.stderr_fd = err.write.get();
  spawn.env = options.env;
  ASSIGN_OR_RETURN(pid_t pid, Spawn(spawn));
  in_theirs.Reset();
  out.write.Reset();
  err.write.Reset();

  CommandResult result;
  const absl::Duration timeout = options.timeout;
  absl::Time deadline = absl::Now() + timeout;
  size_t written = 0;
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      break;
    }
    pollfd fds[3] = {{out_open ? out.read.get() : -1, POLLIN, 0},
                     {err_open ? err.read.get() : -1, POLLIN, 0},
                     {in_ours.get(), POLLOUT, 0}};
    int n = ::poll(fds, 3, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) out_open = ReadSome(out.read.get(), &result.out, options.max_output);
    if (fds[1].revents != 0) err_open = ReadSome(err.read.get(), &result.err, options.max_output);
    // Closing our end once everything is written is the child's end of file.
    if (fds[2].revents != 0 && !WriteSome(in_ours.get(), options.stdin_data, &written)) {
      in_ours.Reset();
    }
  }
  in_ours.Reset();
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
