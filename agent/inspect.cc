#include "agent/inspect.h"

#include <deque>
#include <fstream>
#include <iostream>

#include "agent/pods/pod_manager.h"
#include "cli/printers.h"
#include "common/clock.h"
#include "common/files.h"

namespace reef::agent {

int Fail(const absl::Status& s) {
  std::cerr << "reef-agent: " << s.message() << "\n";
  return 1;
}

namespace {

std::string Age(const std::string& timestamp) {
  auto t = ParseTimestamp(timestamp);
  return t.ok() ? HumanDuration(absl::Now() - *t) : "-";
}

}  // namespace

int ImportImages(image::ImageStore& images, const std::vector<std::string>& files) {
  int code = 0;
  for (const std::string& f : files) {
    auto imported = images.Import(f);
    if (!imported.ok()) {
      code = Fail(imported.status());
      continue;
    }
    for (const auto& img : *imported) {
      std::cout << "imported " << img.reference << " (" << img.manifest_digest.ToString() << ")\n";
    }
  }
  return code;
}

int ListImages(image::ImageStore& images) {
  auto list = images.List();
  if (!list.ok()) return Fail(list.status());
  cli::Table table;
  table.Add({"IMAGE", "DIGEST", "SIZE"});
  for (const auto& img : *list) {
    table.Add({img.reference, img.manifest_digest.ToString().substr(0, 19), HumanBytes(img.size)});
  }
  std::cout << table.Render();
  return 0;
}

int RemoveImage(image::ImageStore& images, const std::string& reference) {
  if (absl::Status s = images.Remove(reference); !s.ok()) return Fail(s);
  std::cout << "removed " << reference << "\n";
  return 0;
}

int CollectGarbage(image::ImageStore& images, AgentState& state) {
  auto pods = state.Pods();
  if (!pods.ok()) return Fail(pods.status());
  image::GcOptions options;
  for (const auto& p : *pods) {
    for (const auto& c : p.pod.spec().containers()) {
      auto img = images.Get(c.image());
      if (img.ok() && !img->layers.empty()) options.snapshots_in_use.push_back(img->layers.back().chain_id);
    }
  }
  auto result = images.GarbageCollect(options);
  if (!result.ok()) return Fail(result.status());
  std::cout << "removed " << result->blobs.blobs_removed << " blobs (" << HumanBytes(result->blobs.bytes_freed)
            << ") and " << result->snapshots_removed << " layers\n";
  return 0;
}

int PrintPods(AgentState& state) {
  auto pods = state.Pods();
  if (!pods.ok()) return Fail(pods.status());
  auto containers = state.Containers();
  if (!containers.ok()) return Fail(containers.status());
  cli::Table table;
  table.Add({"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "SOURCE"});
  for (const auto& p : *pods) {
    int ready = 0, restarts = 0;
    for (const auto& cs : p.pod.status().container_statuses()) {
      ready += cs.ready();
      restarts += cs.restart_count();
    }
    table.Add({p.pod.metadata().namespace_(), p.pod.metadata().name(),
               reef::StrCat(ready, "/", p.pod.spec().containers_size()), cli::PodStatusText(p.pod),
               std::to_string(restarts), Age(p.pod.status().start_time()), p.source});
  }
  std::cout << table.Render();
  std::cout << "\n";
  cli::Table ct;
  ct.Add({"POD", "CONTAINER", "ID", "ATTEMPT", "STATE"});
  for (const auto& c : *containers) {
    ct.Add({c.pod_key, c.name, c.id, std::to_string(c.attempt), c.finished ? "exited" : "running"});
  }
  std::cout << ct.Render();
  return 0;
}

int PrintLogs(AgentState& state, const std::string& data_dir, const std::string& pod,
              const std::string& container, int tail) {
  std::string key = pod.find('/') == std::string::npos ? "default/" + pod : pod;
  auto pods = state.Pods();
  if (!pods.ok()) return Fail(pods.status());
  const PodRecord* found = nullptr;
  for (const auto& p : *pods) {
    if (p.key == key) found = &p;
  }
  if (found == nullptr) return Fail(absl::NotFoundError(reef::StrCat("pod ", key, " not found on this node")));
  std::string name = container;
  if (name.empty()) {
    if (found->pod.spec().containers_size() != 1) {
      return Fail(absl::InvalidArgumentError(reef::StrCat("pod ", key, " has several containers: pick one with -c")));
    }
    name = found->pod.spec().containers(0).name();
  }
  std::ifstream in(PodLogPath(data_dir, key, name));
  if (!in) return Fail(absl::NotFoundError(reef::StrCat("no log yet for ", key, " container ", name)));
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (tail >= 0 && static_cast<int>(lines.size()) > tail) lines.pop_front();
  }
  for (const auto& l : lines) std::cout << l << "\n";
  return 0;
}

}  // namespace reef::agent
