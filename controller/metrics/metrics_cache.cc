#include "controller/metrics/metrics_cache.h"

#include <algorithm>

#include "common/strings.h"

namespace reef::controller {

void MetricsCache::Update(const std::string& node, const void* stream, const v1::Heartbeat& heartbeat) {
  if (!heartbeat.has_node_metrics()) return;
  Entry entry;
  entry.stream = stream;
  entry.received = clock_->Now();
  entry.node = heartbeat.node_metrics();
  entry.node.mutable_metadata()->set_name(node);
  entry.pods.assign(heartbeat.pod_metrics().begin(), heartbeat.pod_metrics().end());
  absl::MutexLock lock(&mu_);
  nodes_[node] = std::move(entry);
}

void MetricsCache::Forget(const std::string& node, const void* stream) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node);
  if (it != nodes_.end() && it->second.stream == stream) nodes_.erase(it);
}

absl::Status MetricsCache::Top(const v1::TopRequest& request, v1::TopResponse* response) {
  const bool nodes = request.kind() == "Node";
  if (!nodes && request.kind() != "Pod") {
    return absl::InvalidArgumentError(
        reef::StrCat("top: kind must be Node or Pod, not \"", request.kind(), "\""));
  }
  const absl::Time oldest = clock_->Now() - max_age_;
  absl::MutexLock lock(&mu_);
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->second.received < oldest) {
      it = nodes_.erase(it);  // stale: the agent stopped measuring, or its stream hangs
      continue;
    }
    const Entry& e = it->second;
    if (nodes) {
      if (request.name().empty() || request.name() == it->first) *response->add_nodes() = e.node;
    } else {
      for (const v1::PodMetrics& pod : e.pods) {
        if (!request.namespace_().empty() && pod.metadata().namespace_() != request.namespace_()) continue;
        if (!request.name().empty() && pod.metadata().name() != request.name()) continue;
        *response->add_pods() = pod;
      }
    }
    ++it;
  }
  // nodes_ is ordered by name already; pods come from several nodes.
  std::sort(response->mutable_pods()->begin(), response->mutable_pods()->end(),
            [](const v1::PodMetrics& a, const v1::PodMetrics& b) {
              return std::tie(a.metadata().namespace_(), a.metadata().name()) <
                     std::tie(b.metadata().namespace_(), b.metadata().name());
            });
  return absl::OkStatus();
}

}  // namespace reef::controller
