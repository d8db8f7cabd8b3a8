// Real containers: runc, reef-monitor and a busybox-static rootfs built here. Needs
// root, runc and busybox-static; fails (does not skip) without them.

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>

#include "absl/strings/str_format.h"
#include "agent/runtime/cgroups.h"
#include "agent/runtime/cri_log.h"
#include "agent/runtime/monitor_protocol.h"
#include "agent/runtime/oci_spec.h"
#include "agent/runtime/runc_runtime.h"
#include "agent/runtime/subprocess.h"
#include "common/files.h"
#include "tests/support/process.h"

namespace reef::agent::runtime {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

constexpr absl::Duration kExitTimeout = absl::Seconds(20);
const char* const kApplets[] = {"sh",  "echo", "sleep", "cat",   "true", "false",
                                "yes", "head", "dd",    "touch", "test", "["};

enum class Flavor { kRunc, kCrun };

// Fails the test where it cannot run, saying what is missing.
void RequireEnvironment(const std::string& binary) {
  REQUIRE_MESSAGE(::geteuid() == 0,
                  "runtime e2e tests need root: runc makes namespaces and cgroups");
  REQUIRE_MESSAGE(fs::exists("/bin/busybox"),
                  "/bin/busybox missing: apt-get install busybox-static");
  absl::StatusOr<CommandResult> version = RunCommand({binary, "--version"}, absl::Seconds(10));
  REQUIRE_MESSAGE((version.ok() && version->exit_code == 0), binary, " missing: apt-get install ",
                  binary);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The records of a CRI log file, failing the test on one that does not parse.
std::vector<CriRecord> Records(const std::string& path) {
  std::vector<CriRecord> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    absl::StatusOr<CriRecord> r = ParseCriRecord(line);
    INFO(path, ": ", line);
    REQUIRE(r.ok());
    out.push_back(*std::move(r));
  }
  return out;
}

bool HasLine(const std::vector<CriRecord>& records, LogStream stream, const std::string& content) {
  return std::any_of(records.begin(), records.end(), [&](const CriRecord& r) {
    return r.stream == stream && !r.partial && r.content == content;
  });
}

// SIGKILLs and reaps a child of the test, at the latest when the test ends.
struct KilledOnExit {
  explicit KilledOnExit(pid_t p) : pid(p) {}
  KilledOnExit(const KilledOnExit&) = delete;
  KilledOnExit& operator=(const KilledOnExit&) = delete;
  ~KilledOnExit() { Kill(); }
  void Kill() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  pid_t pid;
};

bool Eventually(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// One rootfs, one runc root and one cgroup parent per test; every container made
// through it is deleted, with its cgroups, when the test ends, also when it fails.
class RuncFixture {
 public:
  struct Options {
    explicit Options(Strings cmd) : command(std::move(cmd)) {}
    Options& Log(int64_t max_bytes, int max_files) {
      log_max_bytes = max_bytes;
      log_max_files = max_files;
      return *this;
    }
    Options& MemoryLimit(std::string limit) {
      memory_limit = std::move(limit);
      return *this;
    }
    Options& Mount(BindMount mount) {
      mounts.push_back(std::move(mount));
      return *this;
    }

    Strings command;
    int64_t log_max_bytes = 1 << 20;
    int log_max_files = 3;
    std::string memory_limit;
    std::vector<BindMount> mounts;
  };
  struct Container {
    std::string id;
    std::string bundle;
    std::string log;
  };

  explicit RuncFixture(Flavor flavor = Flavor::kRunc) {
    const std::string binary = flavor == Flavor::kRunc ? "runc" : "crun";
    RequireEnvironment(binary);
    static std::atomic<int> counter{0};
    tag_ = absl::StrFormat("rt%d-%d", ::getpid(), counter++);
    cgroup_parent_ = "/reef-e2e-" + tag_;
    rootfs_ = dir_.path() + "/rootfs";
    fs::create_directories(rootfs_ + "/bin");
    fs::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
    for (const char* applet : kApplets) fs::create_symlink("busybox", rootfs_ + "/bin/" + applet);

    RuncOptions options;
    options.binary = binary;
    options.root = dir_.path() + "/runc";
    options.monitor_dir = dir_.path() + "/monitors";
    options.monitor_binary = reef::testing::BinaryPath("reef-monitor");
    REQUIRE_MESSAGE(fs::exists(options.monitor_binary),
                    "reef-monitor not built: ", options.monitor_binary);
    runtime_options_ = options;
    absl::StatusOr<std::unique_ptr<Runtime>> runtime =
        flavor == Flavor::kRunc ? OpenRuncRuntime(options) : OpenCrunRuntime(options);
    INFO(runtime.status().ToString());
    REQUIRE(runtime.ok());
    runtime_ = *std::move(runtime);
  }

  ~RuncFixture() {
    for (const std::string& id : ids_) {
      if (!runtime_->Delete(id, /*force=*/true).ok()) {
        (void)RunCommand(
            {runtime_options_.binary, "--root", runtime_options_.root, "delete", "--force", id},
            absl::Seconds(10));
      }
      (void)RemoveCgroup(CgroupPath(id));
    }
    (void)RemoveCgroup(cgroup_parent_);
  }

  Runtime& runtime() { return *runtime_; }
  const std::string& dir() const { return dir_.path(); }
  const RuncOptions& runtime_options() const { return runtime_options_; }
  std::string CgroupPath(const std::string& id) const { return cgroup_parent_ + "/" + id; }
  std::string MonitorDir(const std::string& id) const {
    return runtime_options_.monitor_dir + "/" + id;
  }

  // Writes the bundle of a new container (config.json from BuildSpec), not started.
  Container Prepare(const std::string& name, const Options& o) {
    Container c;
    c.id = tag_ + "-" + name;
    ids_.push_back(c.id);
    c.bundle = dir_.path() + "/bundles/" + c.id;
    c.log = dir_.path() + "/logs/" + c.id + ".log";
    fs::create_directories(c.bundle);

    reef::v1::Pod pod;
    pod.mutable_metadata()->set_name(name);
    pod.mutable_metadata()->set_uid("uid-" + c.id);
    reef::v1::Container* spec = pod.mutable_spec()->add_containers();
    spec->set_name(name);
    for (const std::string& arg : o.command) spec->add_command(arg);
    if (!o.memory_limit.empty())
      (*spec->mutable_resources()->mutable_limits())["memory"] = o.memory_limit;
    SpecOptions spec_options;
    spec_options.rootfs = rootfs_;
    spec_options.cgroups_path = CgroupPath(c.id);
    spec_options.mounts = o.mounts;
    spec_options.nofile = DefaultNofile();
    absl::StatusOr<nlohmann::json> config = BuildSpec(pod, *spec, spec_options);
    INFO(config.status().ToString());
    REQUIRE(config.ok());
    REQUIRE(WriteSpec(c.bundle, *config).ok());
    return c;
  }

  // Deletes `id` with the fixture too (for containers started with runc directly).
  void Track(const std::string& id) { ids_.push_back(id); }

  RunOptions RunOptionsFor(const Container& c, const Options& o) const {
    RunOptions run;
    run.id = c.id;
    run.bundle = c.bundle;
    run.log.path = c.log;
    run.log.max_bytes = o.log_max_bytes;
    run.log.max_files = o.log_max_files;
    return run;
  }

  // Prepares and runs a container through its monitor.
  Container Start(const std::string& name, const Options& o) {
    Container c = Prepare(name, o);
    absl::StatusOr<Started> started = runtime_->Run(RunOptionsFor(c, o));
    INFO(started.status().ToString());
    REQUIRE(started.ok());
    CHECK(started->pid > 0);
    return c;
  }

  ExitRecord WaitForExit(const Container& c) {
    absl::StatusOr<ExitRecord> exit = runtime_->WaitForExit(c.id, kExitTimeout);
    INFO(exit.status().ToString(), "\nlog:\n", ReadAll(c.log));
    REQUIRE(exit.ok());
    return *exit;
  }

  // Waits until the container's log has `content` as a full line on stdout.
  void WaitForOutput(const Container& c, const std::string& content) {
    bool seen = Eventually([&] { return HasLine(Records(c.log), LogStream::kStdout, content); });
    INFO("log:\n", ReadAll(c.log));
    REQUIRE_MESSAGE(seen, "no line \"", content, "\" on stdout");
  }

 private:
  reef::testing::TempDir dir_;
  std::string tag_;
  std::string cgroup_parent_;
  std::string rootfs_;
  RuncOptions runtime_options_;
  std::unique_ptr<Runtime> runtime_;
  Strings ids_;
};

using Options = RuncFixture::Options;

TEST_CASE("stdout and stderr lines reach the log with stream tags and timestamps") {
  RuncFixture f;
  absl::Time before = absl::Now();
  auto c =
      f.Start("echo", Options({"sh", "-c", "echo out-1; echo err-1 >&2; echo out-2; printf tail"}));
  ExitRecord exit = f.WaitForExit(c);
  absl::Time after = absl::Now();
  CHECK(exit.exit_code == 0);
  CHECK(exit.signal == 0);
  CHECK(exit.reason == "Completed");
  CHECK(exit.started_at >= before);
  CHECK(exit.finished_at >= exit.started_at);

  // Complete once the exit is recorded: the monitor drains the pipes first.
  std::vector<CriRecord> records = Records(c.log);
  INFO("log:\n", ReadAll(c.log));
  CHECK(HasLine(records, LogStream::kStdout, "out-1"));
  CHECK(HasLine(records, LogStream::kStderr, "err-1"));
  CHECK(HasLine(records, LogStream::kStdout, "out-2"));
  REQUIRE(records.size() == 4);
  // The streams are separate pipes: their relative order is not kept, each one's is.
  auto tail =
      std::find_if(records.begin(), records.end(), [](auto& r) { return r.content == "tail"; });
  REQUIRE(tail != records.end());
  CHECK(tail->partial);                 // it never got its newline
  for (const CriRecord& r : records) {  // stamped when read, which may follow the exit
    CHECK(r.time >= before);
    CHECK(r.time <= after);
  }
  auto out1 =
      std::find_if(records.begin(), records.end(), [](auto& r) { return r.content == "out-1"; });
  auto out2 =
      std::find_if(records.begin(), records.end(), [](auto& r) { return r.content == "out-2"; });
  CHECK(out1 < out2);
  CHECK(out2 < tail);
}

TEST_CASE("exit code 3 is an Error and the container can be listed and deleted") {
  RuncFixture f;
  auto c = f.Start("three", Options({"sh", "-c", "exit 3"}));
  ExitRecord exit = f.WaitForExit(c);
  CHECK(exit.exit_code == 3);
  CHECK(exit.signal == 0);
  CHECK(exit.reason == "Error");

  absl::StatusOr<ContainerState> state = f.runtime().State(c.id);
  REQUIRE(state.ok());
  CHECK(state->status == OciStatus::kStopped);
  CHECK(state->bundle == c.bundle);
  absl::StatusOr<std::vector<ContainerState>> list = f.runtime().List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->front().id == c.id);
  CHECK(list->front().annotations.at("io.kubernetes.container.name") == "three");
  CHECK(Eventually([&] { return !f.runtime().State(c.id)->monitor_alive; }));

  REQUIRE(f.runtime().Delete(c.id, /*force=*/false).ok());
  CHECK(f.runtime().State(c.id).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.runtime().Exit(c.id).status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(f.MonitorDir(c.id)));
  CHECK(fs::exists(c.log));  // logs outlive the container, as the kubelet keeps them
  CHECK_FALSE(fs::exists("/sys/fs/cgroup/memory" + f.CgroupPath(c.id)));
  CHECK(f.runtime().Delete(c.id, /*force=*/false).ok());  // again: nothing to do
  // Ids also name folders: nothing that could leave the monitor folder gets through.
  for (const char* bad : {"../escape", "a/b", ".hidden", ""}) {
    CHECK(f.runtime().State(bad).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(f.runtime().Delete(bad, true).code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("a command that cannot start fails Run and is recorded as StartError") {
  RuncFixture f;
  Options o({"/bin/no-such-program"});
  auto c = f.Prepare("nostart", o);
  absl::StatusOr<Started> started = f.runtime().Run(f.RunOptionsFor(c, o));
  REQUIRE_FALSE(started.ok());
  std::string message(started.status().message());
  INFO(message);
  CHECK(message.starts_with("run " + c.id + ": "));
  CHECK(message.find("no-such-program") != std::string::npos);
  absl::StatusOr<ExitRecord> exit = f.runtime().WaitForExit(c.id, kExitTimeout);
  REQUIRE(exit.ok());
  CHECK(exit->reason == "StartError");
  CHECK(exit->message.find("no-such-program") != std::string::npos);

  // Its record stays until Delete: the id is still in use.
  CHECK(f.runtime().Run(f.RunOptionsFor(c, o)).status().code() == absl::StatusCode::kAlreadyExists);
  REQUIRE(f.runtime().Delete(c.id, /*force=*/false).ok());
  CHECK(f.runtime().Run(f.RunOptionsFor(c, o)).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a container over its memory limit is OOMKilled") {
  RuncFixture f;
  // dd's 64 MiB block buffer is filled from /dev/zero, so all of it is touched.
  auto c = f.Start(
      "oom",
      Options({"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"}).MemoryLimit("16Mi"));
  ExitRecord exit = f.WaitForExit(c);
  CHECK(exit.reason == "OOMKilled");
  CHECK(exit.signal == SIGKILL);
  CHECK(exit.exit_code == 137);
}

TEST_CASE("the log rotates at its cap and keeps max_files files") {
  RuncFixture f;
  auto c = f.Start("chatty",
                   Options({"sh", "-c", "yes rotation-test-line | head -n 3000"}).Log(4096, 3));
  CHECK(f.WaitForExit(c).reason == "Completed");
  size_t kept = 0;
  for (int i = 0; i < 3; ++i) {
    std::string path = RotatedLogPath(c.log, i);
    REQUIRE_MESSAGE(fs::exists(path), path);
    CHECK(fs::file_size(path) <= 4096);
    kept += Records(path).size();
  }
  CHECK_FALSE(fs::exists(RotatedLogPath(c.log, 3)));
  std::vector<CriRecord> current = Records(c.log);
  REQUIRE_FALSE(current.empty());
  CHECK(current.back().content == "rotation-test-line");
  CHECK_FALSE(current.back().partial);
  CHECK(kept < 3000);  // the oldest files were dropped
  CHECK(kept > 100);
}

TEST_CASE("killing the agent with SIGKILL leaves the container and its monitor running") {
  RuncFixture f;
  std::string shared = f.dir() + "/shared";
  fs::create_directories(shared);
  Options o({"sh", "-c",
             "echo before; while [ ! -e /shared/go ]; do sleep 0.05; done; echo after; exit 7"});
  o.Mount({shared, "/shared", false});
  auto c = f.Prepare("survivor", o);
  RunOptions run = f.RunOptionsFor(c, o);

  // The "agent": a child process that starts the container, then dies by SIGKILL.
  absl::StatusOr<Pipe> ready = MakePipe();
  REQUIRE(ready.ok());
  KilledOnExit agent(::fork());
  REQUIRE(agent.pid >= 0);
  if (agent.pid == 0) {
    absl::StatusOr<std::unique_ptr<Runtime>> rt = OpenRuncRuntime(f.runtime_options());
    bool ok = rt.ok() && (*rt)->Run(run).ok();
    (void)!::write(ready->write.get(), ok ? "y" : "n", 1);
    while (true) ::pause();
  }
  ready->write.Reset();
  char answer = 0;
  REQUIRE(::read(ready->read.get(), &answer, 1) == 1);
  agent.Kill();
  REQUIRE(answer == 'y');

  absl::StatusOr<ContainerState> state = f.runtime().State(c.id);
  REQUIRE(state.ok());
  CHECK(state->status == OciStatus::kRunning);
  CHECK(state->monitor_alive);
  f.WaitForOutput(c, "before");
  std::ofstream(shared + "/go") << "";
  ExitRecord exit = f.WaitForExit(c);  // written by the monitor the agent left behind
  CHECK(exit.exit_code == 7);
  CHECK(exit.reason == "Error");
  std::vector<CriRecord> records = Records(c.log);
  CHECK(HasLine(records, LogStream::kStdout, "after"));  // logged after the agent died
}

TEST_CASE("graceful stop: a shell that traps SIGTERM exits cleanly") {
  RuncFixture f;
  auto c = f.Start("trapper", Options({"sh", "-c",
                                       "trap 'echo got-term; exit 0' TERM; echo ready; "
                                       "while :; do sleep 1 & wait; done"}));
  f.WaitForOutput(c, "ready");
  absl::StatusOr<ExitRecord> exit = StopContainer(f.runtime(), c.id, absl::Seconds(30));
  REQUIRE(exit.ok());
  CHECK(exit->exit_code == 0);
  CHECK(exit->signal == 0);
  CHECK(HasLine(Records(c.log), LogStream::kStdout, "got-term"));
}

TEST_CASE("graceful stop: a shell as PID 1 ignores SIGTERM and is killed after the grace period") {
  RuncFixture f;
  auto c = f.Start("stubborn", Options({"sh", "-c", "echo ready; while :; do sleep 1; done"}));
  f.WaitForOutput(c, "ready");
  const absl::Duration grace = absl::Seconds(1);
  absl::Time before = absl::Now();
  absl::StatusOr<ExitRecord> exit = StopContainer(f.runtime(), c.id, grace);
  REQUIRE(exit.ok());
  CHECK(absl::Now() - before >= grace);  // SIGTERM did nothing: it took the whole grace
  CHECK(exit->signal == SIGKILL);
  CHECK(exit->exit_code == 137);
  CHECK(exit->reason == "Error");

  // Stopping it again just returns the recorded exit.
  absl::StatusOr<ExitRecord> again = StopContainer(f.runtime(), c.id, grace);
  REQUIRE(again.ok());
  CHECK(again->finished_at == exit->finished_at);
}

TEST_CASE("a running container can be force-deleted") {
  RuncFixture f;
  auto c = f.Start("forced", Options({"sleep", "1000"}));
  CHECK(f.runtime().Delete(c.id, /*force=*/false).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.runtime().Kill(c.id, 0).ok());
  REQUIRE(f.runtime().Delete(c.id, /*force=*/true).ok());
  CHECK(f.runtime().State(c.id).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.runtime().Kill(c.id, SIGTERM).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("crun runs under the same monitor: log, exit code, OOMKilled, graceful stop") {
  RuncFixture f(Flavor::kCrun);
  auto echo = f.Start("echo", Options({"sh", "-c", "echo out-1; echo err-1 >&2; exit 4"}));
  ExitRecord exit = f.WaitForExit(echo);
  CHECK(exit.exit_code == 4);
  CHECK(exit.reason == "Error");
  std::vector<CriRecord> records = Records(echo.log);
  CHECK(HasLine(records, LogStream::kStdout, "out-1"));
  CHECK(HasLine(records, LogStream::kStderr, "err-1"));

  auto oom = f.Start(
      "oom",
      Options({"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"}).MemoryLimit("16Mi"));
  CHECK(f.WaitForExit(oom).reason == "OOMKilled");

  auto stubborn =
      f.Start("stubborn", Options({"sh", "-c", "echo ready; while :; do sleep 1; done"}));
  f.WaitForOutput(stubborn, "ready");
  absl::StatusOr<ExitRecord> stopped =
      StopContainer(f.runtime(), stubborn.id, absl::Milliseconds(200));
  REQUIRE(stopped.ok());
  CHECK(stopped->signal == SIGKILL);
  REQUIRE(f.runtime().Delete(stubborn.id, /*force=*/false).ok());
  CHECK(f.runtime().State(stubborn.id).status().code() == absl::StatusCode::kNotFound);
}

// "VmRSS:     3204 kB" -> 3204, from /proc/<pid>/status or smaps_rollup.
int64_t ProcKb(pid_t pid, const std::string& file, const std::string& field) {
  std::ifstream in(absl::StrFormat("/proc/%d/%s", pid, file));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Not a benchmark gate: prints the figures (ctest -V) and checks only that every start
// worked. Monitor and plain runc runs alternate so that drift hits both alike. CI runs
// 5 of each; REEF_RUNTIME_BENCH_RUNS=20 gives the figures quoted in reports.
TEST_CASE("measure: start through reef-monitor vs plain runc run -d, and the monitor's memory") {
  RuncFixture f;
  const char* runs_env = ::getenv("REEF_RUNTIME_BENCH_RUNS");
  const int kRuns = runs_env != nullptr ? std::max(1, std::atoi(runs_env)) : 5;
  for (const Strings& command : {Strings{"true"}, Strings{"sleep", "1000"}}) {
    std::vector<double> monitor_ms, runc_ms;
    for (int i = 0; i < kRuns; ++i) {
      Options o(command);
      auto c = f.Prepare(absl::StrFormat("bench-%s-%d", command[0], i), o);
      absl::Time t0 = absl::Now();
      absl::StatusOr<Started> started = f.runtime().Run(f.RunOptionsFor(c, o));
      monitor_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      INFO(started.status().ToString());
      REQUIRE(started.ok());
      REQUIRE(f.runtime().Delete(c.id, /*force=*/true).ok());

      std::string plain = c.id + "-plain";
      f.Track(plain);
      SpawnOptions spawn;
      spawn.argv = {"runc",   "--root", f.runtime_options().root, "run", "--detach", "--bundle",
                    c.bundle, plain};
      t0 = absl::Now();
      absl::StatusOr<pid_t> pid = Spawn(spawn);
      REQUIRE(pid.ok());
      absl::StatusOr<int> status = WaitForChild(*pid);
      runc_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      REQUIRE(status.ok());
      REQUIRE(*status == 0);
      REQUIRE(RunCommand({"runc", "--root", f.runtime_options().root, "delete", "--force", plain},
                         absl::Seconds(10))
                  ->exit_code == 0);
    }
    MESSAGE(absl::StrFormat(
        "busybox %s, median of %d: through reef-monitor %.1f ms, plain runc run -d %.1f ms",
        command[0], kRuns, Median(monitor_ms), Median(runc_ms)));
  }

  auto c = f.Start("rss", Options({"sleep", "1000"}));
  absl::StatusOr<std::string> pid_text =
      ReadFileLimited(MonitorFiles{f.MonitorDir(c.id)}.monitor_pid(), 64);
  REQUIRE(pid_text.ok());
  pid_t monitor = std::stoi(*pid_text);
  int64_t rss = ProcKb(monitor, "status", "VmRSS");
  int64_t pss = ProcKb(monitor, "smaps_rollup", "Pss");
  int64_t uss = ProcKb(monitor, "smaps_rollup", "Private_Clean") +
                ProcKb(monitor, "smaps_rollup", "Private_Dirty");
  CHECK(rss > 0);
  MESSAGE(absl::StrFormat(
      "reef-monitor of a running container: VmRSS %d kB, Pss %d kB, private %d kB", rss, pss, uss));
}

}  // namespace
}  // namespace reef::agent::runtime
