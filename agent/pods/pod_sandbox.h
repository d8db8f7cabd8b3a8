#pragma once
// A pod's sandbox: what all its containers share, made before the first of them starts
// and released after the last is gone. Its network namespace (wired by the CNI
// plugins, with the pod's IP and hostPorts), unless the pod uses the node's network,
// and its volumes (refreshed on every pass, so that ConfigMap and Secret changes
// reach mounted files). A pod whose spec changes gets a new sandbox, as a new pod
// does in Kubernetes.
//
// Thread safety: the sync loop's thread only.

#include <map>
#include <memory>
#include <set>
#include <string>

#include "agent/network/pod_network.h"
#include "agent/volumes/config_source.h"
#include "agent/volumes/volume_manager.h"
#include "reef/v1/core.pb.h"

namespace reef::agent {

struct Sandbox {
  std::string id;
  std::string netns_path;  // empty: the node's network namespace
  std::string pod_ip;      // empty with hostNetwork (the node's address, filled by the link)
  volumes::PodVolumes volumes;
  // Set when a volume could not be refreshed this time: `volumes` are the last good
  // ones, and the pod runs on with their contents.
  std::string volume_error;
};

// The first `hex_chars` of the text's SHA-256: short, stable names for pods' things.
std::string ShortSha256(const std::string& text, size_t hex_chars);

// Stable for (pod, spec): short enough for netns, cgroup and CNI names.
std::string SandboxId(const std::string& pod_key, const std::string& spec_hash);

// The runtime id of a container's attempt: its sandbox's id, the container's name
// and the attempt; unique across spec changes, short enough for runc and cgroups.
std::string ContainerId(const std::string& pod_key, const std::string& spec_hash,
                        const std::string& container, int attempt);

class Sandboxes {
 public:
  explicit Sandboxes(std::string pods_dir);

  // From when the node's pod CIDR is known; until then pods with their own network
  // wait (their status says why).
  void SetNetwork(std::unique_ptr<network::PodNetwork> network) { network_ = std::move(network); }
  bool has_network() const { return network_ != nullptr; }

  // Makes the sandbox (once) and refreshes its volumes (every call; no writes when
  // nothing changed). Fails only while the network or the first volumes cannot be made.
  absl::StatusOr<Sandbox> Ensure(const reef::v1::Pod& pod, const std::string& id,
                                 const volumes::ConfigSource& config);
  // Releases the network and removes the volumes. Idempotent. Before SetNetwork, the
  // network part is left to the GarbageCollect that follows it.
  absl::Status Remove(const std::string& id);
  // Removes every sandbox not in `keep` (after a crash: what was half made or half
  // released). The network's part only once SetNetwork was called.
  absl::Status GarbageCollect(const std::set<std::string>& keep);

 private:
  volumes::VolumeManager volumes_;
  std::unique_ptr<network::PodNetwork> network_;
  std::map<std::string, network::Attachment> attached_;  // by sandbox id
  std::map<std::string, volumes::PodVolumes> last_volumes_;  // by sandbox id
};

// The hostPorts of every container of the pod, for the CNI portmap plugin.
std::vector<network::PortMapping> HostPorts(const reef::v1::PodSpec& spec);

}  // namespace reef::agent
