// agent/network with the real CNI plugins (containernetworking-plugins), iptables and
// busybox. Needs root; fails (does not skip) without it or without the plugins.
//
// The test process moves itself into a fresh network namespace before main, so the
// bridge, the veths and every iptables rule live there and the machine's own network
// is never touched. Inside it, 192.0.2.1 on lo plays the node's address. Only the
// netns files go to the machine's /run/netns, under a per-fixture prefix, and are
// removed with everything else when a fixture ends, also after a failure.

#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/network/netns.h"
#include "agent/network/pod_network.h"
#include "tests/support/network_leftovers.h"
#include "tests/support/process.h"

namespace reef::agent::network {
namespace {

namespace fs = std::filesystem;
using reef::testing::CountNetworkLeftovers;
using reef::testing::NetworkLeftovers;
using reef::testing::Run;
using reef::testing::RunResult;

// Before main, hence before any thread: unshare(CLONE_NEWNET) moves only the calling
// thread, and a thread started earlier would stay in the machine's namespace.
const int g_unshare_errno = [] { return ::unshare(CLONE_NEWNET) == 0 ? 0 : errno; }();

constexpr char kNodeAddress[] = "192.0.2.1";
constexpr char kSubnet[] = "10.88.0.0/24";
constexpr char kGateway[] = "10.88.0.1";
constexpr char kBusybox[] = "/bin/busybox";

std::string Joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += a + " ";
  return s;
}

void Must(const std::vector<std::string>& argv) {
  RunResult r = Run(argv);
  REQUIRE_MESSAGE(r.exit_code == 0, Joined(argv), "failed: ", r.err);
}

// Fails the test where it cannot run, saying what is missing; sets up the test's own
// namespace once.
void RequireEnvironment() {
  REQUIRE_MESSAGE(::geteuid() == 0, "network e2e tests need root (network namespaces, iptables)");
  REQUIRE_MESSAGE(g_unshare_errno == 0,
                  "unshare(CLONE_NEWNET) failed: ", std::strerror(g_unshare_errno));
  for (const char* p : {"loopback", "bridge", "host-local", "portmap"}) {
    REQUIRE_MESSAGE(::access((std::string("/usr/lib/cni/") + p).c_str(), X_OK) == 0, "/usr/lib/cni/", p,
                    " missing: apt-get install containernetworking-plugins");
  }
  REQUIRE_MESSAGE(fs::exists(kBusybox), "/bin/busybox missing: apt-get install busybox-static");
  REQUIRE_MESSAGE(Run({"iptables-save"}).exit_code == 0, "iptables-save does not run: apt-get install iptables");
  static bool ready = false;
  if (!ready) {
    Must({"ip", "link", "set", "lo", "up"});
    Must({"ip", "addr", "add", std::string(kNodeAddress) + "/32", "dev", "lo"});
    ready = true;
  }
}

// One agent's worth of pod networking: its own state dir and netns prefix.
class Node {
 public:
  Node() {
    RequireEnvironment();
    static int count = 0;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "rt%x-%d-", static_cast<unsigned>(::getpid()), count++);
    options_.state_dir = dir_.path() + "/network";
    options_.netns_prefix = prefix;
    options_.subnet = kSubnet;
  }
  ~Node() {
    // What a test left (it failed, or meant to leave it): torn down as an agent would,
    // then whatever even that could not remove.
    if (absl::StatusOr<std::unique_ptr<PodNetwork>> net = PodNetwork::Open(options_); net.ok()) {
      absl::Status gc = (*net)->GarbageCollect({});
      if (!gc.ok()) MESSAGE("clean-up: ", std::string(gc.message()));
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(options_.netns_dir, ec)) {
      if (e.path().filename().string().starts_with(options_.netns_prefix)) {
        (void)RemoveNetns(e.path().string());
      }
    }
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  NetworkOptions& options() { return options_; }
  std::unique_ptr<PodNetwork> Open() {
    absl::StatusOr<std::unique_ptr<PodNetwork>> net = PodNetwork::Open(options_);
    REQUIRE_MESSAGE(net.ok(), net.status().message());
    return *std::move(net);
  }
  NetworkLeftovers Leftovers() {
    return CountNetworkLeftovers(options_.netns_dir, options_.netns_prefix, options_.state_dir,
                                 options_.bridge);
  }

 private:
  reef::testing::TempDir dir_;
  NetworkOptions options_;
};

Attachment MustSetup(PodNetwork& net, const std::string& id, const std::vector<PortMapping>& ports,
                     double* ms = nullptr) {
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Attachment> a = net.Setup(id, ports);
  if (ms != nullptr) {
    *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  REQUIRE_MESSAGE(a.ok(), a.status().message());
  return *a;
}

void MustTeardown(PodNetwork& net, const std::string& id, double* ms = nullptr) {
  auto start = std::chrono::steady_clock::now();
  absl::Status s = net.Teardown(id);
  if (ms != nullptr) {
    *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  REQUIRE_MESSAGE(s.ok(), s.message());
}

// A TCP server in the sandbox that answers every connection with `reply`.
reef::testing::Process Serve(const Attachment& a, int port, const std::string& reply) {
  return reef::testing::Process::Start({"nsenter", "--net=" + a.netns_path, kBusybox, "nc", "-ll",
                                        "-p", std::to_string(port), "-e", "echo", reply});
}

// Connects to ip:port from `netns` ("" = the test's own namespace, the "node") and
// returns what the server said, retrying for `patience` while it starts.
std::string Fetch(const std::string& netns, const std::string& ip, int port,
                  std::chrono::milliseconds patience = std::chrono::seconds(8)) {
  std::vector<std::string> argv;
  if (!netns.empty()) argv = {"nsenter", "--net=" + netns};
  for (const std::string& a : {std::string(kBusybox), std::string("nc"), std::string("-w"),
                               std::string("2"), ip, std::to_string(port)}) {
    argv.push_back(a);
  }
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + patience;
  do {
    r = Run(argv, "", std::chrono::seconds(5));
    if (r.exit_code == 0 && !r.out.empty()) return r.out.substr(0, r.out.find('\n'));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return "(no answer: exit " + std::to_string(r.exit_code) + ": " + r.err + ")";
}

bool InSubnet(const std::string& ip) { return ip.starts_with("10.88.0.") && ip != kGateway; }

// Lines of iptables-save that name a CNI chain but are not portmap's shared chains,
// which stay (as in Kubernetes) once the first host port was mapped.
std::vector<std::string> SandboxCniLines() {
  std::vector<std::string> lines;
  std::istringstream in(Run({"iptables-save"}).out);
  for (std::string line; std::getline(in, line);) {
    if (line.find("CNI-") == std::string::npos) continue;
    std::string rest = line;
    for (size_t p; (p = rest.find("CNI-HOSTPORT-")) != std::string::npos;) rest.erase(p, 13);
    if (rest.find("CNI-") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

TEST_CASE("network e2e: two pods talk, a hostPort answers from the node and from pods, teardown leaves nothing") {
  Node node;
  std::unique_ptr<PodNetwork> net = node.Open();
  REQUIRE(node.Leftovers().total() == 0);

  double add_a = 0, add_b = 0, del_a = 0, del_b = 0;
  Attachment a = MustSetup(*net, "pod-a", {{18080, 8080, "tcp", ""}}, &add_a);
  Attachment b = MustSetup(*net, "pod-b", {}, &add_b);
  MESSAGE("Setup with a hostPort ", add_a, " ms, without ", add_b, " ms");
  CHECK(InSubnet(a.ip));
  CHECK(InSubnet(b.ip));
  CHECK(a.ip != b.ip);
  CHECK(a.netns_path == "/run/netns/" + node.options().netns_prefix + "pod-a");
  CHECK(IsNetnsMount(a.netns_path));
  std::string listed = Run({"ip", "netns", "list"}).out;
  CHECK(listed.find(node.options().netns_prefix + "pod-a") != std::string::npos);
  CHECK(listed.find(node.options().netns_prefix + "pod-b") != std::string::npos);

  NetworkLeftovers during = node.Leftovers();
  CHECK(during.netns_files == 2);
  CHECK(during.veth_links == 2);
  CHECK(during.ipam_allocations == 2);
  CHECK(during.iptables_rules > 0);
  absl::StatusOr<std::vector<std::string>> ids = net->List();
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{"pod-a", "pod-b"});

  {
    reef::testing::Process server = Serve(a, 8080, "served-by-a");
    // Pod to pod over the bridge.
    CHECK(Fetch(b.netns_path, a.ip, 8080) == "served-by-a");
    // The hostPort from the node itself: its address, the bridge's, and loopback
    // (locally originated: DNAT in OUTPUT; 127.0.0.1 needs portmap's snat).
    CHECK(Fetch("", kNodeAddress, 18080) == "served-by-a");
    CHECK(Fetch("", kGateway, 18080) == "served-by-a");
    CHECK(Fetch("", "127.0.0.1", 18080) == "served-by-a");
    // From outside the node's stack (PREROUTING): another pod, and the pod itself
    // through its own hostPort (hairpin).
    CHECK(Fetch(b.netns_path, kNodeAddress, 18080) == "served-by-a");
    CHECK(Fetch(a.netns_path, kNodeAddress, 18080) == "served-by-a");
    // pod-b maps no port.
    CHECK(Fetch(a.netns_path, b.ip, 8080, std::chrono::milliseconds(0)).starts_with("(no answer"));
  }

  MustTeardown(*net, "pod-a", &del_a);
  MustTeardown(*net, "pod-b", &del_b);
  MESSAGE("Teardown with a hostPort ", del_a, " ms, without ", del_b, " ms");
  MustTeardown(*net, "pod-a");  // idempotent
  NetworkLeftovers after = node.Leftovers();
  CHECK_MESSAGE(after.total() == 0, after.ToString());
  CHECK_MESSAGE(SandboxCniLines().empty(), Joined(SandboxCniLines()));
  CHECK_FALSE(fs::exists(a.netns_path));
  CHECK(net->Get("pod-a").status().code() == absl::StatusCode::kNotFound);
  ids = net->List();
  REQUIRE(ids.ok());
  CHECK(ids->empty());
}

TEST_CASE("network e2e: Setup after a reopen returns the earlier attachment as is") {
  Node node;
  Attachment first;
  {
    std::unique_ptr<PodNetwork> net = node.Open();
    first = MustSetup(*net, "web", {{18081, 80, "tcp", ""}});
  }
  NetworkLeftovers before = node.Leftovers();
  std::unique_ptr<PodNetwork> net = node.Open();  // a restarted agent
  absl::StatusOr<Attachment> got = net->Get("web");
  REQUIRE_MESSAGE(got.ok(), got.status().message());
  CHECK(got->ip == first.ip);
  Attachment again = MustSetup(*net, "web", {{18081, 80, "tcp", ""}});
  CHECK(again.ip == first.ip);
  CHECK(again.netns_path == first.netns_path);
  NetworkLeftovers now = node.Leftovers();
  CHECK(now.ipam_allocations == 1);
  CHECK(now.veth_links == 1);
  CHECK(now.iptables_rules == before.iptables_rules);
  {
    reef::testing::Process server = Serve(again, 80, "still-web");
    CHECK(Fetch("", kNodeAddress, 18081) == "still-web");
  }
  MustTeardown(*net, "web");
  CHECK_MESSAGE(node.Leftovers().total() == 0, node.Leftovers().ToString());
}

TEST_CASE("network e2e: after a crash, GarbageCollect removes all but what the agent keeps") {
  Node node;
  std::string prefix = node.options().netns_prefix;
  {
    std::unique_ptr<PodNetwork> net = node.Open();
    MustSetup(*net, "p1", {{18082, 80, "tcp", ""}});
    MustSetup(*net, "p2", {{18083, 80, "udp", ""}});
    MustSetup(*net, "p3", {});
    MustSetup(*net, "p4", {{18084, 80, "tcp", ""}});
    // p4's agent died before it recorded the result.
    std::string record_path = node.options().state_dir + "/sandboxes/p4.json";
    std::ifstream in(record_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = text.find("\"complete\": true");
    REQUIRE(at != std::string::npos);
    text.replace(at, 16, "\"complete\": false");
    std::ofstream(record_path) << text;
    // p5's died between creating the namespace file and mounting it.
    std::ofstream(node.options().netns_dir + "/" + prefix + "p5");
  }
  std::unique_ptr<PodNetwork> net = node.Open();
  CHECK(net->Get("p4").status().code() == absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<std::string>> ids = net->List();
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{"p1", "p2", "p3", "p4", "p5"});

  absl::Status gc = net->GarbageCollect({"p3"});
  REQUIRE_MESSAGE(gc.ok(), gc.message());
  ids = net->List();
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{"p3"});
  NetworkLeftovers kept = node.Leftovers();
  CHECK_MESSAGE((kept.netns_files == 1 && kept.veth_links == 1 && kept.ipam_allocations == 1), kept.ToString());
  CHECK(net->Get("p3").ok());

  gc = net->GarbageCollect({});
  REQUIRE_MESSAGE(gc.ok(), gc.message());
  NetworkLeftovers after = node.Leftovers();
  CHECK_MESSAGE(after.total() == 0, after.ToString());
  CHECK_MESSAGE(SandboxCniLines().empty(), Joined(SandboxCniLines()));
}

TEST_CASE("network e2e: a sandbox whose record was lost is still torn down") {
  Node node;
  std::unique_ptr<PodNetwork> net = node.Open();
  MustSetup(*net, "lost", {{18085, 80, "tcp", ""}});
  fs::remove(node.options().state_dir + "/sandboxes/lost.json");
  absl::StatusOr<std::vector<std::string>> ids = net->List();
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{"lost"});  // from its namespace and its address
  MustTeardown(*net, "lost");
  NetworkLeftovers after = node.Leftovers();
  CHECK_MESSAGE(after.total() == 0, after.ToString());
}

TEST_CASE("network e2e: a failing plugin is named, and Setup undoes what it did") {
  Node node;
  // A link that is not a bridge where the bridge should be: the bridge plugin refuses.
  std::string fake = "rfnb" + std::to_string(::getpid() % 100000);
  Must({"ip", "link", "add", fake, "type", "veth", "peer", "name", fake + "p"});
  struct LinkGone {
    std::string name;
    ~LinkGone() { Run({"ip", "link", "del", name}); }
  } gone{fake};
  node.options().bridge = fake;
  std::unique_ptr<PodNetwork> net = node.Open();
  absl::StatusOr<Attachment> a = net->Setup("broken", {{18086, 80, "tcp", ""}});
  REQUIRE_FALSE(a.ok());
  std::string message(a.status().message());
  MESSAGE(message);
  CHECK(message.starts_with("set up broken: bridge ADD: "));
  CHECK(message.find(fake) != std::string::npos);
  CHECK_FALSE(fs::exists(node.options().netns_dir + "/" + node.options().netns_prefix + "broken"));
  absl::StatusOr<std::vector<std::string>> ids = net->List();
  REQUIRE(ids.ok());
  CHECK(ids->empty());
  NetworkLeftovers after = CountNetworkLeftovers(node.options().netns_dir, node.options().netns_prefix,
                                                 node.options().state_dir, "reef0");
  // (The fake pair is not counted: it is neither named veth* nor on reef0.)
  CHECK(after.netns_files == 0);
  CHECK(after.ipam_allocations == 0);
  CHECK(after.iptables_rules == 0);
}

}  // namespace
}  // namespace reef::agent::network
