// The controller's in-memory metrics: the latest heartbeat of a node wins, the end of
// its stream forgets it (not the end of an older stream), stale figures are not
// served, and Top filters and sorts.

#include <doctest/doctest.h>

#include "controller/metrics/metrics_cache.h"

namespace reef::controller {
namespace {

v1::Heartbeat Beat(const std::string& cpu, const std::vector<std::pair<std::string, std::string>>& pods = {}) {
  v1::Heartbeat h;
  h.mutable_node_metrics()->mutable_metadata()->set_name("whatever the agent says");
  (*h.mutable_node_metrics()->mutable_usage())["cpu"] = cpu;
  for (const auto& [ns, name] : pods) {
    v1::PodMetrics* p = h.add_pod_metrics();
    p->mutable_metadata()->set_namespace_(ns);
    p->mutable_metadata()->set_name(name);
  }
  return h;
}

v1::TopResponse Top(MetricsCache& cache, const std::string& kind, const std::string& ns = "",
                    const std::string& name = "") {
  v1::TopRequest request;
  request.set_kind(kind);
  request.set_namespace_(ns);
  request.set_name(name);
  v1::TopResponse response;
  absl::Status s = cache.Top(request, &response);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return response;
}

std::vector<std::string> Names(const v1::TopResponse& r) {
  std::vector<std::string> out;
  for (const auto& n : r.nodes()) out.push_back(n.metadata().name() + " " + n.usage().at("cpu"));
  for (const auto& p : r.pods()) out.push_back(p.metadata().namespace_() + "/" + p.metadata().name());
  return out;
}

// Two streams: only their addresses matter.
const int kStreamA = 1, kStreamB = 2;

TEST_CASE("metrics cache: the latest heartbeat wins, one without figures changes nothing") {
  FakeClock clock;
  MetricsCache cache(&clock, absl::Seconds(30));
  CHECK(Names(Top(cache, "Node")).empty());
  cache.Update("pi-2", &kStreamA, Beat("1"));
  cache.Update("pi-1", &kStreamB, Beat("100m"));
  cache.Update("pi-1", &kStreamB, Beat("200m"));
  cache.Update("pi-1", &kStreamB, v1::Heartbeat());  // an older agent's empty heartbeat
  // The stream's node names the figures, not the agent's message; sorted by name.
  CHECK(Names(Top(cache, "Node")) == std::vector<std::string>{"pi-1 200m", "pi-2 1"});
  CHECK(Names(Top(cache, "Node", "", "pi-2")) == std::vector<std::string>{"pi-2 1"});
  CHECK(Names(Top(cache, "Node", "", "pi-9")).empty());
}

TEST_CASE("metrics cache: forgotten when its stream ends, kept when an older stream of the node ends") {
  FakeClock clock;
  MetricsCache cache(&clock, absl::Seconds(30));
  cache.Update("pi-1", &kStreamA, Beat("100m"));
  cache.Update("pi-1", &kStreamB, Beat("200m"));  // the node reconnected
  cache.Forget("pi-1", &kStreamA);                // the old stream's end comes late
  CHECK(Names(Top(cache, "Node")) == std::vector<std::string>{"pi-1 200m"});
  cache.Forget("pi-1", &kStreamB);
  CHECK(Names(Top(cache, "Node")).empty());
}

TEST_CASE("metrics cache: figures older than max_age are not served") {
  FakeClock clock;
  MetricsCache cache(&clock, absl::Seconds(30));
  cache.Update("pi-1", &kStreamA, Beat("100m"));
  clock.Advance(absl::Seconds(20));
  cache.Update("pi-2", &kStreamB, Beat("1"));
  clock.Advance(absl::Seconds(11));
  CHECK(Names(Top(cache, "Node")) == std::vector<std::string>{"pi-2 1"});
  clock.Advance(absl::Seconds(20));
  CHECK(Names(Top(cache, "Node")).empty());
}

TEST_CASE("metrics cache: pods of every node by namespace and name, filtered, bad kinds refused") {
  FakeClock clock;
  MetricsCache cache(&clock);
  cache.Update("pi-2", &kStreamA, Beat("1", {{"default", "web-2"}, {"ops", "agent"}}));
  cache.Update("pi-1", &kStreamB, Beat("1", {{"default", "web-1"}, {"default", "db"}}));
  CHECK(Names(Top(cache, "Pod")) == std::vector<std::string>{"default/db", "default/web-1", "default/web-2", "ops/agent"});
  CHECK(Names(Top(cache, "Pod", "default")) == std::vector<std::string>{"default/db", "default/web-1", "default/web-2"});
  CHECK(Names(Top(cache, "Pod", "default", "web-2")) == std::vector<std::string>{"default/web-2"});
  CHECK(Names(Top(cache, "Pod", "", "agent")) == std::vector<std::string>{"ops/agent"});
  CHECK(Names(Top(cache, "Pod", "ops", "db")).empty());
  v1::TopRequest bad;
  bad.set_kind("Deployment");
  v1::TopResponse response;
  CHECK(cache.Top(bad, &response).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reef::controller
