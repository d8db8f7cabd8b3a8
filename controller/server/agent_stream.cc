#include "controller/server/agent_stream.h"

#include "common/log.h"

namespace reef::controller {

// What the hub holds of a stream: it outlives the stream (OnDone detaches it), so
// that the hub never sends through a deleted reactor.
class AgentStream::Connection final : public AgentConnection {
 public:
  Connection(AgentStream* stream, std::string node) : stream_(stream), node_(std::move(node)) {}
  const std::string& node() const override { return node_; }
  void Send(v1::ControllerMessage message) override {
    absl::MutexLock lock(&mu_);
    if (stream_ != nullptr) stream_->Send(std::move(message));
  }
  void Detach() {
    absl::MutexLock lock(&mu_);
    stream_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  AgentStream* stream_ ABSL_GUARDED_BY(mu_);
  const std::string node_;
};

AgentStream* AgentStream::Start(AgentHub* hub, std::string node, MetricsCache* metrics) {
  return new AgentStream(hub, std::move(node), metrics);
}

AgentStream::AgentStream(AgentHub* hub, std::string node, MetricsCache* metrics)
    : hub_(hub),
      metrics_(metrics),
      node_(std::move(node)),
      connection_(std::make_shared<Connection>(this, node_)) {
  StartRead(&in_);
}

void AgentStream::OnReadDone(bool ok) {
  if (!ok) {  // the agent closed its side, or the link broke
    Finish(grpc::Status::OK);
    return;
  }
  Handle(in_);
  StartRead(&in_);
}

void AgentStream::Handle(const v1::AgentMessage& m) {
  if (!said_hello_) {
    if (!m.has_hello()) {
      Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the first message on the stream must be Hello"));
      return;
    }
    if (m.hello().node().metadata().name() != node_) {
      REEF_LOG(Warning) << "node " << node_ << ": Hello names node '" << m.hello().node().metadata().name()
                        << "': refused";
      Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          reef::StrCat("this certificate is node ", node_, "'s; it cannot speak for node '",
                                       m.hello().node().metadata().name(), "'")));
      return;
    }
    said_hello_ = true;
    hub_->Hello(connection_, m.hello());
    return;
  }
  switch (m.message_case()) {
    case v1::AgentMessage::kHeartbeat:
      hub_->Heartbeat(node_);
      if (metrics_ != nullptr) metrics_->Update(node_, connection_.get(), m.heartbeat());
      break;
    case v1::AgentMessage::kAck:
      hub_->Ack(node_, m.ack().revision());
      break;
    case v1::AgentMessage::kStatus:
      hub_->Status(node_, m.status());
      break;
    case v1::AgentMessage::kLogChunk:
      hub_->LogChunk(node_, m.log_chunk());
      break;
    default:
      break;  // a newer agent's message: ignored, as protobuf fields are
  }
}

void AgentStream::Send(v1::ControllerMessage message) {
  absl::MutexLock lock(&mu_);
  if (finished_ || overflowed_) return;
  size_t bytes = message.ByteSizeLong();
  if (queued_bytes_ + bytes > kMaxQueuedBytes) {
    // Finished from OnWriteDone (a write is in flight while the queue grows), never
    // from here: this runs on the hub's thread under its lock.
    REEF_LOG(Warning) << "node " << node_ << ": not reading its stream; disconnecting it";
    overflowed_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    return;
  }
  queued_bytes_ += bytes;
  queue_.push_back(std::move(message));
  if (!writing_) WriteNextLocked();
}

void AgentStream::WriteNextLocked() {
  if (finished_ || queue_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= in_flight_.ByteSizeLong();
  StartWrite(&in_flight_);
}

void AgentStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write to the agent failed"));
    return;
  }
  if (overflowed_) {
    FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "the agent fell too far behind; reconnect to catch up"));
    return;
  }
  WriteNextLocked();
}

void AgentStream::OnCancel() { Finish(grpc::Status::CANCELLED); }

void AgentStream::Finish(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  FinishLocked(status);
}

void AgentStream::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  ServerBidiReactor::Finish(status);
}

void AgentStream::OnDone() {
  connection_->Detach();
  hub_->Disconnected(connection_.get());
  if (metrics_ != nullptr) metrics_->Forget(node_, connection_.get());
  delete this;
}

}  // namespace reef::controller
