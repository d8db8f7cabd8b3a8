#pragma once
// The latest resource usage of each node, as its agent put it on its heartbeats
// (agent/metrics), for ApiService.Top (`reefctl top`). In memory only: the figures
// change at every heartbeat and are worthless after a restart, so they never touch
// the store (an idle cluster writes nothing).
//
// A node's figures are forgotten when the stream that brought them ends, and not
// served once older than `max_age` (an agent that stopped measuring, a stream that
// hangs). A newer stream of the same node replaces them; the end of the older one
// then leaves them alone.
//
// Thread safety: every method may be called from any thread.

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/status.h"
#include "reef/v1/agent.pb.h"
#include "reef/v1/api.pb.h"

namespace reef::controller {

class MetricsCache {
 public:
  explicit MetricsCache(const Clock* clock = &Clock::Real(), absl::Duration max_age = absl::Seconds(60))
      : clock_(clock), max_age_(max_age) {}
  MetricsCache(const MetricsCache&) = delete;
  MetricsCache& operator=(const MetricsCache&) = delete;

  // `node`'s figures become the heartbeat's, received now through `stream` (any value
  // that tells the node's streams apart). A heartbeat without node metrics (an older
  // agent, or one that does not measure) changes nothing. Pods are taken as given:
  // the stream speaks for `node` only, and the node's name replaces the one inside.
  void Update(const std::string& node, const void* stream, const v1::Heartbeat& heartbeat);

  // The stream ended: forgets `node`'s figures if they came through it.
  void Forget(const std::string& node, const void* stream);

  // The figures `request` asks for (kind "Node" or "Pod"; pods of one namespace or
  // all; one name or all), nodes sorted by name, pods by namespace then name.
  // InvalidArgument for another kind. No figures is an empty answer, not an error.
  absl::Status Top(const v1::TopRequest& request, v1::TopResponse* response);

 private:
  struct Entry {
    const void* stream = nullptr;
    absl::Time received;
    v1::NodeMetrics node;
    std::vector<v1::PodMetrics> pods;
  };

  const Clock* clock_;
  const absl::Duration max_age_;
  absl::Mutex mu_;
  std::map<std::string, Entry> nodes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reef::controller
