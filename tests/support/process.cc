#include "tests/support/process.h"

#include "common/unique_fd.h"

#include <fstream>
#include <sstream>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace reef::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadChunk = 64 * 1024;
// Reads per fd per wake-up, so a child that writes without pause cannot pin us.
constexpr int kMaxReadsPerWake = 64;
constexpr milliseconds kMaxReapPoll{10};

std::system_error ErrnoError(const std::string& what, int err = errno) {
  return std::system_error(err, std::generic_category(), what);
}

using reef::UniqueFd;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// O_CLOEXEC so that neither end leaks into this or any other child; posix_spawn's dup2
// onto 0/1/2 gives the child a copy without the flag.
Pipe MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw ErrnoError("pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw ErrnoError("fcntl O_NONBLOCK");
}

bool HasKey(std::string_view entry, const std::string& key) {
  return entry.size() > key.size() && entry.starts_with(key) && entry[key.size()] == '=';
}

std::vector<std::string> BuildEnv(const EnvList& extra_env) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& [key, value] : extra_env) {
    std::erase_if(env, [&](const std::string& entry) { return HasKey(entry, key); });
    env.push_back(key + "=" + value);
  }
  return env;
}

// Searches the child's PATH (so extra_env can change it), like execvp would.
std::string ResolveProgram(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view path_var = "/bin:/usr/bin";  // execvp's default when PATH is unset.
  for (const std::string& entry : env) {
    if (HasKey(entry, "PATH")) path_var = std::string_view(entry).substr(5);
  }
  while (true) {
    const size_t colon = path_var.find(':');
    std::string dir(path_var.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    path_var.remove_prefix(colon + 1);
  }
  throw std::runtime_error("reef::testing: cannot find executable '" + name + "' in PATH");
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> ptrs;
  ptrs.reserve(strings.size() + 1);
  for (std::string& s : strings) ptrs.push_back(s.data());
  ptrs.push_back(nullptr);
  return ptrs;
}

struct Child {
  pid_t pid = -1;
  UniqueFd in;  // Unset when stdin is /dev/null.
  UniqueFd out;
  UniqueFd err;
};

// posix_spawn rather than fork: no async-signal-safety rules to follow in the child, and
// glibc reports exec failures (ENOENT, EACCES) as its return value.
Child Spawn(const std::vector<std::string>& argv, const EnvList& extra_env, bool pipe_stdin) {
  if (argv.empty()) throw std::invalid_argument("reef::testing: empty argv");
  std::vector<std::string> env = BuildEnv(extra_env);
  const std::string program = ResolveProgram(argv[0], env);
  std::vector<std::string> args = argv;
  std::vector<char*> arg_ptrs = CStrings(args);
  std::vector<char*> env_ptrs = CStrings(env);

  Pipe in;
  if (pipe_stdin) in = MakePipe();
  Pipe out = MakePipe();
  Pipe err = MakePipe();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (pipe_stdin) {
    posix_spawn_file_actions_adddup2(&actions, in.read.get(), STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);

  // Own process group, so killing it takes grandchildren along. Default signal
  // dispositions and an empty mask: the child must not inherit whatever the test runner
  // ignores or blocks (Run blocks SIGPIPE, for one).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);
  sigfillset(&signals);
  posix_spawnattr_setsigdefault(&attr, &signals);

  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, program.c_str(), &actions, &attr, arg_ptrs.data(), env_ptrs.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw ErrnoError("reef::testing: cannot start " + program, rc);

  Child child;
  child.pid = pid;
  if (pipe_stdin) {
    child.in = std::move(in.write);
    SetNonBlocking(child.in.get());
  }
  child.out = std::move(out.read);
  child.err = std::move(err.read);
  SetNonBlocking(child.out.get());
  SetNonBlocking(child.err.get());
  return child;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

// Blocking reap; returns the decoded status, or -1 if the child was already gone.
int Reap(pid_t pid) {
  int status = 0;
  while (true) {
    const pid_t rc = waitpid(pid, &status, 0);
    if (rc == pid) return DecodeStatus(status);
    if (rc < 0 && errno != EINTR) return -1;
  }
}

// Returns the decoded status if the child has exited (or was reaped elsewhere).
std::optional<int> TryReapPid(pid_t pid) {
  int status = 0;
  while (true) {
    const pid_t rc = waitpid(pid, &status, WNOHANG);
    if (rc == pid) return DecodeStatus(status);
    if (rc == 0) return std::nullopt;
    if (errno != EINTR) return -1;  // ECHILD: nothing left to wait for.
  }
}

void KillGroup(pid_t pid) { kill(-pid, SIGKILL); }

int PollMs(milliseconds timeout) {
  if (timeout.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(timeout.count(), INT_MAX));
}

milliseconds Remaining(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(deadline - Clock::now()));
}

// Reads what a non-blocking fd has into sink. Returns false at end of file (or on a read
// error, which is as final), true when it would block.
template <typename Sink>
bool ReadAvailable(int fd, Sink&& sink) {
  char buf[kReadChunk];
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      sink(std::string_view(buf, static_cast<size_t>(n)));
    } else if (n == 0) {
      return false;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;
    } else if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

// Blocks SIGPIPE in this thread for a scope, so that writing to a child that stopped
// reading gives EPIPE rather than killing the test binary; swallows the SIGPIPE that
// becomes pending. Leaves the process-wide disposition alone.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;
  ~ScopedSigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        const timespec zero{};
        while (sigtimedwait(&set, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// Kills and reaps a Run child if Run leaves early by an exception.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ > 0) {
      KillGroup(pid_);
      Reap(pid_);
    }
  }
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
};

}  // namespace

RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_data,
              std::chrono::milliseconds timeout, const EnvList& extra_env) {
  const Clock::time_point deadline = Clock::now() + timeout;
  ScopedSigpipeBlock sigpipe_block;
  Child child = Spawn(argv, extra_env, /*pipe_stdin=*/true);
  ChildGuard guard(child.pid);
  RunResult result;

  // One poll loop for all three pipes: the child may fill stdout or stderr before it
  // reads its stdin, or never read it at all.
  size_t written = 0;
  if (stdin_data.empty()) child.in.Reset();
  bool timed_out = false;
  while (child.in || child.out || child.err) {
    const milliseconds remaining = Remaining(deadline);
    if (remaining.count() == 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    int in_index = -1, out_index = -1, err_index = -1;
    if (child.in) {
      in_index = static_cast<int>(n);
      fds[n++] = {child.in.get(), POLLOUT, 0};
    }
    if (child.out) {
      out_index = static_cast<int>(n);
      fds[n++] = {child.out.get(), POLLIN, 0};
    }
    if (child.err) {
      err_index = static_cast<int>(n);
      fds[n++] = {child.err.get(), POLLIN, 0};
    }
    const int ready = poll(fds, n, PollMs(remaining));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw ErrnoError("poll");
    }
    if (in_index >= 0 && fds[in_index].revents != 0) {
      const ssize_t w =
          write(child.in.get(), stdin_data.data() + written, stdin_data.size() - written);
      if (w > 0) {
        written += static_cast<size_t>(w);
        if (written == stdin_data.size()) child.in.Reset();
      } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        child.in.Reset();  // EPIPE: the child will not read the rest; that is its call.
      }
    }
    if (out_index >= 0 && fds[out_index].revents != 0 &&
        !ReadAvailable(child.out.get(), [&](std::string_view d) { result.out.append(d); })) {
      child.out.Reset();
    }
    if (err_index >= 0 && fds[err_index].revents != 0 &&
        !ReadAvailable(child.err.get(), [&](std::string_view d) { result.err.append(d); })) {
      child.err.Reset();
    }
  }

  // Output closed; the child may still be on its way out (or have closed it early).
  milliseconds nap(1);
  while (!timed_out) {
    if (std::optional<int> code = TryReapPid(child.pid)) {
      guard.Release();
      result.exit_code = *code;
      return result;
    }
    const milliseconds remaining = Remaining(deadline);
    if (remaining.count() == 0) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::min(nap, remaining));
    nap = std::min(nap * 2, kMaxReapPoll);
  }

  KillGroup(child.pid);
  Reap(child.pid);
  guard.Release();
  // Keep what the child wrote before it died.
  if (child.out) ReadAvailable(child.out.get(), [&](std::string_view d) { result.out.append(d); });
  if (child.err) ReadAvailable(child.err.get(), [&](std::string_view d) { result.err.append(d); });
  result.exit_code = -SIGKILL;
  if (!result.err.empty() && result.err.back() != '\n') result.err += '\n';
  result.err += "[reef::testing::Run: timed out after " + std::to_string(timeout.count()) +
                " ms; killed the process group with SIGKILL]\n";
  return result;
}

Process Process::Start(const std::vector<std::string>& argv, const EnvList& extra_env) {
  Child child = Spawn(argv, extra_env, /*pipe_stdin=*/false);
  Process process;
  process.pid_ = child.pid;
  process.out_fd_ = child.out.Release();
  process.err_fd_ = child.err.Release();
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      reaped_(other.reaped_),
      exit_code_(other.exit_code_),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)),
      partial_line_(std::move(other.partial_line_)),
      lines_(std::move(other.lines_)),
      next_line_(std::exchange(other.next_line_, 0)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Reset();
    pid_ = std::exchange(other.pid_, -1);
    out_fd_ = std::exchange(other.out_fd_, -1);
    err_fd_ = std::exchange(other.err_fd_, -1);
    reaped_ = other.reaped_;
    exit_code_ = other.exit_code_;
    out_ = std::move(other.out_);
    err_ = std::move(other.err_);
    partial_line_ = std::move(other.partial_line_);
    lines_ = std::move(other.lines_);
    next_line_ = std::exchange(other.next_line_, 0);
  }
  return *this;
}

Process::~Process() { Reset(); }

void Process::Reset() {
  if (pid_ > 0) {
    // The whole group, even if the leader is already reaped: its children may live on.
    KillGroup(pid_);
    if (!reaped_) Reap(pid_);
    reaped_ = true;
  }
  pid_ = -1;
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
  out_fd_ = err_fd_ = -1;
}

void Process::OnStdout(std::string_view data) {
  out_.append(data);
  size_t scan_from = partial_line_.size();
  partial_line_.append(data);
  size_t start = 0;
  for (size_t nl; (nl = partial_line_.find('\n', scan_from)) != std::string::npos;) {
    lines_.emplace_back(partial_line_, start, nl - start);
    start = scan_from = nl + 1;
  }
  partial_line_.erase(0, start);
}

void Process::OnStdoutEof() {
  if (!partial_line_.empty()) lines_.push_back(std::move(partial_line_));
  partial_line_.clear();
  close(out_fd_);
  out_fd_ = -1;
}

void Process::Pump(std::chrono::milliseconds timeout) {
  pollfd fds[2];
  nfds_t n = 0;
  if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  if (n == 0) {
    if (timeout.count() > 0) std::this_thread::sleep_for(timeout);
    return;
  }
  if (poll(fds, n, PollMs(timeout)) <= 0) return;  // Timeout or EINTR: callers loop.
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == out_fd_) {
      if (!ReadAvailable(out_fd_, [this](std::string_view d) { OnStdout(d); })) OnStdoutEof();
    } else if (!ReadAvailable(err_fd_, [this](std::string_view d) { err_.append(d); })) {
      close(err_fd_);
      err_fd_ = -1;
    }
  }
}

std::optional<std::string> Process::WaitForLine(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    while (next_line_ < lines_.size()) {
      const std::string& line = lines_[next_line_++];
      if (match(line)) return line;
    }
    if (out_fd_ < 0) return std::nullopt;  // End of stdout; every line has been offered.
    const milliseconds remaining = Remaining(deadline);
    if (remaining.count() == 0) return std::nullopt;
    Pump(remaining);
  }
}

std::string Process::Output() {
  Pump(milliseconds(0));
  return out_;
}

std::string Process::Stderr() {
  Pump(milliseconds(0));
  return err_;
}

void Process::Signal(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

bool Process::TryReap() {
  if (reaped_) return true;
  if (pid_ <= 0) return false;
  if (std::optional<int> code = TryReapPid(pid_)) {
    reaped_ = true;
    exit_code_ = *code;
  }
  return reaped_;
}

int Process::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_;
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!TryReap()) {
    const milliseconds remaining = Remaining(deadline);
    if (remaining.count() == 0) {
      KillGroup(pid_);
      exit_code_ = Reap(pid_);
      reaped_ = true;
      break;
    }
    // Keep reading meanwhile: a child blocked on a full pipe would never exit.
    Pump(std::min(remaining, kMaxReapPoll));
  }
  Pump(milliseconds(0));
  return exit_code_;
}

bool Process::Running() { return pid_ > 0 && !TryReap(); }

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

TempDir::TempDir() {
  const char* tmpdir = getenv("TMPDIR");
  std::string base = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string templ = base + "/reef-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw ErrnoError("mkdtemp " + templ);
  path_ = std::move(templ);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() { Remove(); }

void TempDir::Remove() noexcept {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
  path_.clear();
}

std::string BinaryPath(std::string_view name) {
  // The test binaries are built next to reef-controller and reefctl (build/bin), so
  // without REEF_BIN_DIR the binaries are looked for beside this executable.
  const char* dir = getenv("REEF_BIN_DIR");
  std::filesystem::path base;
  if (dir != nullptr && *dir != '\0') {
    base = std::filesystem::absolute(dir);
  } else {
    std::error_code ec;
    base = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    if (ec) throw std::runtime_error("REEF_BIN_DIR is not set and /proc/self/exe is unreadable");
  }
  std::filesystem::path path = (base / std::string(name)).lexically_normal();
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path.string() + " does not exist: build it first (scripts/build.sh)");
  }
  return path.string();
}

}  // namespace reef::testing
