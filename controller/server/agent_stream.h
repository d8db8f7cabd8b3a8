#pragma once
// One agent's Connect stream, on the controller. Reads go to the AgentHub; the hub's
// messages are queued and written one at a time as gRPC completes the previous write,
// so a slow link never blocks the hub. The first message must be a Hello naming the
// node of the caller's certificate.
//
// The queue is bounded in bytes: an agent that stops reading is disconnected
// (RESOURCE_EXHAUSTED) and catches up with a Delta when it reconnects.

#include <deque>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "controller/agents/agent_hub.h"
#include "controller/metrics/metrics_cache.h"
#include "reef/v1/agent.grpc.pb.h"

namespace reef::controller {

class AgentStream final : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage> {
 public:
  static constexpr size_t kMaxQueuedBytes = 64 << 20;

  // `node` is the identity the caller's certificate proves. gRPC owns the stream
  // from here (OnDone deletes it). The heartbeats' resource usage goes to `metrics`
  // (optional), which forgets it when the stream ends.
  static AgentStream* Start(AgentHub* hub, std::string node, MetricsCache* metrics = nullptr);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  class Connection;
  AgentStream(AgentHub* hub, std::string node, MetricsCache* metrics);
  void Handle(const v1::AgentMessage& message);
  // Queues a message (from the hub); starts a write when none is in flight.
  void Send(v1::ControllerMessage message);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(const grpc::Status& status);

  AgentHub* hub_;
  MetricsCache* metrics_;
  const std::string node_;
  std::shared_ptr<Connection> connection_;
  v1::AgentMessage in_;  // owned by the read in flight
  bool said_hello_ = false;  // reads are sequential: no lock needed

  absl::Mutex mu_;
  std::deque<v1::ControllerMessage> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  v1::ControllerMessage in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
};

// A bidirectional stream that ends at once with `status`: how Connect turns a caller
// away. gRPC owns it (deleted in OnDone).
template <typename In, typename Out>
grpc::ServerBidiReactor<In, Out>* RefuseBidi(const absl::Status& status) {
  class Refused final : public grpc::ServerBidiReactor<In, Out> {
   public:
    explicit Refused(const grpc::Status& s) { this->Finish(s); }
    void OnDone() override { delete this; }
  };
  return new Refused(grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message())));
}

}  // namespace reef::controller
