// Runtime::Exec and the exec prober against real runc containers (busybox-static
// rootfs built here). Needs root, runc and busybox-static; fails, does not skip,
// without them. Every container is deleted when its test ends, also on failure.

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "agent/probes/prober.h"
#include "agent/runtime/cgroups.h"
#include "agent/runtime/oci_spec.h"
#include "agent/runtime/runc_runtime.h"
#include "agent/runtime/subprocess.h"
#include "tests/support/process.h"

namespace reef::agent::probes {
namespace {

namespace fs = std::filesystem;
using runtime::ExecResult;

const char* const kApplets[] = {"sh", "echo", "sleep", "ps", "true", "false", "cat"};

// One runc root, rootfs and cgroup parent per test; one long-running container.
class ExecFixture {
 public:
  ExecFixture() {
    REQUIRE_MESSAGE(::geteuid() == 0, "probes e2e tests need root: runc makes namespaces");
    REQUIRE_MESSAGE(fs::exists("/bin/busybox"),
                    "/bin/busybox missing: apt-get install busybox-static");
    absl::StatusOr<runtime::CommandResult> version =
        runtime::RunCommand({"runc", "--version"}, absl::Seconds(10));
    REQUIRE_MESSAGE((version.ok() && version->exit_code == 0), "runc missing: apt-get install runc");

    static std::atomic<int> counter{0};
    tag_ = absl::StrFormat("pr%d-%d", ::getpid(), counter++);
    cgroup_parent_ = "/reef-e2e-" + tag_;
    rootfs_ = dir_.path() + "/rootfs";
    fs::create_directories(rootfs_ + "/bin");
    fs::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
    for (const char* applet : kApplets) fs::create_symlink("busybox", rootfs_ + "/bin/" + applet);

    options_.root = dir_.path() + "/runc";
    options_.monitor_dir = dir_.path() + "/monitors";
    options_.monitor_binary = reef::testing::BinaryPath("reef-monitor");
    REQUIRE_MESSAGE(fs::exists(options_.monitor_binary),
                    "reef-monitor not built: ", options_.monitor_binary);
    absl::StatusOr<std::unique_ptr<runtime::Runtime>> rt = runtime::OpenRuncRuntime(options_);
    INFO(rt.status().ToString());
    REQUIRE(rt.ok());
    runtime_ = *std::move(rt);
  }

  ~ExecFixture() {
    for (const std::string& id : ids_) {
      if (!runtime_->Delete(id, /*force=*/true).ok()) {
        (void)runtime::RunCommand({"runc", "--root", options_.root, "delete", "--force", id},
                                  absl::Seconds(10));
      }
      (void)runtime::RemoveCgroup(cgroup_parent_ + "/" + id);
    }
    (void)runtime::RemoveCgroup(cgroup_parent_);
  }

  runtime::Runtime& runtime() { return *runtime_; }

  // Starts a container running `command`; returns its id.
  std::string Start(const std::string& name, std::vector<std::string> command) {
    const std::string id = tag_ + "-" + name;
    ids_.push_back(id);
    const std::string bundle = dir_.path() + "/bundles/" + id;
    fs::create_directories(bundle);
    reef::v1::Pod pod;
    pod.mutable_metadata()->set_name(name);
    pod.mutable_metadata()->set_uid("uid-" + id);
    reef::v1::Container* spec = pod.mutable_spec()->add_containers();
    spec->set_name(name);
    for (const std::string& arg : command) spec->add_command(arg);
    runtime::SpecOptions spec_options;
    spec_options.rootfs = rootfs_;
    spec_options.cgroups_path = cgroup_parent_ + "/" + id;
    spec_options.nofile = runtime::DefaultNofile();
    absl::StatusOr<nlohmann::json> config = runtime::BuildSpec(pod, *spec, spec_options);
    INFO(config.status().ToString());
    REQUIRE(config.ok());
    REQUIRE(runtime::WriteSpec(bundle, *config).ok());
    runtime::RunOptions run;
    run.id = id;
    run.bundle = bundle;
    run.log.path = dir_.path() + "/logs/" + id + ".log";
    absl::StatusOr<runtime::Started> started = runtime_->Run(run);
    INFO(started.status().ToString());
    REQUIRE(started.ok());
    return id;
  }

 private:
  reef::testing::TempDir dir_;
  std::string tag_, cgroup_parent_, rootfs_;
  runtime::RuncOptions options_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::vector<std::string> ids_;
};

ExecResult MustExec(runtime::Runtime& rt, const std::string& id,
                    const std::vector<std::string>& argv) {
  absl::StatusOr<ExecResult> r = rt.Exec(id, argv, absl::Seconds(10));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("Exec runs a command in a running container: exit codes and output") {
  ExecFixture f;
  const std::string id = f.Start("web", {"sleep", "300"});
  ExecResult ok = MustExec(f.runtime(), id, {"sh", "-c", "echo out; echo err >&2"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.output == "out\nerr\n");
  ExecResult three = MustExec(f.runtime(), id, {"sh", "-c", "exit 3"});
  CHECK(three.exit_code == 3);
  CHECK(three.output.empty());
  // Output is capped.
  absl::StatusOr<ExecResult> chatty =
      f.runtime().Exec(id, {"sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo 0123456789; "
                                        "i=$((i+1)); done"},
                       absl::Seconds(10), 1000);
  REQUIRE(chatty.ok());
  CHECK(chatty->exit_code == 0);
  CHECK(chatty->output.size() == 1000);
}

TEST_CASE("Exec past its timeout is DeadlineExceeded and the command is killed") {
  ExecFixture f;
  const std::string id = f.Start("slow", {"sleep", "300"});
  absl::Time start = absl::Now();
  absl::StatusOr<ExecResult> r = f.runtime().Exec(id, {"sleep", "31"}, absl::Milliseconds(500));
  CHECK(absl::Now() - start < absl::Seconds(5));
  INFO(r.status().ToString());
  CHECK(r.status().code() == absl::StatusCode::kDeadlineExceeded);
  // The container's init (sleep) never reaps: a killed child may linger as a zombie
  // ("[sleep]"), but no "sleep 31" runs any more.
  ExecResult ps = MustExec(f.runtime(), id, {"ps", "-o", "pid,stat,args"});
  INFO(ps.output);
  CHECK_FALSE(absl::StrContains(ps.output, "sleep 31"));
}

TEST_CASE("Exec in a stopped container is FailedPrecondition, a missing program an error") {
  ExecFixture f;
  const std::string id = f.Start("done", {"true"});
  REQUIRE(f.runtime().WaitForExit(id, absl::Seconds(20)).ok());
  absl::StatusOr<ExecResult> r = f.runtime().Exec(id, {"true"}, absl::Seconds(5));
  INFO(r.status().ToString());
  CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.runtime().Exec("no-such-container", {"true"}, absl::Seconds(5)).status().code() ==
        absl::StatusCode::kNotFound);

  const std::string running = f.Start("up", {"sleep", "300"});
  absl::StatusOr<ExecResult> missing =
      f.runtime().Exec(running, {"/bin/no-such-program"}, absl::Seconds(5));
  INFO(missing.status().ToString());
  CHECK_FALSE(missing.ok());  // runc's failure, not the command's exit code
  CHECK(absl::StrContains(missing.status().message(), "no-such-program"));
}

TEST_CASE("the exec prober: exit 0 passes, a failure says why, a timeout fails") {
  ExecFixture f;
  const std::string id = f.Start("probed", {"sleep", "300"});
  std::unique_ptr<Prober> prober = NewProber(&f.runtime());
  ProbeTarget target;
  target.container_id = id;
  auto exec_probe = [](std::vector<std::string> command) {
    reef::v1::Probe p;
    for (const std::string& arg : command) p.mutable_exec()->add_command(arg);
    return p;
  };

  CHECK(prober->Run(exec_probe({"true"}), target, absl::Seconds(5)).success());

  ProbeOutcome out = prober->Run(exec_probe({"cat", "/tmp/healthy"}), target, absl::Seconds(5));
  CHECK(out.result == ProbeResult::kFailure);
  CHECK(out.message == "cat: can't open '/tmp/healthy': No such file or directory");

  out = prober->Run(exec_probe({"sh", "-c", "exit 3"}), target, absl::Seconds(5));
  CHECK(out.message == "command \"sh -c exit 3\" exited with 3");

  out = prober->Run(exec_probe({"sleep", "30"}), target, absl::Seconds(1));
  CHECK(out.result == ProbeResult::kFailure);
  CHECK(out.message == "command \"sleep 30\" timed out");

  out = prober->Run(exec_probe({"/bin/no-such-program"}), target, absl::Seconds(5));
  CHECK(out.result == ProbeResult::kError);  // thrown away, as the kubelet does
}

}  // namespace
}  // namespace reef::agent::probes
