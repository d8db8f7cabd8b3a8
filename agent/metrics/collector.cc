#include "agent/metrics/collector.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "absl/numeric/int128.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/manifest/quantity.h"
#include "common/files.h"
#include "common/log.h"

namespace reef::agent::metrics {
namespace {

constexpr uint64_t kMaxControlFile = 64 * 1024;
constexpr uint64_t kMaxProcFile = 1024 * 1024;  // /proc/stat grows with the cpus

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The content of a file, or nullopt (logged at debug level: a cgroup may vanish
// between the check and the read, and a controller may be disabled).
std::optional<std::string> Read(const std::string& path, uint64_t limit) {
  auto content = ReadFileLimited(path, limit);
  if (!content.ok()) {
    REEF_LOG(Debug) << "metrics: " << content.status().message();
    return std::nullopt;
  }
  return std::move(*content);
}

// The value of "key value" in a flat-keyed file (cpu.stat, memory.stat).
std::optional<uint64_t> FlatKey(absl::string_view content, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (!absl::ConsumePrefix(&line, key) || !absl::ConsumePrefix(&line, " ")) continue;
    uint64_t value = 0;
    if (absl::SimpleAtoi(line, &value)) return value;
    return std::nullopt;
  }
  return std::nullopt;
}

// "MemTotal:  8039364 kB" -> bytes.
std::optional<uint64_t> MeminfoBytes(absl::string_view content, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (!absl::ConsumePrefix(&line, key) || !absl::ConsumePrefix(&line, ":")) continue;
    line = absl::StripAsciiWhitespace(line);
    uint64_t multiplier = 1;
    if (absl::ConsumeSuffix(&line, "kB")) multiplier = 1024;
    uint64_t value = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &value)) return value * multiplier;
    return std::nullopt;
  }
  return std::nullopt;
}

// The node's busy time in ticks from /proc/stat's first line:
// "cpu user nice system idle iowait irq softirq steal guest guest_nice". Busy is
// everything but idle and iowait; guest time is already counted in user and nice.
std::optional<uint64_t> BusyTicks(absl::string_view content) {
  absl::string_view first = content.substr(0, content.find('\n'));
  std::vector<absl::string_view> fields = absl::StrSplit(first, ' ', absl::SkipEmpty());
  if (fields.size() < 5 || fields[0] != "cpu") return std::nullopt;
  uint64_t busy = 0;
  for (size_t i = 1; i < fields.size() && i <= 8; ++i) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(fields[i], &value)) return std::nullopt;
    if (i == 4 || i == 5) continue;  // idle, iowait
    busy += value;
  }
  return busy;
}

// cAdvisor's working set: what the cgroup uses (`usage_file`) minus the page cache
// the kernel may reclaim first (`inactive_key` of `stat_file`).
// False when the usage cannot be read.
bool ReadWorkingSet(const std::string& usage_file, const std::string& stat_file, absl::string_view inactive_key,
                    uint64_t* bytes) {
  auto usage = Read(usage_file, kMaxControlFile);
  if (!usage || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*usage), bytes)) return false;
  if (auto stat = Read(stat_file, kMaxControlFile)) {
    uint64_t inactive = FlatKey(*stat, inactive_key).value_or(0);
    *bytes = inactive < *bytes ? *bytes - inactive : 0;
  }
  return true;
}

std::string JoinPath(const std::string& root, const std::string& cgroup) {
  if (cgroup.empty() || cgroup.front() != '/') return reef::StrCat(root, "/", cgroup);
  return root + cgroup;
}

}  // namespace

std::string CpuQuantity(uint64_t nanocores) {
  if (nanocores % 1'000'000 == 0) {
    return manifest::FormatQuantity(static_cast<int64_t>(nanocores / 1'000'000), manifest::QuantityFormat::kDecimalSI);
  }
  return reef::StrCat(nanocores, "n");
}

std::string MemoryQuantity(uint64_t bytes) {
  // FormatQuantity takes thousandths: keep within int64 (8 PiB is far beyond a box).
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX) / 1000;
  if (bytes > kMax) return reef::StrCat(bytes);
  return manifest::FormatQuantity(static_cast<int64_t>(bytes) * 1000, manifest::QuantityFormat::kBinarySI);
}

std::string FormatWindow(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  return absl::FormatDuration(d);
}

MetricsCollector::MetricsCollector(CollectorOptions options)
    : options_(std::move(options)),
      ticks_per_second_(options_.clock_ticks_per_second > 0 ? options_.clock_ticks_per_second
                                                           : std::max<int64_t>(1, ::sysconf(_SC_CLK_TCK))) {}

bool MetricsCollector::ReadCgroup(const std::string& cgroup, Reading* reading) {
  if (::access((options_.cgroup_root + "/cgroup.controllers").c_str(), F_OK) != 0) {
    return ReadCgroupV1(cgroup, reading);
  }
  std::string dir = JoinPath(options_.cgroup_root, cgroup);
  if (!IsDir(dir)) return false;
  if (auto cpu = Read(dir + "/cpu.stat", kMaxControlFile)) {
    if (auto usec = FlatKey(*cpu, "usage_usec")) {
      reading->has_cpu = true;
      reading->cpu_nanos = *usec * 1000;
    }
  }
  reading->has_memory =
      ReadWorkingSet(dir + "/memory.current", dir + "/memory.stat", "inactive_file", &reading->memory_bytes);
  return true;
}

// The same figures from the v1 hierarchies (runc makes the path in each of them).
bool MetricsCollector::ReadCgroupV1(const std::string& cgroup, Reading* reading) {
  std::string cpu_dir = JoinPath(options_.cgroup_root + "/cpuacct", cgroup);
  std::string memory_dir = JoinPath(options_.cgroup_root + "/memory", cgroup);
  bool found = false;
  if (IsDir(cpu_dir)) {
    found = true;
    uint64_t nanos = 0;
    auto usage = Read(cpu_dir + "/cpuacct.usage", kMaxControlFile);
    if (usage && absl::SimpleAtoi(absl::StripAsciiWhitespace(*usage), &nanos)) {
      reading->has_cpu = true;
      reading->cpu_nanos = nanos;
    }
  }
  if (IsDir(memory_dir)) {
    found = true;
    reading->has_memory = ReadWorkingSet(memory_dir + "/memory.usage_in_bytes", memory_dir + "/memory.stat",
                                         "total_inactive_file", &reading->memory_bytes);
  }
  return found;
}

bool MetricsCollector::ReadNode(Reading* reading) {
  if (auto stat = Read(options_.proc_root + "/stat", kMaxProcFile)) {
    if (auto ticks = BusyTicks(*stat)) {
      reading->has_cpu = true;
      reading->cpu_nanos = static_cast<uint64_t>(
          absl::uint128(*ticks) * 1'000'000'000 / static_cast<uint64_t>(ticks_per_second_));
    }
  }
  if (auto meminfo = Read(options_.proc_root + "/meminfo", kMaxProcFile)) {
    auto total = MeminfoBytes(*meminfo, "MemTotal");
    auto available = MeminfoBytes(*meminfo, "MemAvailable");
    if (total && available) {
      reading->has_memory = true;
      reading->memory_bytes = *available < *total ? *total - *available : 0;
    }
  }
  return reading->has_cpu || reading->has_memory;
}

absl::Duration MetricsCollector::Usage(const std::string& key, const Reading& reading, absl::Time now,
                                       google::protobuf::Map<std::string, std::string>* usage) {
  absl::Duration window = absl::ZeroDuration();
  if (reading.has_cpu) {
    current_[key] = Sample{now, reading.cpu_nanos};
    auto it = previous_.find(key);
    // A counter that went backwards is a new cgroup at the same path: start over.
    if (it != previous_.end() && it->second.at < now && it->second.cpu_nanos <= reading.cpu_nanos) {
      window = now - it->second.at;
      absl::uint128 used = reading.cpu_nanos - it->second.cpu_nanos;
      auto window_nanos = static_cast<uint64_t>(absl::ToInt64Nanoseconds(window));
      (*usage)["cpu"] = CpuQuantity(static_cast<uint64_t>(used * 1'000'000'000 / window_nanos));
    }
  }
  if (reading.has_memory) (*usage)["memory"] = MemoryQuantity(reading.memory_bytes);
  return window;
}

void MetricsCollector::Collect(const std::string& node_name, const std::vector<PodCgroups>& pods,
                               v1::NodeMetrics* node, google::protobuf::RepeatedPtrField<v1::PodMetrics>* out) {
  absl::MutexLock lock(&mu_);
  absl::Time now = options_.clock->Now();
  std::string timestamp = FormatTimestamp(now);

  node->mutable_metadata()->set_name(node_name);
  node->set_timestamp(timestamp);
  Reading node_reading;
  absl::Duration node_window = absl::ZeroDuration();
  if (ReadNode(&node_reading)) node_window = Usage("", node_reading, now, node->mutable_usage());
  node->set_window(FormatWindow(node_window));

  for (const PodCgroups& pod : pods) {
    v1::PodMetrics metrics;
    metrics.mutable_metadata()->set_namespace_(pod.namespace_);
    metrics.mutable_metadata()->set_name(pod.name);
    metrics.set_timestamp(timestamp);
    absl::Duration window = absl::ZeroDuration();
    bool found = false;
    if (Reading r; !pod.cgroup.empty() && ReadCgroup(pod.cgroup, &r)) {
      found = true;
      window = Usage(pod.cgroup, r, now, metrics.mutable_usage());
    }
    for (const auto& [name, cgroup] : pod.containers) {
      Reading r;
      if (!ReadCgroup(cgroup, &r)) continue;  // exited and removed, or not created yet
      found = true;
      v1::ContainerMetrics* c = metrics.add_containers();
      c->set_name(name);
      window = std::max(window, Usage(cgroup, r, now, c->mutable_usage()));
    }
    if (!found) continue;
    metrics.set_window(FormatWindow(window));
    *out->Add() = std::move(metrics);
  }
  // Keep only what was read now: gone cgroups cost nothing.
  previous_ = std::move(current_);
  current_.clear();
}

}  // namespace reef::agent::metrics
