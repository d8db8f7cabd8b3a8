#include "agent/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/magic.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "absl/strings/ascii.h"
#include "agent/cluster/cert_renewer.h"
#include "agent/cluster/controller_link.h"
#include "agent/cluster/join.h"
#include "agent/inspect.h"
#include "agent/node.h"
#include "agent/node_info.h"
#include "agent/pods/pod_manager.h"
#include "agent/pods/static_pods.h"
#include "agent/metrics/collector.h"
#include "agent/metrics/pod_cgroups.h"
#include "agent/probes/prober.h"
#include "agent/runtime/runc_runtime.h"
#include "agent/volumes/host_mounts.h"
#include "agent/runtime/subprocess.h"
#include "common/files.h"
#include "common/log.h"
#include "common/version.h"

namespace reef::agent {
namespace {

// Signals and wake-ups reach the sync loop's poll() through pipes.
int g_signal_pipe[2] = {-1, -1};
int g_wake_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  char b = static_cast<char>(sig);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &b, 1);
}

void Wake() {
  char b = 1;
  [[maybe_unused]] ssize_t n = write(g_wake_pipe[1], &b, 1);
}

void Drain(int fd) {
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

// Waits up to `timeout` for a change in the manifest folder, a wake-up or a signal.
// Returns false when the agent should stop.
bool WaitForWork(int inotify_fd, std::chrono::milliseconds timeout) {
  pollfd fds[3] = {{g_signal_pipe[0], POLLIN, 0}, {g_wake_pipe[0], POLLIN, 0}, {inotify_fd, POLLIN, 0}};
  int n = poll(fds, inotify_fd >= 0 ? 3 : 2, static_cast<int>(timeout.count()));
  if (n <= 0) return true;
  if (fds[0].revents & POLLIN) return false;
  if (fds[1].revents & POLLIN) Drain(g_wake_pipe[0]);
  if (inotify_fd >= 0 && (fds[2].revents & POLLIN)) Drain(inotify_fd);
  return true;
}

// What the agent says about its node, rebuilt on demand (Hello, each heartbeat).
// Conditions keep their times while they hold, so an unchanged box reads the same.
class NodeDescriber {
 public:
  NodeDescriber(NodeConfig config, std::string data_dir, std::string server)
      : config_(std::move(config)), data_dir_(std::move(data_dir)), server_(std::move(server)) {}

  v1::Node Describe() {
    absl::MutexLock lock(&mu_);
    auto facts = ReadMachineFacts(data_dir_, server_);
    absl::StatusOr<v1::Node> node =
        facts.ok() ? BuildNode(config_, *facts, absl::Now(), has_last_ ? &last_ : nullptr) : facts.status();
    if (!node.ok()) {
      REEF_LOG(Error) << "describe node " << config_.name << ": " << node.status().message();
      if (has_last_) return last_;
      v1::Node bare;
      bare.mutable_metadata()->set_name(config_.name);
      return bare;
    }
    last_ = *node;
    has_last_ = true;
    return last_;
  }

 private:
  const NodeConfig config_;
  const std::string data_dir_, server_;
  absl::Mutex mu_;
  v1::Node last_ ABSL_GUARDED_BY(mu_);
  bool has_last_ ABSL_GUARDED_BY(mu_) = false;
};

absl::StatusOr<NodeConfig> MakeNodeConfig(const AgentOptions& o) {
  NodeConfig config;
  config.name = o.node_name;
  ASSIGN_OR_RETURN(config.labels, ParseNodeLabels(o.node_labels));
  ASSIGN_OR_RETURN(config.reserved, ParseSystemReserved(o.system_reserved));
  auto runc = runtime::RunCommand({"runc", "--version"}, absl::Seconds(10));
  config.container_runtime_version = ContainerRuntimeVersion(runc.ok() ? runc->out : "");
  return config;
}

// Secrets stay in memory: a tmpfs of our own unless the folder already is on one (/run
// is, on most systems).
absl::Status PrepareMemoryDir(const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir, 0700));
  struct statfs fs = {};
  if (statfs(dir.c_str(), &fs) != 0) return ErrnoStatus(reef::StrCat("statfs ", dir), errno);
  if (fs.f_type == TMPFS_MAGIC) return absl::OkStatus();
  return volumes::MountTmpfs(dir, MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64m,mode=0700");
}

// The node's pod CIDR: --pod-cidr, else the controller's (Welcome, kept on disk for
// starts without a link), else, standalone, a default. Empty: not known yet.
std::string PodCidr(const AgentOptions& o, ControllerLink* link, const NodePaths& paths) {
  if (!o.pod_cidr.empty()) return o.pod_cidr;
  if (link != nullptr) {
    std::string from_controller = link->PodCidr();
    if (!from_controller.empty()) {
      (void)WriteFileAtomic(paths.pod_cidr_file(), from_controller + "\n", 0644);
      return from_controller;
    }
  }
  if (auto kept = ReadFileLimited(paths.pod_cidr_file(), 256); kept.ok() && !kept->empty()) {
    return std::string(absl::StripAsciiWhitespace(*kept));
  }
  return link != nullptr ? "" : std::string(kStandalonePodCidr);
}

// Opens the pod network once the CIDR is known. False after a failure to open it,
// which is worth a pause before the next try (it was logged).
bool OpenPodNetwork(const AgentOptions& o, ControllerLink* link, const NodePaths& paths, PodManager& pods) {
  const std::string cidr = PodCidr(o, link, paths);
  if (cidr.empty()) return true;  // the controller's Welcome brings it
  network::NetworkOptions no;
  no.cni_bin_dir = o.cni_bin_dir;
  no.state_dir = paths.network_state();
  no.netns_prefix = paths.netns_prefix();
  no.subnet = cidr;
  auto net = network::PodNetwork::Open(std::move(no));
  if (!net.ok()) {
    REEF_LOG(Error) << "pod network: " << net.status().message();
    return false;
  }
  REEF_LOG(Info) << "pod network " << cidr << " ready";
  pods.SetPodNetwork(std::move(*net));
  return true;
}

void ImportImages(image::ImageStore& images, const std::string& folder) {
  for (const auto& r : images.ImportFolder(folder)) {
    if (r.images.ok()) {
      for (const auto& img : *r.images) REEF_LOG(Info) << "imported " << img.reference << " from " << r.file;
    } else {
      REEF_LOG(Error) << "import " << r.file << ": " << r.images.status().message();
    }
  }
}

}  // namespace

absl::StatusOr<Machinery> OpenMachinery(const AgentOptions& o, bool with_runtime) {
  NodePaths paths{o.data_dir, o.node_name};
  RETURN_IF_ERROR(MakeDirs(o.data_dir, 0700));
  Machinery m;
  std::string secrets_db;
  if (with_runtime) {
    // Only the running agent holds Secrets; the inspecting subcommands need none.
    secrets_db = paths.secrets_db();
    RETURN_IF_ERROR(PrepareMemoryDir(paths.memory_dir()));
  }
  ASSIGN_OR_RETURN(m.state, AgentState::Open(paths.state_db(), secrets_db));
  ASSIGN_OR_RETURN(m.snapshotter, image::Snapshotter::Open(paths.snapshots()));
  image::ImageStoreOptions io;
  io.root = paths.images();
  io.snapshotter = m.snapshotter.get();
  if (!o.registries.empty()) {
    ASSIGN_OR_RETURN(io.registries, image::RegistriesConfig::Load(o.registries));
  }
  ASSIGN_OR_RETURN(m.images, image::ImageStore::Open(std::move(io)));
  if (with_runtime) {
    runtime::RuncOptions ro;
    ro.root = paths.runc_root();
    ro.monitor_dir = paths.monitors();
    ASSIGN_OR_RETURN(m.runtime, runtime::OpenRuncRuntime(ro));
  }
  return m;
}

int RunAgent(AgentOptions o) {
  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0 || pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Fail(ErrnoStatus("pipe", errno));
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto name = NodeName(o.node_name, DefaultNodeName());
  if (!name.ok()) return Fail(name.status());
  o.node_name = *name;
  auto node_config = MakeNodeConfig(o);
  if (!node_config.ok()) return Fail(node_config.status());
  if (absl::Status s = JoinIfNeeded({o.server, o.token, o.node_name, o.data_dir}); !s.ok()) return Fail(s);

  auto m = OpenMachinery(o, true);
  if (!m.ok()) return Fail(m.status());
  REEF_LOG(Info) << "reef-agent " << kVersion << " on node " << o.node_name << ", data in " << o.data_dir;
  if (!o.images_dir.empty()) ImportImages(*m->images, o.images_dir);

  NodePaths paths{o.data_dir, o.node_name};
  auto prober = probes::NewProber(m->runtime.get());
  probes::ProbeManager probe_manager({&Clock::Real(), prober.get(), Wake});
  PodManagerOptions pmo;
  pmo.data_dir = o.data_dir;
  pmo.cgroup_parent = paths.cgroup_parent();
  pmo.bundles_dir = paths.bundles();
  pmo.probes = &probe_manager;
  PodManager pods(pmo, m->state.get(), m->images.get(), m->runtime.get());
  if (absl::Status s = pods.Recover(); !s.ok()) return Fail(s);

  // In a cluster: the link to the controller and the certificate's renewal.
  std::unique_ptr<NodeDescriber> describer;
  // Usage figures for `reefctl top`, on every heartbeat (only the link's thread uses it).
  metrics::MetricsCollector collector;
  std::unique_ptr<ControllerLink> link;
  std::unique_ptr<CertRenewer> renewer;
  if (!o.server.empty()) {
    describer = std::make_unique<NodeDescriber>(*node_config, o.data_dir, o.server);
    ControllerLinkOptions lo;
    lo.server = o.server;
    lo.node_name = o.node_name;
    lo.data_dir = o.data_dir;
    lo.state = m->state.get();
    lo.describe_node = [d = describer.get()] { return d->Describe(); };
    lo.credentials = [dir = o.data_dir] { return LoadNodeCredentials(dir); };
    lo.desired_changed = Wake;
    auto fill_heartbeat = [&collector, &pods, state = m->state.get(), node = o.node_name](v1::Heartbeat* hb) {
      auto records = state->Pods();
      auto containers = state->Containers();
      if (!records.ok() || !containers.ok()) return;
      // The controller's pods only: static pods are not in its API.
      std::erase_if(*records, [](const PodRecord& p) { return p.source != "controller"; });
      auto cgroups = metrics::PodCgroupsFor(*records, *containers,
                                            [&pods](const std::string& key) { return pods.PodCgroup(key); });
      collector.Collect(node, cgroups, hb->mutable_node_metrics(), hb->mutable_pod_metrics());
    };
    v1::Heartbeat primer;  // CPU is a rate: the first collection only sets the baseline
    fill_heartbeat(&primer);
    lo.fill_heartbeat = std::move(fill_heartbeat);
    link = ControllerLink::Start(std::move(lo));
    CertRenewerOptions ro;
    ro.server = o.server;
    ro.data_dir = o.data_dir;
    // A TLS connection keeps the credential it was opened with: reconnect with the new one.
    ro.on_renewed = [l = link.get()](const pki::Certificate&) { l->Reconnect(); };
    auto started = CertRenewer::Start(std::move(ro));
    if (!started.ok()) return Fail(started.status());
    renewer = std::move(*started);
  }

  int inotify_fd = -1;
  if (!o.manifest_dir.empty()) {
    (void)MakeDirs(o.manifest_dir, 0755);
    inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    inotify_add_watch(inotify_fd, o.manifest_dir.c_str(),
                      IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY);
  }
  std::cout << "reef-agent ready: node " << o.node_name << std::endl;
  std::vector<std::string> last_errors;
  bool busy = false;
  absl::Time next_network_try = absl::InfinitePast();
  do {
    // A failed open (e.g. plugins missing) is retried now and then, not every pass.
    if (!pods.has_pod_network() && absl::Now() >= next_network_try &&
        !OpenPodNetwork(o, link.get(), paths, pods)) {
      next_network_try = absl::Now() + absl::Seconds(10);
    }
    std::map<std::string, DesiredPod> desired;
    if (link) {
      for (auto& [key, pod] : link->DesiredPods()) {
        std::string hash = PodSpecHash(pod);
        desired[key] = DesiredPod{std::move(pod), "controller", std::move(hash)};
      }
    }
    if (!o.manifest_dir.empty()) {
      StaticPodSet set = LoadStaticPods(o.manifest_dir, o.node_name);
      if (set.errors != last_errors) {  // say each problem once, not every second
        for (const auto& e : set.errors) REEF_LOG(Error) << "static pods: " << e;
        last_errors = set.errors;
      }
      for (auto& [key, sp] : set.pods) {
        if (desired.count(key)) {
          REEF_LOG(Warning) << "static pod " << key << " (" << sp.source << ") shadows the controller's pod of that name";
        }
        desired[key] = DesiredPod{sp.pod, reef::StrCat("static:", sp.source), sp.spec_hash};
      }
    }
    pods.SetDesired(std::move(desired), link ? link->ConfigObjects() : nullptr);
    // Stops in progress are looked at often, so that a container that exits on
    // SIGTERM is cleaned up (and its replacement started) without a second's delay.
    busy = pods.SyncOnce();
    if (link) {
      if (auto records = m->state->Pods(); records.ok()) link->ReportStatus(*records);
    }
  } while (WaitForWork(inotify_fd, busy ? std::chrono::milliseconds(100) : std::chrono::seconds(1)));
  REEF_LOG(Info) << "stopping; containers keep running";
  renewer.reset();
  link.reset();
  return 0;
}

}  // namespace reef::agent
