#include "agent/pods/pod_sandbox.h"

#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "common/log.h"
#include "common/strings.h"

namespace reef::agent {
std::string ShortSha256(const std::string& text, size_t n) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len)).substr(0, n);
}

std::string SandboxId(const std::string& pod_key, const std::string& spec_hash) {
  return reef::StrCat(ShortSha256(pod_key, 10), "-", spec_hash.substr(0, 8));
}

std::string ContainerId(const std::string& pod_key, const std::string& spec_hash,
                        const std::string& container, int attempt) {
  return reef::StrCat(SandboxId(pod_key, spec_hash), "-", container, "-", attempt);
}

std::vector<network::PortMapping> HostPorts(const reef::v1::PodSpec& spec) {
  std::vector<network::PortMapping> ports;
  for (const auto& c : spec.containers()) {
    for (const auto& p : c.ports()) {
      if (p.host_port() <= 0) continue;
      std::string protocol = absl::AsciiStrToLower(p.protocol().empty() ? "TCP" : p.protocol());
      ports.push_back({p.host_port(), p.container_port(), protocol, p.host_ip()});
    }
  }
  return ports;
}

Sandboxes::Sandboxes(std::string pods_dir) : volumes_(volumes::VolumeOptions{std::move(pods_dir)}) {}

absl::StatusOr<Sandbox> Sandboxes::Ensure(const reef::v1::Pod& pod, const std::string& id,
                                          const volumes::ConfigSource& config) {
  Sandbox sandbox;
  sandbox.id = id;
  if (!pod.spec().host_network()) {
    auto it = attached_.find(id);
    if (it == attached_.end()) {
      if (network_ == nullptr) {
        return absl::UnavailableError("the pod network is not ready: the node has no pod CIDR yet");
      }
      ASSIGN_OR_RETURN(network::Attachment a, network_->Setup(id, HostPorts(pod.spec())));
      it = attached_.emplace(id, std::move(a)).first;
    }
    sandbox.netns_path = it->second.netns_path;
    sandbox.pod_ip = it->second.ip;
  }
  auto refreshed = volumes_.Prepare(pod, id, config);
  if (refreshed.ok()) {
    last_volumes_[id] = *refreshed;
    sandbox.volumes = *std::move(refreshed);
    return sandbox;
  }
  auto last = last_volumes_.find(id);
  if (last == last_volumes_.end()) return refreshed.status();
  sandbox.volumes = last->second;
  sandbox.volume_error = std::string(refreshed.status().message());
  return sandbox;
}

absl::Status Sandboxes::Remove(const std::string& id) {
  RETURN_IF_ERROR(volumes_.Remove(id));
  // Without a network yet, what a previous run wired is released by the garbage
  // collection that follows SetNetwork.
  if (network_ != nullptr) RETURN_IF_ERROR(network_->Teardown(id));
  attached_.erase(id);
  last_volumes_.erase(id);
  return absl::OkStatus();
}

absl::Status Sandboxes::GarbageCollect(const std::set<std::string>& keep) {
  RETURN_IF_ERROR(volumes_.GarbageCollect(keep));
  if (network_ != nullptr) RETURN_IF_ERROR(network_->GarbageCollect(keep));
  for (auto it = attached_.begin(); it != attached_.end();) {
    it = keep.count(it->first) ? std::next(it) : attached_.erase(it);
  }
  for (auto it = last_volumes_.begin(); it != last_volumes_.end();) {
    it = keep.count(it->first) ? std::next(it) : last_volumes_.erase(it);
  }
  return absl::OkStatus();
}

}  // namespace reef::agent
