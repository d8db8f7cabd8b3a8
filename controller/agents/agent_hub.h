#pragma once
// The controller's side of every agent link. One store watch feeds an in-memory view
// of the objects agents care about (pods, ConfigMaps, Secrets); one thread routes
// each change to the connected node it concerns, answers Hellos with a Snapshot or a
// Delta, and writes the status the agents report, many nodes' batches coalesced into
// one store transaction (few writes: SD cards wear out).
//
// A connection (AgentConnection) is shared between the gRPC stream that carries it
// and the hub: the stream may end at any time; messages sent after that are dropped,
// and the agent catches up on reconnect (it says which revision it has).
//
// Thread safety: every public method may be called from any thread. Nothing here
// blocks a caller on the store: work goes through the hub's queue.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "controller/store/store.h"
#include "reef/v1/agent.pb.h"

namespace reef::controller {

// The outgoing half of one agent's stream. Send() never blocks: it queues.
class AgentConnection {
 public:
  virtual ~AgentConnection() = default;
  virtual const std::string& node() const = 0;
  // Queues a message for the agent. Dropped when the stream has ended.
  virtual void Send(v1::ControllerMessage message) = 0;
};

struct AgentHubOptions {
  store::Store* store = nullptr;
  const Clock* clock = &Clock::Real();
  absl::Duration heartbeat = absl::Seconds(10);  // told to agents in Welcome
  absl::Duration lease = absl::Seconds(40);
  // Each node gets a block of this for its pods (NodeSpec.podCIDR) when it registers;
  // empty: none (the agents use their --pod-cidr).
  std::string cluster_cidr;
  // Called (from any thread) on every sign of life of a node: Hello and Heartbeat.
  std::function<void(const std::string& node, absl::Time at)> renew_lease;
};

// Receives the chunks of one relayed log. Called from the hub's threads: must not
// block (queue and return).
using LogSink = std::function<void(const v1::LogChunk& chunk)>;

class AgentHub {
 public:
  static absl::StatusOr<std::unique_ptr<AgentHub>> Start(AgentHubOptions options);
  ~AgentHub();
  AgentHub(const AgentHub&) = delete;
  AgentHub& operator=(const AgentHub&) = delete;

  // The agent's first message. Its node becomes `connection`'s (a previous connection
  // of the same node is forgotten). The answer (Welcome, then Snapshot or Delta) and
  // every later change are sent on `connection`.
  void Hello(std::shared_ptr<AgentConnection> connection, v1::Hello hello);
  void Heartbeat(const std::string& node);
  void Ack(const std::string& node, int64_t revision);
  void Status(const std::string& node, v1::StatusBatch batch);
  void LogChunk(const std::string& node, const v1::LogChunk& chunk);
  // The stream ended. Log relays through it end with an error chunk.
  void Disconnected(const AgentConnection* connection);

  // Asks `node`'s agent for a container's log; the chunks go to `sink` until one has
  // eof. Unavailable when the node is not connected. Returns the relay's id.
  absl::StatusOr<uint64_t> OpenLog(const std::string& node, v1::LogRequest request, LogSink sink);
  // Stops a relay (the client went away). Nothing more reaches its sink.
  void CloseLog(uint64_t id);

  // Nodes connected now.
  std::vector<std::string> ConnectedNodes();
  // The highest revision `node` acknowledged on its current connection (0 if none).
  int64_t AckedRevision(const std::string& node);

 private:
  struct Session {
    std::shared_ptr<AgentConnection> connection;
    int64_t acked = 0;
    // ConfigMaps/Secrets (store::ToString(key)) the node's pods refer to: a change to
    // one of them goes to this node.
    std::set<std::string> wanted;
  };
  struct LogRelay {
    std::string node;
    LogSink sink;
  };
  struct Inbox {
    std::vector<store::Event> events;
    std::vector<std::pair<std::shared_ptr<AgentConnection>, v1::Hello>> hellos;
    std::vector<std::pair<std::string, v1::StatusBatch>> statuses;
    bool empty() const { return events.empty() && hellos.empty() && statuses.empty(); }
  };

  explicit AgentHub(AgentHubOptions options) : options_(std::move(options)) {}
  absl::Status LoadView();
  void Run();
  void ApplyEvents(const std::vector<store::Event>& events);
  void AnswerHello(const std::shared_ptr<AgentConnection>& connection, const v1::Hello& hello);
  void WriteStatuses(const std::vector<std::pair<std::string, v1::StatusBatch>>& statuses);
  absl::Status RegisterNode(const v1::Hello& hello);
  // Appends `pod` and what it refers to (as UPSERTs) to `changes`, noting the refs as
  // wanted by `session`.
  void AddPodWithConfig(const v1::Pod& pod, Session* session, std::vector<v1::Change>* changes);
  Session* FindSession(const std::string& node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AgentHubOptions options_;

  absl::Mutex mu_;
  absl::CondVar wake_;
  Inbox inbox_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);  // by node
  std::map<uint64_t, LogRelay> logs_ ABSL_GUARDED_BY(mu_);
  uint64_t next_log_id_ ABSL_GUARDED_BY(mu_) = 1;

  // The view, touched by the hub thread only: objects by store::ToString(key).
  std::map<std::string, v1::Object> objects_;
  std::map<std::string, std::set<std::string>> pods_by_node_;  // node -> pod keys
  int64_t revision_ = 0;         // of the view
  int64_t loaded_revision_ = 0;  // when the view was listed

  std::unique_ptr<store::WatchHandle> watch_;
  std::thread thread_;
};

}  // namespace reef::controller
