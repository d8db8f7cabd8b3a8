#pragma once
// The reef-agent process: opens the node's machinery (state, images, runtime), joins
// the cluster when told to, and runs the sync loop that turns what is desired (static
// pods from --manifest-dir, pods from the controller) into running containers.
// main.cc only parses flags.

#include <string>

#include "agent/image/image_store.h"
#include "agent/image/snapshotter.h"
#include "agent/node_info.h"
#include "agent/runtime/runtime.h"
#include "agent/state/agent_state.h"

namespace reef::agent {

struct AgentOptions {
  std::string data_dir = "/var/lib/reef/agent";
  std::string manifest_dir;
  std::string node_name;   // --node-name; empty: the hostname
  std::string registries;  // a registries.yaml
  std::string images_dir;  // image tarballs imported at start
  std::string server;      // the controller, HOST:PORT; empty: standalone
  std::string token;       // a join token, used once: while no node certificate exists
  std::string node_labels;      // "k=v,k2=v2"
  std::string system_reserved = std::string(kDefaultSystemReserved);
  std::string pod_cidr;  // empty: the controller's, or kStandalonePodCidr standalone
  std::string cni_bin_dir = "/usr/lib/cni";
};

// Pod addresses of a standalone box (no controller to hand out a CIDR), as Podman's
// default network.
inline constexpr char kStandalonePodCidr[] = "10.88.0.0/24";

// The node-local pieces every command needs.
struct Machinery {
  std::unique_ptr<AgentState> state;
  std::unique_ptr<image::Snapshotter> snapshotter;
  std::unique_ptr<image::ImageStore> images;
  std::unique_ptr<runtime::Runtime> runtime;  // only when running pods
};

absl::StatusOr<Machinery> OpenMachinery(const AgentOptions& options, bool with_runtime);

// Runs until SIGTERM or SIGINT; containers keep running after it returns. The exit
// code for main().
int RunAgent(AgentOptions options);

}  // namespace reef::agent
