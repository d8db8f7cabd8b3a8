#pragma once
// Child processes for integration tests that start real Reef binaries (in the spirit of
// containerd's integration/client/daemon.go). Test support, so failures to set things up
// throw: doctest reports an escaped exception as a failed test with its message.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reef::testing {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct RunResult {
  int exit_code = 0;  // -signal if the child was killed by a signal (-9 on timeout).
  std::string out;
  std::string err;
};

// Runs argv to completion, feeding it stdin_data and capturing stdout and stderr
// separately. argv[0] is looked up in PATH unless it contains a '/'. The child's
// environment is ours with extra_env overriding. A child that exits without reading
// all of stdin is fine. On timeout the child's process group is SIGKILLed, exit_code
// is -9 and err ends with a note saying so. Throws if the program cannot be started.
RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_data = "",
              std::chrono::milliseconds timeout = std::chrono::seconds(60),
              const EnvList& extra_env = {});

// A long-running child (a daemon under test) with stdout and stderr piped and stdin
// from /dev/null. It leads its own process group; destroying the Process SIGKILLs that
// group and reaps the child, so a failing test leaves nothing behind.
class Process {
 public:
  // Throws if the program cannot be started.
  static Process Start(const std::vector<std::string>& argv, const EnvList& extra_env = {});

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  // Reads stdout until a line (without its '\n') satisfies match and returns it, or
  // nullopt on timeout or end of stdout. Each line is offered to match once across
  // calls, including lines read meanwhile by other members. A final line without '\n'
  // counts once stdout ends.
  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds timeout);

  // Every complete stdout line read so far (does not read more).
  const std::vector<std::string>& lines() const { return lines_; }
  // All of stdout read so far, after reading whatever is available now.
  std::string Output();
  // All of stderr read so far, after reading whatever is available now.
  std::string Stderr();

  // Sends sig to the child itself (not its group); a no-op once it has been reaped.
  void Signal(int sig);
  // Waits for the child to exit, reading its output meanwhile so a full pipe cannot
  // stall it. Returns the exit code or -signal; on timeout SIGKILLs the group (-9).
  int Wait(std::chrono::milliseconds timeout);
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  Process() = default;

  // Reads what stdout and stderr have, waiting up to timeout for the first data.
  void Pump(std::chrono::milliseconds timeout);
  void OnStdout(std::string_view data);
  void OnStdoutEof();
  // Kills the group, reaps the child and closes the pipes.
  void Reset();
  bool TryReap();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  int exit_code_ = 0;
  std::string out_;
  std::string err_;
  std::string partial_line_;
  std::vector<std::string> lines_;
  size_t next_line_ = 0;  // First line WaitForLine has not offered to a matcher yet.
};

// The whole content of a file; "" when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// A fresh folder under $TMPDIR (or /tmp) named reef-test-XXXXXX, removed with its
// contents on destruction.
class TempDir {
 public:
  TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  void Remove() noexcept;

  std::string path_;
};

// The absolute path of a built Reef binary: $REEF_BIN_DIR/name. Throws
// std::runtime_error when REEF_BIN_DIR is unset, i.e. outside ctest.
std::string BinaryPath(std::string_view name);

}  // namespace reef::testing
