#pragma once
// The cluster end-to-end harness: a controller on the bridge of network-namespace
// "hosts", one agent per host joined with the node token, an image imported into each
// agent (no registry needed), everything driven through reefctl and `reef-agent ps`.

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/support/net_hosts.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace reef::testing {

inline constexpr auto kWait = std::chrono::seconds(60);

inline bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline int Count(const std::string& s, const std::string& part) {
  int n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

// A controller on the hosts' bridge and one agent per host.
class ClusterFixture {
 public:
  // `hosts` network-namespace hosts, an agent started on the first `agents` of them.
  explicit ClusterFixture(int agents, std::vector<std::string> controller_flags = {}, int hosts = 0)
      : hosts_(std::max(agents, hosts)) {
    RequireBinary("runc", "runc");
    RequireBinary("skopeo", "skopeo");
    RequireBinary("nsenter", "util-linux");
    controller_dir_ = dir_.path() + "/controller";
    std::vector<std::string> argv = {BinaryPath("reef-controller"), "--data-dir", controller_dir_,
                                     "--listen", hosts_.gateway() + ":0"};
    argv.insert(argv.end(), controller_flags.begin(), controller_flags.end());
    controller_ = std::make_unique<Process>(Process::Start(argv));
    auto line = controller_->WaitForLine([](const std::string& l) { return l.rfind("listening on ", 0) == 0; },
                                         std::chrono::seconds(20));
    REQUIRE_MESSAGE(line.has_value(), controller_->Stderr());
    server_ = line->substr(std::string("listening on ").size());

    // One image tarball, imported into every agent: no registry on the hosts' network.
    std::string layout = BuildTestImage(dir_.path() + "/layout");
    image_tar_ = dir_.path() + "/busybox.tar";
    RunResult r = Run({"skopeo", "copy", "oci:" + layout + ":1", "oci-archive:" + image_tar_ + ":localhost/busybox:1"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (int i = 0; i < agents; ++i) StartAgent(i);
  }

  ~ClusterFixture() {
    agents_.clear();
    for (size_t i = 0; i < names_.size(); ++i) CleanUpAgent(data_dirs_[i], "/reef/" + names_[i]);
    controller_.reset();
  }

  std::string NodeName(int i) const { return "host" + std::to_string(i); }

  void StartAgent(int i) {
    std::string data = dir_.path() + "/agent" + std::to_string(i);
    RunResult r = Run({BinaryPath("reef-agent"), "--data-dir", data, "images", "import", image_tar_});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    agents_.push_back(LaunchAgent(i, data));
    data_dirs_.push_back(data);
    names_.push_back(NodeName(i));
  }

  // kill -9, as a crash or a power cut of the agent alone: its containers run on.
  void KillAgent(int i) {
    agents_.at(i)->Signal(SIGKILL);
    agents_.at(i)->Wait(std::chrono::seconds(10));
  }
  // The same agent (data dir, node) started again.
  void RestartAgent(int i) { agents_.at(i) = LaunchAgent(i, data_dirs_.at(i)); }

  const std::string& DataDir(int i) const { return data_dirs_.at(i); }

 private:
  std::unique_ptr<Process> LaunchAgent(int i, const std::string& data) {
    std::vector<std::string> argv = hosts_.Exec(i);
    std::string token = ReadWholeFile(controller_dir_ + "/node-token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
    for (const std::string& a : {BinaryPath("reef-agent"), std::string("--data-dir"), data, std::string("--server"),
                                 server_, std::string("--token"), token, std::string("--node-name"), NodeName(i)}) {
      argv.push_back(a);
    }
    auto agent = std::make_unique<Process>(Process::Start(argv));
    REQUIRE_MESSAGE(agent->WaitForLine([](const std::string& l) { return Contains(l, "reef-agent ready"); },
                                       std::chrono::seconds(30)),
                    agent->Stderr());
    return agent;
  }

 public:

  std::vector<std::string> CtlArgv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = ReefctlWithConfig(controller_dir_ + "/admin.conf");
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  RunResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") const {
    return Run(CtlArgv(args), stdin_data, std::chrono::seconds(60), IsolatedEnv());
  }

  // Polls `reefctl ARGS` until `pred` holds on its output.
  std::string WaitForCtl(const std::vector<std::string>& args, const std::function<bool(const std::string&)>& pred,
                         std::chrono::seconds wait = kWait) {
    std::string last;
    for (auto end = std::chrono::steady_clock::now() + wait; std::chrono::steady_clock::now() < end;) {
      RunResult r = Ctl(args);
      last = r.out + r.err;
      if (r.exit_code == 0 && pred(r.out)) return r.out;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    FAIL_CHECK("reefctl never matched; last output:\n" << last << "\n" << Logs());
    return last;
  }

  std::string Logs() {
    std::string all = "controller log:\n" + controller_->Stderr();
    for (size_t i = 0; i < agents_.size(); ++i) all += "\nagent " + names_[i] + " log:\n" + agents_[i]->Stderr();
    return all;
  }

  const NetHosts& hosts() const { return hosts_; }
  void WaitForReadyNodes(int n) {
    WaitForCtl({"get", "nodes"}, [n](const std::string& o) { return Count(o, " Ready ") == n; });
  }
  std::string ControllerLog() { return controller_->Stderr(); }
  std::string AgentLog(int i) { return agents_.at(i)->Stderr(); }
  bool AgentRunning(int i) { return agents_.at(i)->Running(); }

  // What agent i's box runs, as `reef-agent ps` shows it (local state, no controller).
  std::string AgentPs(int i) const {
    return Run({BinaryPath("reef-agent"), "--data-dir", data_dirs_.at(i), "ps"}).out;
  }
  std::string WaitForAgentPs(int i, const std::function<bool(const std::string&)>& pred) {
    std::string last;
    for (auto end = std::chrono::steady_clock::now() + kWait; std::chrono::steady_clock::now() < end;) {
      last = AgentPs(i);
      if (pred(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    FAIL_CHECK("reef-agent ps on " << names_.at(i) << " never matched; last output:\n" << last << "\n" << Logs());
    return last;
  }

 private:
  TempDir dir_;
  NetHosts hosts_;
  std::string controller_dir_, server_, image_tar_;
  std::unique_ptr<Process> controller_;
  std::vector<std::unique_ptr<Process>> agents_;
  std::vector<std::string> data_dirs_, names_;
};

}  // namespace reef::testing
