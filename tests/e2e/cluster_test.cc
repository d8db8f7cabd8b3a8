// The cluster end to end: a controller and agents, each agent in its own network
// namespace "host", joined with the node token; real runc containers from an image
// imported into each agent (no registry needed); everything driven through reefctl.

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/support/net_hosts.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace reef::testing {
namespace {

constexpr auto kWait = std::chrono::seconds(60);

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

int Count(const std::string& s, const std::string& part) {
  int n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
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
    std::vector<std::string> argv = hosts_.Exec(i);
    std::string token = ReadFile(controller_dir_ + "/node-token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
    for (const std::string& a : {BinaryPath("reef-agent"), std::string("--data-dir"), data, std::string("--server"),
                                 server_, std::string("--token"), token, std::string("--node-name"), NodeName(i)}) {
      argv.push_back(a);
    }
    agents_.push_back(std::make_unique<Process>(Process::Start(argv)));
    data_dirs_.push_back(data);
    names_.push_back(NodeName(i));
    REQUIRE_MESSAGE(agents_.back()->WaitForLine([](const std::string& l) { return Contains(l, "reef-agent ready"); },
                                                std::chrono::seconds(30)),
                    agents_.back()->Stderr());
  }

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

std::string CounterDeployment(int replicas) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: counter}
spec:
  replicas: )" + std::to_string(replicas) + R"(
  selector: {matchLabels: {app: counter}}
  template:
    metadata: {labels: {app: counter}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/busybox:1
        imagePullPolicy: Never
        command: [sh, -c, 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']
)";
}

// The names of the pods a `get pods -o wide` lists on `node`.
std::vector<std::string> PodsOn(const std::string& wide, const std::string& node) {
  std::vector<std::string> names;
  std::istringstream lines(wide);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" " + node + " ") != std::string::npos) names.push_back(line.substr(0, line.find(' ')));
  }
  return names;
}

TEST_CASE("cluster: two agents join with the token, a Deployment spreads over them, logs follow") {
  ClusterFixture f(2);
  std::string nodes = f.WaitForCtl({"get", "nodes"}, [](const std::string& o) {
    return Count(o, " Ready ") == 2;
  });
  CHECK(Contains(nodes, "host0"));
  CHECK(Contains(nodes, "host1"));

  RunResult applied = f.Ctl({"apply", "-f", "-"}, CounterDeployment(3));
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  std::string pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 3;
  });
  // Spread over both nodes, each pod with its node's address.
  CHECK(Contains(pods, "host0"));
  CHECK(Contains(pods, "host1"));
  CHECK(Contains(pods, f.hosts().address(0)));
  CHECK(Contains(pods, f.hosts().address(1)));

  // The node's view of the pod: its log, relayed.
  std::string name = pods.substr(pods.find("counter-"));
  name = name.substr(0, name.find(' '));
  f.WaitForCtl({"logs", name, "--tail", "2"}, [](const std::string& o) { return Count(o, "line ") == 2; });

  Process follow = Process::Start(f.CtlArgv({"logs", "-f", "--tail", "1", name}), IsolatedEnv());
  auto first = follow.WaitForLine([](const std::string& l) { return l.rfind("line ", 0) == 0; }, kWait);
  REQUIRE_MESSAGE(first.has_value(), follow.Stderr());
  int first_n = std::stoi(first->substr(5));
  // Lines written after the call started keep arriving.
  auto later = follow.WaitForLine(
      [&](const std::string& l) { return l.rfind("line ", 0) == 0 && std::stoi(l.substr(5)) >= first_n + 10; }, kWait);
  CHECK_MESSAGE(later.has_value(), follow.Output() << follow.Stderr());
}

TEST_CASE("cluster: a node cut off keeps its containers, is replaced after the eviction timeout, and heals") {
  ClusterFixture f(2, {"--node-lease-duration", "4s", "--pod-eviction-timeout", "6s"});
  f.WaitForReadyNodes(2);
  RunResult applied = f.Ctl({"apply", "-f", "-"}, CounterDeployment(2));
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  std::string pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 2 && Contains(o, " host0 ") && Contains(o, " host1 ");
  });
  std::vector<std::string> on_host1 = PodsOn(pods, "host1");
  REQUIRE(on_host1.size() == 1);
  const std::string lost = on_host1[0];

  f.hosts().Cut(1);
  f.WaitForCtl({"get", "nodes"}, [](const std::string& o) {
    std::string line = o.substr(o.find("host1"));
    return Contains(line.substr(0, line.find('\n')), "NotReady");
  });
  // Edge autonomy: the box keeps running its pod while the controller cannot see it.
  CHECK(Contains(f.AgentPs(1), lost));
  // After the eviction timeout its pod is replaced on the node that is still there.
  pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [&](const std::string& o) {
    return !Contains(o, lost) && PodsOn(o, "host0").size() == 2 && Count(o, "Running") == 2;
  });
  std::string box = f.AgentPs(1);
  CHECK_MESSAGE(Contains(box, lost), box);
  CHECK_MESSAGE(Contains(box, "Running"), box);

  f.hosts().Heal(1);
  f.WaitForReadyNodes(2);
  // The replaced copy goes from the box; the cluster still has exactly its 2 pods.
  f.WaitForAgentPs(1, [&](const std::string& o) { return !Contains(o, lost); });
  pods = f.Ctl({"get", "pods", "-o", "wide"}).out;
  CHECK_MESSAGE(Count(pods, "Running") == 2, pods);
  CHECK_MESSAGE(PodsOn(pods, "host0").size() == 2, pods);
}

TEST_CASE("cluster: a DaemonSet runs one pod per node, also on a node that joins later") {
  ClusterFixture f(1, {}, 2);
  f.WaitForReadyNodes(1);
  RunResult applied = f.Ctl({"apply", "-f", "-"}, R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: shipper}
spec:
  selector: {matchLabels: {app: shipper}}
  template:
    metadata: {labels: {app: shipper}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: localhost/busybox:1, imagePullPolicy: Never, command: [sleep, "3600"]}
)");
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 1 && PodsOn(o, "host0").size() == 1;
  });
  f.StartAgent(1);
  std::string pods = f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) {
    return Count(o, "Running") == 2 && PodsOn(o, "host1").size() == 1;
  });
  CHECK(PodsOn(pods, "host0").size() == 1);
  f.WaitForCtl({"get", "ds"}, [](const std::string& o) { return Contains(o, "shipper"); });
}

TEST_CASE("cluster: changing the template rolls the Deployment within maxUnavailable, undo goes back") {
  ClusterFixture f(2);
  f.WaitForReadyNodes(2);
  auto deployment = [](const std::string& value) {
    return R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/busybox:1
        imagePullPolicy: Never
        command: [sh, -c, 'echo version $VERSION; exec sleep 3600']
        env: [{name: VERSION, value: ")" + value + R"("}]
)";
  };
  REQUIRE(f.Ctl({"apply", "-f", "-"}, deployment("one")).exit_code == 0);
  f.WaitForCtl({"get", "deploy", "web"}, [](const std::string& o) { return Contains(o, "3/3"); });
  std::string before = f.Ctl({"get", "pods", "-o", "name"}).out;

  REQUIRE(f.Ctl({"apply", "-f", "-"}, deployment("two")).exit_code == 0);
  // Watch the rollout: never fewer than replicas - maxUnavailable pods Running.
  int min_running = 3;
  bool rolled = false;
  for (auto end = std::chrono::steady_clock::now() + kWait; std::chrono::steady_clock::now() < end && !rolled;) {
    std::string pods = f.Ctl({"get", "pods"}).out;
    min_running = std::min(min_running, Count(pods, "Running"));
    std::string status = f.Ctl({"rollout", "status", "deployment/web", "--watch=false"}).out;
    rolled = Contains(status, "successfully rolled out");
  }
  CHECK_MESSAGE(rolled, f.Logs());
  CHECK(min_running >= 2);
  std::string after = f.Ctl({"get", "pods", "-o", "name"}).out;
  for (std::istringstream names(before); !names.eof();) {
    std::string name;
    std::getline(names, name);
    if (!name.empty()) CHECK_MESSAGE(!Contains(after, name), name << " survived the rollout");
  }
  std::string name = after.substr(after.find("pod/") + 4);
  name = name.substr(0, name.find('\n'));
  f.WaitForCtl({"logs", name}, [](const std::string& o) { return Contains(o, "version two"); });

  RunResult undo = f.Ctl({"rollout", "undo", "deployment/web"});
  CHECK_MESSAGE(undo.exit_code == 0, undo.err);
  f.WaitForCtl({"rollout", "status", "deployment/web", "--watch=false"},
               [](const std::string& o) { return Contains(o, "successfully rolled out"); });
  std::string spec = f.Ctl({"get", "deploy", "web", "-o", "yaml"}).out;
  CHECK(Contains(spec, "value: one"));
}

TEST_CASE("cluster: the agent renews its certificate before expiry and reconnects with it, no restart") {
  ClusterFixture f(1, {"--node-cert-validity", "9s"});
  f.WaitForReadyNodes(1);
  // Renewed at two thirds of 9 s, twice; each time the stream comes back on the new
  // certificate (the old one would be expired by the second renewal).
  for (auto end = std::chrono::steady_clock::now() + kWait;
       std::chrono::steady_clock::now() < end && Count(f.ControllerLog(), "renew: node \"host0\" has a new certificate") < 2;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  REQUIRE_MESSAGE(Count(f.ControllerLog(), "renew: node \"host0\" has a new certificate") >= 2, f.Logs());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(f.AgentRunning(0));
  CHECK_MESSAGE(Count(f.AgentLog(0), "connected to the controller") >= 3, f.AgentLog(0));
  f.WaitForReadyNodes(1);
}

}  // namespace
}  // namespace reef::testing
