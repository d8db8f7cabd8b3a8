#pragma once
// The agent's side of AgentService.Connect: one long-lived stream to the controller.
//
// It says Hello (the node as the agent sees it, the last revision it stored, the
// controller pods it holds), stores every Snapshot or Delta in AgentState in one
// transaction before acknowledging it, sends a heartbeat every period the controller
// asks for, reports pod status when it changes (batched, once per sync pass) and the
// node's status when it changes, and answers log requests with the container's log.
//
// When the link fails it reconnects with exponential backoff and full jitter (1 s to
// 60 s), so that a fleet coming back does not return in the same second. Meanwhile
// the agent runs what it last stored (autonomy).
//
// Thread safety: every public method may be called from any thread.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "agent/state/agent_state.h"
#include "reef/v1/agent.grpc.pb.h"

namespace reef::agent {

struct ControllerLinkOptions {
  std::string server;  // HOST:PORT
  std::string node_name;
  std::string data_dir;  // where the containers' logs are (PodLogPath)
  AgentState* state = nullptr;
  // The node as the agent sees it now: labels, capacity, nodeInfo, conditions.
  std::function<v1::Node()> describe_node;
  // The node's TLS credentials; called before each connection (renewal swaps them).
  std::function<absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>()> credentials;
  // Called after the controller's pods changed in AgentState (wakes the sync loop).
  std::function<void()> desired_changed;
  // Called on the heartbeat thread before each heartbeat is sent, to add to it (the
  // resource usage for `reefctl top`). Optional; should take milliseconds, not seconds.
  std::function<void(v1::Heartbeat*)> fill_heartbeat;
  absl::Duration min_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(60);
};

class ControllerLink {
 public:
  static std::unique_ptr<ControllerLink> Start(ControllerLinkOptions options);
  ~ControllerLink();
  ControllerLink(const ControllerLink&) = delete;
  ControllerLink& operator=(const ControllerLink&) = delete;

  // The pods the controller wants on this node, by "namespace/name", as stored.
  std::map<std::string, v1::Pod> DesiredPods();

  // The ConfigMaps and Secrets those pods reference, by "Kind namespace/name", as
  // stored. Shared and never changed in place: each update swaps in a new map.
  using ObjectMap = std::map<std::string, v1::Object>;
  std::shared_ptr<const ObjectMap> ConfigObjects();

  // The node's pod CIDR from the controller's Welcome; empty before the first one.
  std::string PodCidr();

  // Sends the status of the controller's pods that changed since last sent (all of
  // them after a reconnect). Called after each sync pass.
  void ReportStatus(const std::vector<PodRecord>& pods);

  // Drops the stream and connects again at once (new credentials after a renewal).
  void Reconnect();

  bool connected();

 private:
  struct Stream;
  explicit ControllerLink(ControllerLinkOptions options) : options_(std::move(options)) {}
  void Run();
  // One connection, from Hello to the stream's end. Returns why it ended.
  grpc::Status Session();
  absl::Status Store(const v1::ControllerMessage& message);
  void Heartbeats();
  // Sends a container's log as LogChunks until it is all sent (or, when following,
  // until `cancelled`).
  void ServeLog(const v1::LogRequest& request, const std::atomic<bool>& cancelled);
  // Writes on the current stream; false when there is none or it broke.
  bool Write(const v1::AgentMessage& message);
  void SendNodeStatusIfChanged();

  const ControllerLinkOptions options_;

  absl::Mutex mu_;
  absl::CondVar wake_;  // stop, reconnect, welcome
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool reconnect_now_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<Stream> stream_ ABSL_GUARDED_BY(mu_);
  bool welcomed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration heartbeat_ ABSL_GUARDED_BY(mu_) = absl::Seconds(10);
  std::map<std::string, v1::Pod> desired_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const ObjectMap> config_ ABSL_GUARDED_BY(mu_) = std::make_shared<ObjectMap>();
  std::string pod_cidr_ ABSL_GUARDED_BY(mu_);
  // What the controller has of each pod's status on this connection.
  std::map<std::string, std::string> sent_status_ ABSL_GUARDED_BY(mu_);
  v1::NodeStatus last_node_status_ ABSL_GUARDED_BY(mu_);
  bool has_sent_node_status_ ABSL_GUARDED_BY(mu_) = false;
  std::string host_ip_ ABSL_GUARDED_BY(mu_);
  // Log relays by stream id: set to true to stop one.
  std::map<uint64_t, std::shared_ptr<std::atomic<bool>>> log_cancels_ ABSL_GUARDED_BY(mu_);
  struct LogThread {
    uint64_t stream_id;
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  // Joined when the next request comes (a joinable thread keeps its stack until then).
  std::vector<LogThread> log_threads_ ABSL_GUARDED_BY(mu_);

  absl::Mutex write_mu_;  // one Write at a time on a gRPC stream

  std::thread thread_;
  std::thread heartbeat_thread_;
};

}  // namespace reef::agent
