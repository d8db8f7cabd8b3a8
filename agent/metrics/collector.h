#pragma once
// Resource usage as metrics-server reports it (metrics.k8s.io), read on the box:
//
//   cpu     the rate of cpu.stat usage_usec of a cgroup (of /proc/stat's busy time
//           for the node) between two collections, in cores;
//   memory  the working set, as cAdvisor counts it: memory.current minus
//           inactive_file of memory.stat for a cgroup, MemTotal - MemAvailable of
//           /proc/meminfo for the node.
//
// cgroup v2 (the unified hierarchy) first; on a cgroup v1 host the same figures come
// from cpuacct.usage and memory.usage_in_bytes minus total_inactive_file. A pod's
// cgroup is the parent of its containers' (runc's cgroupsPath
// "/reef/<node>/<podhash>/<containerid>"); its figure covers the whole pod, containers
// that restarted during the window included.
//
// A rate needs two samples: the collector keeps the previous one of every cgroup it
// read, and a cgroup seen for the first time (or whose counter went backwards: a new
// cgroup at the same path) reports memory only, without "cpu", with a zero window.
// Call Collect() once at start to prime it. Samples of cgroups no longer asked for
// are dropped.
//
// Thread safety: Collect() may be called from any thread; calls are serialized.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "reef/v1/metrics.pb.h"

namespace reef::agent::metrics {

// One pod as the collector needs it. Cgroup paths are relative to the cgroup root,
// as OCI's cgroupsPath: "/reef/edge-1/3f2a9c01bd".
struct PodCgroups {
  std::string namespace_;
  std::string name;
  std::string cgroup;  // the pod's: the parent of its containers'
  std::vector<std::pair<std::string, std::string>> containers;  // name, cgroup
};

struct CollectorOptions {
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string proc_root = "/proc";
  const Clock* clock = &Clock::Real();
  // USER_HZ, the unit of /proc/stat; 0: sysconf(_SC_CLK_TCK).
  int64_t clock_ticks_per_second = 0;
};

class MetricsCollector {
 public:
  explicit MetricsCollector(CollectorOptions options = {});
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  // Fills `node` (name, timestamp, window, usage: what could be read) and appends to
  // `out` one PodMetrics per pod whose cgroup or any container's cgroup exists, with
  // one ContainerMetrics per container whose cgroup exists (a container that exited
  // and was removed is left out, as in metrics-server). Never fails: what cannot be
  // read is left out (a read error of an existing file is logged at debug level).
  void Collect(const std::string& node_name, const std::vector<PodCgroups>& pods, v1::NodeMetrics* node,
               google::protobuf::RepeatedPtrField<v1::PodMetrics>* out);

 private:
  struct Sample {
    absl::Time at;
    uint64_t cpu_nanos = 0;  // cumulative cpu time
  };
  struct Reading {
    bool has_cpu = false;
    uint64_t cpu_nanos = 0;
    bool has_memory = false;
    uint64_t memory_bytes = 0;
  };
  // Reads one cgroup; false when its folder does not exist.
  bool ReadCgroup(const std::string& cgroup, Reading* reading);
  bool ReadCgroupV1(const std::string& cgroup, Reading* reading);
  bool ReadNode(Reading* reading);
  // Usage from a reading and the previous sample of `key`, which it replaces; the
  // window the cpu rate covers (zero when there is none).
  absl::Duration Usage(const std::string& key, const Reading& reading, absl::Time now,
                       google::protobuf::Map<std::string, std::string>* usage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CollectorOptions options_;
  const int64_t ticks_per_second_;

  absl::Mutex mu_;
  // By cgroup path; the node's under "".
  std::map<std::string, Sample> previous_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Sample> current_ ABSL_GUARDED_BY(mu_);
};

// Quantities as metrics-server spells them: cpu from nanocores ("250m" when it is a
// whole number of millicores, else "123456789n"), memory from bytes ("52Mi", or
// plain bytes when not a whole number of a binary unit).
std::string CpuQuantity(uint64_t nanocores);
std::string MemoryQuantity(uint64_t bytes);

// "10.002s", "0s": the window as Go's time.Duration prints it (metav1.Duration).
std::string FormatWindow(absl::Duration d);

}  // namespace reef::agent::metrics
