#pragma once
// One `reefctl logs` call: the pod's node is asked through its agent stream
// (AgentHub::OpenLog) and the chunks it sends back are written to the client as they
// come, one write at a time. The relay stops when the client goes away.

#include <deque>

#include "absl/synchronization/mutex.h"
#include "controller/agents/agent_hub.h"
#include "controller/store/store.h"
#include "reef/v1/api.grpc.pb.h"

namespace reef::controller {

class LogsReactor final : public grpc::ServerWriteReactor<v1::LogsChunk> {
 public:
  // gRPC owns the reactor from here (OnDone deletes it).
  static LogsReactor* Start(store::Store* store, AgentHub* hub, const v1::LogsRequest& request);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  explicit LogsReactor(AgentHub* hub) : hub_(hub) {}
  absl::Status Begin(store::Store* store, const v1::LogsRequest& request);
  // From the hub: queues the chunk's data, or finishes on eof.
  void Receive(const v1::LogChunk& chunk);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AgentHub* hub_;
  uint64_t relay_id_ = 0;  // 0: no relay open

  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  v1::LogsChunk in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // The agent said eof: finish once the queue is written.
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reef::controller
