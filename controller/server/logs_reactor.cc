#include "controller/server/logs_reactor.h"

#include "common/grpc_status.h"

namespace reef::controller {

LogsReactor* LogsReactor::Start(store::Store* store, AgentHub* hub, const v1::LogsRequest& request) {
  auto* reactor = new LogsReactor(hub);
  if (absl::Status s = reactor->Begin(store, request); !s.ok()) {
    absl::MutexLock lock(&reactor->mu_);
    reactor->FinishLocked(ToGrpcStatus(s));
  }
  return reactor;
}

absl::Status LogsReactor::Begin(store::Store* store, const v1::LogsRequest& request) {
  const std::string ns = request.namespace_().empty() ? "default" : request.namespace_();
  ASSIGN_OR_RETURN(v1::Object pod, store->Get(store::Key{"Pod", ns, request.pod()}));
  const std::string& node = pod.pod().spec().node_name();
  if (node.empty()) {
    return absl::FailedPreconditionError(
        reef::StrCat("pod ", ns, "/", request.pod(), " is not scheduled on a node yet: no log"));
  }
  const std::string& container = request.container();
  if (!container.empty()) {
    bool known = false;
    for (const auto& c : pod.pod().spec().containers()) known |= c.name() == container;
    if (!known) {
      return absl::InvalidArgumentError(
          reef::StrCat("container ", container, " is not valid for pod ", ns, "/", request.pod()));
    }
  }
  v1::LogRequest relay;
  relay.set_namespace_(ns);
  relay.set_pod(request.pod());
  relay.set_container(container);
  relay.set_follow(request.follow());
  relay.set_tail_lines(request.tail_lines());
  ASSIGN_OR_RETURN(relay_id_, hub_->OpenLog(node, relay, [this](const v1::LogChunk& c) { Receive(c); }));
  return absl::OkStatus();
}

void LogsReactor::Receive(const v1::LogChunk& chunk) {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  if (!chunk.data().empty()) queue_.push_back(chunk.data());
  if (chunk.eof()) {
    ended_ = true;
    end_status_ = chunk.error().empty() ? grpc::Status::OK
                                        : grpc::Status(grpc::StatusCode::UNAVAILABLE, chunk.error());
  }
  if (!writing_) WriteNextLocked();
}

void LogsReactor::WriteNextLocked() {
  if (finished_) return;
  if (queue_.empty()) {
    writing_ = false;
    if (ended_) FinishLocked(end_status_);
    return;
  }
  writing_ = true;
  in_flight_.set_data(std::move(queue_.front()));
  queue_.pop_front();
  StartWrite(&in_flight_);
}

void LogsReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write to the client failed"));
    return;
  }
  WriteNextLocked();
}

void LogsReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void LogsReactor::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  queue_.clear();
  Finish(status);
}

void LogsReactor::OnDone() {
  // After this no chunk reaches Receive(): the hub calls sinks under its lock.
  if (relay_id_ != 0) hub_->CloseLog(relay_id_);
  delete this;
}

}  // namespace reef::controller
