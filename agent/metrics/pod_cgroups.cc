#include "agent/metrics/pod_cgroups.h"

#include <map>

#include "common/strings.h"

namespace reef::agent::metrics {

std::vector<PodCgroups> PodCgroupsFor(const std::vector<PodRecord>& pods,
                                      const std::vector<ContainerRecord>& containers,
                                      const std::function<std::string(const std::string& pod_key)>& pod_cgroup) {
  // pod key -> container name -> its live record with the highest attempt
  std::map<std::string, std::map<std::string, const ContainerRecord*>> live;
  for (const ContainerRecord& c : containers) {
    if (c.finished) continue;
    const ContainerRecord*& slot = live[c.pod_key][c.name];
    if (slot == nullptr || slot->attempt < c.attempt) slot = &c;
  }
  std::vector<PodCgroups> out;
  out.reserve(pods.size());
  for (const PodRecord& pod : pods) {
    PodCgroups p;
    p.namespace_ = pod.pod.metadata().namespace_();
    p.name = pod.pod.metadata().name();
    if (p.namespace_.empty() || p.name.empty()) {  // a record always has its key
      size_t slash = pod.key.find('/');
      p.namespace_ = pod.key.substr(0, slash);
      p.name = slash == std::string::npos ? "" : pod.key.substr(slash + 1);
    }
    p.cgroup = pod_cgroup(pod.key);
    if (auto it = live.find(pod.key); it != live.end()) {
      for (const auto& [name, record] : it->second) {
        p.containers.emplace_back(name, reef::StrCat(p.cgroup, "/", record->id));
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace reef::agent::metrics
