// reef-agent with real runc: static pods from a manifest folder, an image imported
// from a tarball (no registry), adoption after kill -9, exits learned while down.

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/net_hosts.h"
#include "tests/support/network_leftovers.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace reef::testing {
namespace {

constexpr auto kWait = std::chrono::seconds(20);

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// One agent with its own data dir and manifest folder, in a network-namespace host;
// cleans up its containers, mounts and processes however the test ends.
class AgentFixture {
 public:
  AgentFixture() {
    REQUIRE_MESSAGE(geteuid() == 0, "the agent e2e tests need root (runc, overlay mounts)");
    RequireBinary("runc", "runc");
    RequireBinary("skopeo", "skopeo");
    data_ = dir_.path() + "/data";
    manifests_ = dir_.path() + "/manifests";
    std::filesystem::create_directories(manifests_);
    std::string layout = BuildTestImage(dir_.path() + "/layout");
    std::string tar = dir_.path() + "/busybox.tar";
    RunResult r = Run({"skopeo", "copy", "oci:" + layout + ":1", "oci-archive:" + tar + ":localhost/busybox:1"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    r = Agent({"images", "import", tar});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }

  ~AgentFixture() {
    agent_.reset();
    // Containers outlive the agent by design: remove what this test started.
    CleanUpAgent(data_, "/reef/n1");
  }

  RunResult Agent(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {BinaryPath("reef-agent"), "--data-dir", data_};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }

  void Start() {
    // In a network-namespace host of its own: the pods' bridge and iptables rules
    // stay out of the machine's namespace.
    std::vector<std::string> argv = host_.Exec(0);
    for (const std::string& a : {BinaryPath("reef-agent"), std::string("--data-dir"), data_, std::string("--manifest-dir"),
                                 manifests_, std::string("--node-name"), std::string("n1")}) {
      argv.push_back(a);
    }
    agent_ = std::make_unique<Process>(Process::Start(argv));
    REQUIRE_MESSAGE(agent_->WaitForLine([](const std::string& l) { return Contains(l, "reef-agent ready"); }, kWait),
                    agent_->Stderr());
  }

  void Kill9() {
    agent_->Signal(SIGKILL);
    agent_->Wait(std::chrono::seconds(10));
  }

  void WriteManifest(const std::string& name, const std::string& text) const {
    std::string tmp = manifests_ + "/." + name + ".tmp";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, manifests_ + "/" + name);
  }
  void RemoveManifest(const std::string& name) const { std::filesystem::remove(manifests_ + "/" + name); }

  // Polls `reef-agent ps` until `pred` holds.
  std::string WaitForPs(const std::function<bool(const std::string&)>& pred) const {
    std::string last;
    for (auto end = std::chrono::steady_clock::now() + kWait; std::chrono::steady_clock::now() < end;) {
      last = Agent({"ps"}).out;
      if (pred(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL_CHECK("reef-agent ps never matched; last output:\n" << last << "\nagent log:\n"
                                                            << (agent_ ? agent_->Stderr() : ""));
    return last;
  }

  std::string AgentLog() { return agent_ ? agent_->Stderr() : ""; }

  // Runs a program in the agent's network-namespace host.
  RunResult InHost(const std::vector<std::string>& argv) const {
    std::vector<std::string> full = host_.Exec(0);
    full.insert(full.end(), argv.begin(), argv.end());
    return Run(full);
  }
  void Stop() {
    agent_->Signal(SIGTERM);
    agent_->Wait(std::chrono::seconds(10));
  }
  NetworkLeftovers Leftovers() const {
    return CountNetworkLeftoversIn(host_.netns_path(0), "/run/netns", AgentNetnsPrefix(data_), data_ + "/network");
  }
  const std::string& data() const { return data_; }

 private:
  NetHosts host_{1};
  TempDir dir_;
  std::string data_, manifests_;
  std::unique_ptr<Process> agent_;
};

std::string PodManifest(const std::string& name, const std::string& script,
                        const std::string& restart = "Always", int grace_seconds = 1) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec:\n  restartPolicy: " + restart +
         "\n  terminationGracePeriodSeconds: " + std::to_string(grace_seconds) + "\n  containers:\n  - name: main\n    image: localhost/busybox:1\n"
         "    imagePullPolicy: Never\n    command: [sh, -c, '" + script + "']\n";
}

TEST_CASE("static pods: start, log, replace on change, stop on removal, bad files reported") {
  AgentFixture f;
  f.Start();
  f.WriteManifest("hello.yaml", PodManifest("hello", "i=0; while true; do echo out $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done"));
  std::string ps = f.WaitForPs([](const std::string& o) { return Contains(o, "hello-n1   1/1     Running"); });
  std::string first_id = ps.substr(ps.find("main") + 4);

  // stdout and stderr lines, CRI format.
  RunResult logs;
  for (int i = 0; i < 50; ++i) {
    logs = f.Agent({"logs", "hello-n1"});
    if (Contains(logs.out, " stderr F err 2")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(Contains(logs.out, " stdout F out 1"));
  CHECK(Contains(logs.out, " stderr F err 2"));

  // An invalid manifest is reported and changes nothing else.
  f.WriteManifest("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: []\n");
  f.WriteManifest("other.yaml", PodManifest("other", "sleep 3600"));
  f.WaitForPs([](const std::string& o) { return Contains(o, "other-n1   1/1     Running"); });
  CHECK(Contains(f.AgentLog(), "bad.yaml:5:15: document 1 (Pod default/bad): spec.containers: at least one container is required"));
  CHECK(Contains(f.Agent({"ps"}).out, "hello-n1   1/1     Running"));

  // A change replaces the container (a new id), a removal stops it.
  f.WriteManifest("hello.yaml", PodManifest("hello", "echo changed; sleep 3600"));
  ps = f.WaitForPs([](const std::string& o) { return Contains(o, "main-0") && !Contains(o, "out $i"); });
  f.WaitForPs([&](const std::string& o) {
    size_t at = o.find("default/hello-n1");
    return at != std::string::npos && o.substr(at).find(first_id.substr(0, 30)) == std::string::npos &&
           Contains(o, "hello-n1   1/1     Running");
  });
  f.RemoveManifest("hello.yaml");
  f.WaitForPs([](const std::string& o) { return !Contains(o, "hello-n1"); });
  CHECK(Contains(f.AgentLog(), "pod default/hello-n1: removed"));
}

TEST_CASE("a container slow to stop holds up nothing else, SIGKILL after its grace period") {
  AgentFixture f;
  f.Start();
  // A shell as PID 1 ignores SIGTERM: this one takes its whole grace period.
  f.WriteManifest("stubborn.yaml", PodManifest("stubborn", "sleep 3600", "Always", 6));
  f.WaitForPs([](const std::string& o) { return Contains(o, "stubborn-n1   1/1     Running"); });
  f.RemoveManifest("stubborn.yaml");
  f.WriteManifest("quick.yaml", PodManifest("quick", "sleep 3600"));
  // The new pod runs while the old one is still within its grace period.
  std::string ps = f.WaitForPs([](const std::string& o) { return Contains(o, "quick-n1"); });
  f.WaitForPs([](const std::string& o) { return Contains(o, "quick-n1      1/1     Running"); });
  CHECK_MESSAGE(Contains(ps, "stubborn-n1"), ps);
  f.WaitForPs([](const std::string& o) { return !Contains(o, "stubborn-n1"); });
  CHECK(Contains(f.AgentLog(), "pod default/stubborn-n1: main outlived its grace period, killing"));
}

TEST_CASE("restart policies: exit codes, Never, OnFailure, Always with backoff") {
  AgentFixture f;
  f.Start();
  f.WriteManifest("never.yaml", PodManifest("never", "exit 3", "Never"));
  f.WriteManifest("done.yaml", PodManifest("done", "exit 0", "OnFailure"));
  f.WriteManifest("crash.yaml", PodManifest("crash", "exit 1", "Always"));
  std::string ps = f.WaitForPs([](const std::string& o) {
    return Contains(o, "never-n1   0/1     Error") && Contains(o, "done-n1    0/1     Completed") &&
           Contains(o, "CrashLoopBackOff");
  });
  // The first restart waits the initial back-off (10 s); its timing is unit-tested
  // with a fake clock (restart_policy_test).
  CHECK(Contains(ps, "crash-n1   0/1     CrashLoopBackOff   0"));
}

TEST_CASE("kill -9 of the agent: containers adopted, exits while down learned") {
  AgentFixture f;
  f.Start();
  f.WriteManifest("long.yaml", PodManifest("long", "sleep 3600"));
  f.WriteManifest("short.yaml", PodManifest("short", "sleep 3; exit 7", "Never"));
  std::string before = f.WaitForPs([](const std::string& o) {
    return Contains(o, "long-n1    1/1     Running") && Contains(o, "short-n1   1/1     Running");
  });
  f.Kill9();
  std::this_thread::sleep_for(std::chrono::seconds(4));  // short ends while the agent is away
  f.Start();
  std::string after = f.WaitForPs([](const std::string& o) { return Contains(o, "short-n1   0/1     Error"); });
  CHECK(Contains(f.AgentLog(), "1 containers still running (adopted), 1 ended while away"));
  // The long-running container is the same one: no duplicate, no restart.
  auto id_of = [](const std::string& o, const std::string& pod) {
    size_t at = o.find("default/" + pod);
    return o.substr(at, o.find('\n', at) - at);
  };
  CHECK(id_of(before, "long-n1") == id_of(after, "long-n1"));
  CHECK(Contains(after, "long-n1    1/1     Running   0"));
}

TEST_CASE("reef-agent teardown releases a stopped agent's containers, pod networks and mounts; a start brings them back") {
  AgentFixture f;
  f.Start();
  f.WriteManifest("web.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: scratch, emptyDir: {medium: Memory}}]
  containers:
  - name: main
    image: localhost/busybox:1
    imagePullPolicy: Never
    command: [sleep, "3600"]
    ports: [{containerPort: 80, hostPort: 8080}]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
)");
  f.WriteManifest("plain.yaml", PodManifest("plain", "sleep 3600"));
  f.WaitForPs([](const std::string& o) {
    return Contains(o, "web-n1     1/1     Running") && Contains(o, "plain-n1   1/1     Running");
  });
  NetworkLeftovers running = f.Leftovers();
  CHECK(running.netns_files == 2);
  CHECK(running.iptables_rules > 0);  // masquerade and the hostPort's DNAT
  f.Stop();

  RunResult down = f.InHost({BinaryPath("reef-agent"), "--data-dir", f.data(), "teardown"});
  CHECK_MESSAGE(down.exit_code == 0, down.err);
  CHECK(Contains(down.out, "removed 2 containers"));
  NetworkLeftovers after = f.Leftovers();
  CHECK_MESSAGE(after.total() == 0, after.ToString());
  RunResult mounts = Run({"grep", "-c", " " + f.data() + "/", "/proc/self/mounts"});
  CHECK_MESSAGE(mounts.out == "0\n", "mounts left under the data dir: " << mounts.out);

  // State and images stayed: the agent runs the same pods again.
  f.Start();
  f.WaitForPs([](const std::string& o) {
    return Contains(o, "web-n1     1/1     Running") && Contains(o, "plain-n1   1/1     Running");
  });
}

}  // namespace
}  // namespace reef::testing
