#include "tests/support/process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <doctest/doctest.h>

namespace reef::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// 12 MB of varied bytes: bigger than any pipe buffer by far, and not all one value so a
// reordering or truncation would show.
std::string BigInput() {
  std::string data(12 * 1024 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  }
  return data;
}

// Dead means gone, or a zombie waiting for a reaper we do not control (PID 1 in a
// container may never reap an orphaned grandchild).
bool IsDead(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = content.rfind(')');
  return paren == std::string::npos || (paren + 2 < content.size() && content[paren + 2] == 'Z');
}

bool EventuallyDead(pid_t pid) {
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    if (IsDead(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// Sets or unsets an environment variable for a scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_CASE("Run captures stdout, stderr and the exit code separately") {
  const RunResult r = Run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
}

TEST_CASE("Run reports death by signal as -signal") {
  const RunResult r = Run({"sh", "-c", "kill -TERM $$"});
  CHECK(r.exit_code == -SIGTERM);
}

TEST_CASE("Run passes stdin through") {
  CHECK(Run({"cat"}, "hello\nworld").out == "hello\nworld");

  const std::string big = BigInput();
  const RunResult r = Run({"cat"}, big, 30s);
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == big.size());
  CHECK(r.out == big);
}

TEST_CASE("Run does not hang when the child exits without reading stdin") {
  const auto start = Clock::now();
  const RunResult r = Run({"true"}, BigInput(), 30s);
  CHECK(r.exit_code == 0);
  CHECK(Clock::now() - start < 10s);
}

TEST_CASE("Run kills the child on timeout") {
  const auto start = Clock::now();
  const RunResult r = Run({"sh", "-c", "echo partial; sleep 10"}, "", 200ms);
  const auto elapsed = Clock::now() - start;
  CHECK(r.exit_code == -9);
  CHECK(r.out == "partial\n");
  CHECK(r.err.find("timed out") != std::string::npos);
  CHECK(elapsed >= 200ms);
  CHECK(elapsed < 5s);

  CHECK(Run({"sleep", "10"}, "", 200ms).exit_code == -9);
}

TEST_CASE("Run passes extra_env on top of the parent's environment") {
  const RunResult r = Run({"sh", "-c", "echo \"$REEF_TEST_X $HOME\""}, "", 10s,
                          {{"REEF_TEST_X", "42"}, {"HOME", "/nowhere"}});
  CHECK(r.out == "42 /nowhere\n");
  // PATH still comes through from the parent.
  CHECK(Run({"sh", "-c", "command -v cat"}).exit_code == 0);
}

TEST_CASE("Starting a program that does not exist throws") {
  CHECK_THROWS(Run({"reef-no-such-program-xyz"}));
  CHECK_THROWS(Run({"/nonexistent/reef-program"}));
  CHECK_THROWS(Process::Start({"reef-no-such-program-xyz"}));
  CHECK_THROWS_AS(Run({}), std::invalid_argument);
}

TEST_CASE("Process::WaitForLine reads lines as they come") {
  Process p = Process::Start(
      {"sh", "-c",
       "echo starting; sleep 0.2; echo warming >&2; echo 'ready port=1234'; sleep 0.2; "
       "printf 'done'"});
  CHECK(p.Running());

  const std::optional<std::string> ready =
      p.WaitForLine([](const std::string& l) { return l.starts_with("ready"); }, 10s);
  REQUIRE(ready.has_value());
  CHECK(*ready == "ready port=1234");
  REQUIRE(p.lines().size() >= 2);
  CHECK(p.lines()[0] == "starting");

  // A last line without '\n' still counts once stdout ends.
  CHECK(p.WaitForLine([](const std::string& l) { return l == "done"; }, 10s) == "done");
  CHECK(p.Wait(10s) == 0);
  CHECK_FALSE(p.Running());
  CHECK(p.Stderr() == "warming\n");
  CHECK(p.Output() == "starting\nready port=1234\ndone");

  // Lines are offered once; at end of stdout there is nothing more to wait for.
  const auto start = Clock::now();
  CHECK_FALSE(p.WaitForLine([](const std::string&) { return true; }, 10s).has_value());
  CHECK(Clock::now() - start < 1s);
}

TEST_CASE("Process::WaitForLine gives up on timeout") {
  Process p = Process::Start({"sh", "-c", "echo hello; exec sleep 100"});
  const auto start = Clock::now();
  CHECK_FALSE(p.WaitForLine([](const std::string& l) { return l == "never"; }, 150ms));
  CHECK(Clock::now() - start >= 150ms);
  CHECK(p.lines() == std::vector<std::string>{"hello"});
  CHECK(p.Running());
}

TEST_CASE("Process::Wait drains output so a chatty child can finish") {
  // 1 MB to each pipe: far past the pipe buffers, so the child blocks unless we read.
  Process p = Process::Start(
      {"sh", "-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; exit 7"});
  CHECK(p.Wait(30s) == 7);
  CHECK(p.Output().size() == 1048576);
  CHECK(p.Stderr().size() == 1048576);
}

TEST_CASE("Process::Signal and Wait report the signal") {
  Process p = Process::Start({"sleep", "100"});
  p.Signal(SIGTERM);
  CHECK(p.Wait(10s) == -SIGTERM);
  CHECK_FALSE(p.Running());
}

TEST_CASE("Process::Wait kills the child on timeout") {
  Process p = Process::Start({"sleep", "100"});
  const auto start = Clock::now();
  CHECK(p.Wait(100ms) == -SIGKILL);
  CHECK(Clock::now() - start < 5s);
  CHECK_FALSE(p.Running());
}

TEST_CASE("Process destructor kills and reaps the child") {
  pid_t pid = -1;
  {
    Process p = Process::Start({"sleep", "100"});
    pid = p.pid();
    REQUIRE(pid > 0);
    CHECK(p.Running());
    CHECK(kill(pid, 0) == 0);
  }
  // Reaped by the destructor, so not even a zombie remains.
  errno = 0;
  CHECK(kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}

TEST_CASE("Process destructor kills grandchildren through the process group") {
  pid_t grandchild = -1;
  {
    Process p = Process::Start({"sh", "-c", "sleep 100 & echo $!; wait"});
    const std::optional<std::string> line =
        p.WaitForLine([](const std::string& l) { return !l.empty(); }, 10s);
    REQUIRE(line.has_value());
    grandchild = std::stoi(*line);
    REQUIRE(grandchild > 0);
    CHECK(kill(grandchild, 0) == 0);
  }
  CHECK(EventuallyDead(grandchild));
}

TEST_CASE("A moved Process keeps owning the child") {
  Process a = Process::Start({"sleep", "100"});
  const pid_t pid = a.pid();
  Process b = std::move(a);
  CHECK(b.pid() == pid);
  CHECK(b.Running());
  b = Process::Start({"true"});  // Kills and reaps the sleep.
  errno = 0;
  CHECK(kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
  CHECK(b.Wait(10s) == 0);
}

TEST_CASE("TempDir is unique and removed with its contents") {
  std::string path;
  {
    TempDir dir;
    TempDir other;
    path = dir.path();
    CHECK(path != other.path());
    CHECK(std::filesystem::path(path).filename().string().starts_with("reef-test-"));
    REQUIRE(std::filesystem::is_directory(path));
    std::filesystem::create_directories(path + "/a/b");
    std::ofstream(path + "/a/b/file") << "x";
    CHECK(std::filesystem::exists(path + "/a/b/file"));
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("TempDir honours TMPDIR") {
  TempDir base;
  ScopedEnv tmpdir("TMPDIR", base.path().c_str());
  TempDir dir;
  CHECK(std::filesystem::path(dir.path()).parent_path() == base.path());
}

TEST_CASE("BinaryPath finds binaries in REEF_BIN_DIR, else beside the test") {
  TempDir dir;
  std::string tool = dir.path() + "/reef-tool";
  std::ofstream(tool) << "#!/bin/sh\n";
  {
    ScopedEnv bin_dir("REEF_BIN_DIR", dir.path().c_str());
    CHECK(BinaryPath("reef-tool") == tool);
    CHECK_THROWS_WITH_AS(BinaryPath("missing"),
                         (dir.path() + "/missing does not exist: build it first (scripts/build.sh)").c_str(),
                         std::runtime_error);
  }
  {
    ScopedEnv bin_dir("REEF_BIN_DIR", nullptr);
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string name = std::filesystem::path(self).filename().string();
    CHECK(BinaryPath(name) == self);
  }
}

}  // namespace
}  // namespace reef::testing
