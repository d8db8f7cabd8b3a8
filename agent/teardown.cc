#include "agent/teardown.h"

#include <filesystem>
#include <iostream>

#include "agent/image/overlay.h"
#include "agent/inspect.h"
#include "agent/network/pod_network.h"
#include "agent/node.h"
#include "agent/pods/pod_manager.h"
#include "agent/runtime/cgroups.h"
#include "agent/volumes/host_mounts.h"
#include "absl/strings/ascii.h"
#include "common/files.h"

namespace reef::agent {
namespace {

// Counts what failed, and says each failure once.
struct Outcome {
  int failures = 0;
  void Check(const absl::Status& s, const std::string& what) {
    if (s.ok()) return;
    ++failures;
    std::cerr << "reef-agent teardown: " << what << ": " << s.message() << "\n";
  }
};

}  // namespace

int Teardown(const AgentOptions& o) {
  auto m = OpenMachinery(o, /*with_runtime=*/true);
  if (!m.ok()) return Fail(m.status());
  NodePaths paths{o.data_dir, o.node_name};
  Outcome out;
  int containers = 0;

  // Containers first: nothing may hold a mount or a network namespace after this.
  if (auto listed = m->runtime->List(); listed.ok()) {
    for (const auto& c : *listed) {
      out.Check(m->runtime->Delete(c.id, /*force=*/true), "remove container " + c.id);
      ++containers;
    }
  } else {
    out.Check(listed.status(), "list containers");
  }
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator(o.data_dir + "/containers", ec)) {
    out.Check(image::ContainerRootfs::Remove(dir.path().string()), "unmount " + dir.path().string());
  }

  // Pod networks and volumes: everything, as if no pod were left.
  network::NetworkOptions no;
  no.cni_bin_dir = o.cni_bin_dir;
  no.state_dir = paths.network_state();
  no.netns_prefix = paths.netns_prefix();
  // DEL needs a well-formed config (the node's, as the agent last used it); the
  // addresses come from the records.
  no.subnet = o.pod_cidr;
  if (auto kept = ReadFileLimited(paths.pod_cidr_file(), 256); no.subnet.empty() && kept.ok()) {
    no.subnet = std::string(absl::StripAsciiWhitespace(*kept));
  }
  if (no.subnet.empty()) no.subnet = kStandalonePodCidr;
  if (auto net = network::PodNetwork::Open(std::move(no)); net.ok()) {
    out.Check((*net)->GarbageCollect({}), "release pod networks");
  } else {
    out.Check(net.status(), "pod networks");
  }
  // Volumes are unmounted (memory emptyDirs, Secrets), not removed: emptyDir data on
  // disk is there for the pods when the agent starts again, as after a reboot.
  out.Check(volumes::UnmountAll(o.data_dir + "/pods"), "unmount pod volumes");

  // Cgroups: each pod's, then the agent's own parent (runc removed the containers').
  if (auto pods = m->state->Pods(); pods.ok()) {
    for (const PodRecord& p : *pods) {
      out.Check(runtime::RemoveCgroup(PodCgroupPath(paths.cgroup_parent(), p.key)), "remove cgroup of " + p.key);
    }
  }
  (void)runtime::RemoveCgroup(paths.cgroup_parent());  // not ours alone if it fails

  // Last, the agent's tmpfs (Secrets, bundles): closed state first.
  m->state.reset();
  out.Check(volumes::UnmountAll(paths.memory_dir()), "unmount " + paths.memory_dir());
  std::filesystem::remove_all(paths.volatile_dir(), ec);

  std::cout << "reef-agent teardown: removed " << containers << " containers"
            << (out.failures ? ", with failures (above)" : "") << "\n";
  return out.failures == 0 ? 0 : 1;
}

}  // namespace reef::agent
