// reef-agent: runs the pods of one edge box. With --manifest-dir it runs static pods
// from manifest files, with no controller at all. Subcommands inspect the box.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "agent/image/image_store.h"
#include "agent/image/snapshotter.h"
#include "agent/inspect.h"
#include "agent/node.h"
#include "agent/pods/pod_manager.h"
#include "agent/pods/static_pods.h"
#include "agent/runtime/runc_runtime.h"
#include "common/files.h"
#include "common/log.h"
#include "common/version.h"

namespace reef::agent {
namespace {

struct AgentOptions {
  std::string data_dir = "/var/lib/reef/agent";
  std::string manifest_dir;
  std::string node_name = DefaultNodeName();
  std::string registries;  // a registries.yaml
  std::string images_dir;  // image tarballs imported at start
};

int g_signal_pipe[2] = {-1, -1};
void OnSignal(int sig) {
  char b = static_cast<char>(sig);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &b, 1);
}

struct Machinery {
  std::unique_ptr<AgentState> state;
  std::unique_ptr<image::Snapshotter> snapshotter;
  std::unique_ptr<image::ImageStore> images;
  std::unique_ptr<runtime::Runtime> runtime;
};

absl::StatusOr<Machinery> OpenMachinery(const AgentOptions& o, bool with_runtime) {
  NodePaths paths{o.data_dir, o.node_name};
  RETURN_IF_ERROR(MakeDirs(o.data_dir, 0700));
  Machinery m;
  ASSIGN_OR_RETURN(m.state, AgentState::Open(paths.state_db()));
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

int Fail(const absl::Status& s) {
  std::cerr << "reef-agent: " << s.message() << "\n";
  return 1;
}

// Waits up to `timeout` for a change in the manifest folder or a signal. Returns
// false when the agent should stop.
bool WaitForWork(int inotify_fd, std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{g_signal_pipe[0], POLLIN, 0}, {inotify_fd, POLLIN, 0}};
  int n = poll(fds, inotify_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (n > 0 && (fds[0].revents & POLLIN)) return false;
  if (n > 0 && inotify_fd >= 0 && (fds[1].revents & POLLIN)) {
    char buf[16 * 1024];
    while (read(inotify_fd, buf, sizeof buf) > 0) {
    }
  }
  return true;
}

int Run(const AgentOptions& o) {
  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) return 1;
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto m = OpenMachinery(o, true);
  if (!m.ok()) return Fail(m.status());
  REEF_LOG(Info) << "reef-agent " << kVersion << " on node " << o.node_name << ", data in " << o.data_dir;
  if (!o.images_dir.empty()) {
    for (const auto& r : m->images->ImportFolder(o.images_dir)) {
      if (r.images.ok()) {
        for (const auto& img : *r.images) REEF_LOG(Info) << "imported " << img.reference << " from " << r.file;
      } else {
        REEF_LOG(Error) << "import " << r.file << ": " << r.images.status().message();
      }
    }
  }
  NodePaths paths{o.data_dir, o.node_name};
  PodManagerOptions pmo;
  pmo.data_dir = o.data_dir;
  pmo.cgroup_parent = paths.cgroup_parent();
  PodManager pods(pmo, m->state.get(), m->images.get(), m->runtime.get());
  if (absl::Status s = pods.Recover(); !s.ok()) return Fail(s);

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
  do {
    if (!o.manifest_dir.empty()) {
      StaticPodSet set = LoadStaticPods(o.manifest_dir, o.node_name);
      if (set.errors != last_errors) {  // say each problem once, not every second
        for (const auto& e : set.errors) REEF_LOG(Error) << "static pods: " << e;
        last_errors = set.errors;
      }
      std::map<std::string, DesiredPod> desired;
      for (auto& [key, sp] : set.pods) {
        desired[key] = DesiredPod{sp.pod, reef::StrCat("static:", sp.source), sp.spec_hash};
      }
      pods.SetDesired(std::move(desired));
    }
    // Stops in progress are looked at often, so that a container that exits on
    // SIGTERM is cleaned up (and its replacement started) without a second's delay.
    busy = pods.SyncOnce();
  } while (WaitForWork(inotify_fd, busy ? std::chrono::milliseconds(100) : std::chrono::seconds(1)));
  REEF_LOG(Info) << "stopping; containers keep running";
  return 0;
}

}  // namespace
}  // namespace reef::agent

int main(int argc, char** argv) {
  using namespace reef::agent;
  AgentOptions o;
  CLI::App app{"reef-agent: runs the pods of one edge box"};
  app.add_option("--data-dir", o.data_dir, "where the agent keeps images, state and logs")->capture_default_str();
  app.add_option("--manifest-dir", o.manifest_dir, "run the pods in these manifests (static pods)");
  app.add_option("--node-name", o.node_name, "this node's name")->capture_default_str();
  app.add_option("--registries", o.registries, "a registries.yaml (mirrors, credentials)");
  app.add_option("--images-dir", o.images_dir, "import the image tarballs in this folder at start");
  app.fallthrough();

  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  auto* images = app.add_subcommand("images", "local images: import, list, rm, gc");
  std::vector<std::string> import_files;
  auto* import = images->add_subcommand("import", "import OCI-layout or docker-archive tarballs");
  import->add_option("files", import_files)->required();
  auto* list = images->add_subcommand("list", "list images");
  std::string rm_ref;
  auto* rm = images->add_subcommand("rm", "remove an image");
  rm->add_option("reference", rm_ref)->required();
  auto* gc = images->add_subcommand("gc", "remove blobs and layers no image uses");
  images->require_subcommand(1);
  auto* ps = app.add_subcommand("ps", "list pods and containers with status, restarts and age");
  std::string log_pod, log_container;
  int tail = -1;
  auto* logs = app.add_subcommand("logs", "print a container's log");
  logs->add_option("pod", log_pod, "NAMESPACE/NAME or NAME (namespace default)")->required();
  logs->add_option("-c,--container", log_container, "the container (default: the only one)");
  logs->add_option("--tail", tail, "only the last N lines");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "reef-agent " << reef::kVersion << " (" << reef::kGitCommit << ", " << reef::kPlatform << ")\n";
    return 0;
  }
  if (*images || *ps || *logs) {
    auto m = OpenMachinery(o, false);
    if (!m.ok()) return Fail(m.status());
    if (*import) return ImportImages(*m->images, import_files);
    if (*list) return ListImages(*m->images);
    if (*rm) return RemoveImage(*m->images, rm_ref);
    if (*gc) return CollectGarbage(*m->images, *m->state);
    if (*ps) return PrintPods(*m->state);
    return PrintLogs(*m->state, o.data_dir, log_pod, log_container, tail);
  }
  return Run(o);
}
