#include "agent/cluster/controller_link.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

#include "absl/random/random.h"
#include "agent/cluster/log_reader.h"
#include "agent/pods/pod_manager.h"
#include "api/manifest/object.h"
#include "common/log.h"

namespace reef::agent {
namespace {

using v1::AgentMessage;
using v1::ControllerMessage;

constexpr size_t kLogChunkBytes = 32 * 1024;
constexpr absl::Duration kLogPollInterval = absl::Milliseconds(250);
// Snapshots of a node with many pods and Secrets can be large; requests are not.
constexpr int kMaxReceiveBytes = 64 << 20;

// "Pod default/web-1": the key of a controller object in AgentState.
std::string ObjectKey(const v1::Object& o) {
  const manifest::KindInfo* kind = manifest::KindOf(o);
  const v1::ObjectMeta& meta = manifest::Meta(o);
  return reef::StrCat(kind ? std::string(kind->kind) : "Unknown", " ", meta.namespace_(), "/", meta.name());
}

// "namespace/name": how the sync loop keys pods.
std::string PodKey(const v1::Pod& pod) {
  return reef::StrCat(pod.metadata().namespace_(), "/", pod.metadata().name());
}

bool IsConfigKey(const std::string& key) {
  return key.rfind("ConfigMap ", 0) == 0 || key.rfind("Secret ", 0) == 0;
}

ControllerLink::ObjectMap ConfigOf(const ControllerState& state) {
  ControllerLink::ObjectMap config;
  for (const auto& [key, o] : state.objects) {
    if (IsConfigKey(key)) config[key] = o;
  }
  return config;
}

std::map<std::string, v1::Pod> PodsOf(const ControllerState& state) {
  std::map<std::string, v1::Pod> pods;
  for (const auto& [key, o] : state.objects) {
    if (o.has_pod()) pods[PodKey(o.pod())] = o.pod();
  }
  return pods;
}

std::string InternalIp(const v1::Node& node) {
  for (const v1::NodeAddress& a : node.status().addresses()) {
    if (a.type() == "InternalIP") return a.address();
  }
  return "";
}

// The node's status without the times that move on their own.
v1::NodeStatus Comparable(v1::NodeStatus status) {
  for (v1::NodeCondition& c : *status.mutable_conditions()) {
    c.clear_last_heartbeat_time();
    c.clear_last_transition_time();
  }
  return status;
}

}  // namespace

struct ControllerLink::Stream {
  grpc::ClientContext context;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AgentService::Stub> stub;
  std::unique_ptr<grpc::ClientReaderWriter<AgentMessage, ControllerMessage>> rw;
};

std::unique_ptr<ControllerLink> ControllerLink::Start(ControllerLinkOptions options) {
  std::unique_ptr<ControllerLink> link(new ControllerLink(std::move(options)));
  // Until the controller answers, run what it last said (autonomy).
  if (auto stored = link->options_.state->Controller(); stored.ok()) {
    absl::MutexLock lock(&link->mu_);
    link->desired_ = PodsOf(*stored);
    link->config_ = std::make_shared<const ObjectMap>(ConfigOf(*stored));
  } else {
    REEF_LOG(Error) << "read the controller's last word from agent state: " << stored.status().message();
  }
  link->thread_ = std::thread([l = link.get()] { l->Run(); });
  link->heartbeat_thread_ = std::thread([l = link.get()] { l->Heartbeats(); });
  return link;
}

ControllerLink::~ControllerLink() {
  std::vector<LogThread> logs;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (stream_) stream_->context.TryCancel();
    for (auto& [id, cancel] : log_cancels_) *cancel = true;
    wake_.SignalAll();
  }
  thread_.join();
  heartbeat_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    logs.swap(log_threads_);
  }
  for (LogThread& t : logs) t.thread.join();
}

std::map<std::string, v1::Pod> ControllerLink::DesiredPods() {
  absl::MutexLock lock(&mu_);
  return desired_;
}

std::shared_ptr<const ControllerLink::ObjectMap> ControllerLink::ConfigObjects() {
  absl::MutexLock lock(&mu_);
  return config_;
}

std::string ControllerLink::PodCidr() {
  absl::MutexLock lock(&mu_);
  return pod_cidr_;
}

bool ControllerLink::connected() {
  absl::MutexLock lock(&mu_);
  return welcomed_;
}

void ControllerLink::Reconnect() {
  absl::MutexLock lock(&mu_);
  reconnect_now_ = true;
  if (stream_) stream_->context.TryCancel();
  wake_.SignalAll();
}

void ControllerLink::Run() {
  absl::BitGen random;
  int failures = 0;
  grpc::StatusCode last_code = grpc::StatusCode::OK;
  while (true) {
    grpc::Status end = Session();
    bool was_welcomed;
    {
      absl::MutexLock lock(&mu_);
      was_welcomed = welcomed_;
      welcomed_ = false;
      stream_.reset();
      sent_status_.clear();
      has_sent_node_status_ = false;
      for (auto& [id, cancel] : log_cancels_) *cancel = true;
      log_cancels_.clear();
      if (stopping_) return;
    }
    if (was_welcomed) failures = 0;
    // Full jitter: anywhere between zero and the doubling ceiling.
    absl::Duration ceiling = std::min(options_.max_backoff, options_.min_backoff * (1 << std::min(failures, 10)));
    absl::Duration delay = absl::Milliseconds(absl::Uniform<int64_t>(random, 0, absl::ToInt64Milliseconds(ceiling) + 1));
    ++failures;
    // Said once per kind of failure, not every retry: a box offline for days logs little.
    if (was_welcomed || end.error_code() != last_code) {
      REEF_LOG(Warning) << "controller " << options_.server << ": " << (was_welcomed ? "link lost" : "cannot connect")
                        << ": " << end.error_message() << "; retrying (backoff up to "
                        << absl::FormatDuration(options_.max_backoff) << ")";
    }
    last_code = end.error_code();
    absl::MutexLock lock(&mu_);
    absl::Time until = absl::Now() + delay;
    while (!stopping_ && !reconnect_now_ && absl::Now() < until) wake_.WaitWithDeadline(&mu_, until);
    reconnect_now_ = false;
    if (stopping_) return;
  }
}

grpc::Status ControllerLink::Session() {
  auto credentials = options_.credentials();
  if (!credentials.ok()) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(credentials.status().message()));
  grpc::ChannelArguments args;
  // A dead link is noticed within keepalive time + timeout, even with nothing to send.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  // Our own backoff (with jitter) decides when to retry, not the channel's.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1000);
  auto stream = std::make_shared<Stream>();
  stream->channel = grpc::CreateCustomChannel(options_.server, *credentials, args);
  stream->stub = v1::AgentService::NewStub(stream->channel);
  stream->context.set_wait_for_ready(false);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return grpc::Status::CANCELLED;
    stream_ = stream;
  }
  stream->rw = stream->stub->Connect(&stream->context);

  AgentMessage hello;
  v1::Node node = options_.describe_node();
  auto stored = options_.state->Controller();
  if (!stored.ok()) {
    stream->context.TryCancel();
    stream->rw->Finish();
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string(stored.status().message()));
  }
  {
    absl::MutexLock lock(&mu_);
    host_ip_ = InternalIp(node);
  }
  *hello.mutable_hello()->mutable_node() = node;
  hello.mutable_hello()->set_applied_revision(stored->revision);
  for (const auto& [key, pod] : PodsOf(*stored)) {
    v1::PodSummary* s = hello.mutable_hello()->add_pods();
    s->set_namespace_(pod.metadata().namespace_());
    s->set_name(pod.metadata().name());
    s->set_uid(pod.metadata().uid());
  }
  {
    absl::MutexLock lock(&write_mu_);
    stream->rw->Write(hello);
  }

  ControllerMessage m;
  while (stream->rw->Read(&m)) {
    switch (m.message_case()) {
      case ControllerMessage::kWelcome: {
        absl::MutexLock lock(&mu_);
        welcomed_ = true;
        heartbeat_ = std::max(absl::Seconds(1), absl::Seconds(m.welcome().heartbeat_seconds()));
        pod_cidr_ = m.welcome().pod_cidr();
        last_node_status_ = node.status();
        has_sent_node_status_ = true;
        wake_.SignalAll();
        REEF_LOG(Info) << "connected to the controller at " << options_.server << " as node " << options_.node_name;
        break;
      }
      case ControllerMessage::kSnapshot:
      case ControllerMessage::kDelta: {
        absl::Status stored_update = Store(m);
        if (!stored_update.ok()) {
          // Not acknowledged: the controller sends it again on the next connection.
          REEF_LOG(Error) << "store the controller's update: " << stored_update.message();
          stream->context.TryCancel();
          break;
        }
        AgentMessage ack;
        ack.mutable_ack()->set_revision(m.has_snapshot() ? m.snapshot().revision() : m.delta().revision());
        Write(ack);
        if (options_.desired_changed) options_.desired_changed();
        break;
      }
      case ControllerMessage::kLogRequest: {
        const v1::LogRequest& request = m.log_request();
        absl::MutexLock lock(&mu_);
        if (request.cancel()) {
          auto it = log_cancels_.find(request.stream_id());
          if (it != log_cancels_.end()) *it->second = true;
          break;
        }
        for (auto it = log_threads_.begin(); it != log_threads_.end();) {
          if (!*it->done) {
            ++it;
            continue;
          }
          it->thread.join();
          log_cancels_.erase(it->stream_id);
          it = log_threads_.erase(it);
        }
        auto cancel = std::make_shared<std::atomic<bool>>(false);
        auto done = std::make_shared<std::atomic<bool>>(false);
        log_cancels_[request.stream_id()] = cancel;
        std::thread t([this, request, cancel, done] {
          ServeLog(request, *cancel);
          *done = true;
        });
        log_threads_.push_back(LogThread{request.stream_id(), std::move(t), done});
        break;
      }
      default:
        break;  // a newer controller's message
    }
  }
  return stream->rw->Finish();
}

absl::Status ControllerLink::Store(const ControllerMessage& m) {
  ControllerUpdate update;
  if (m.has_snapshot()) {
    update.replace_all = true;
    update.revision = m.snapshot().revision();
    for (const v1::Object& o : m.snapshot().objects()) update.upserts[ObjectKey(o)] = o;
  } else {
    update.revision = m.delta().revision();
    for (const v1::Change& c : m.delta().changes()) {
      const std::string key = ObjectKey(c.object());
      if (c.type() == v1::Change::DELETE) {
        update.upserts.erase(key);
        update.deletes.push_back(key);
      } else {
        update.upserts[key] = c.object();
      }
    }
  }
  RETURN_IF_ERROR(options_.state->ApplyController(update));
  // The same update, applied to what the sync loop reads (no re-read of the table).
  absl::MutexLock lock(&mu_);
  if (update.replace_all) desired_.clear();
  auto config = std::make_shared<ObjectMap>(update.replace_all ? ObjectMap{} : *config_);
  for (const std::string& key : update.deletes) {
    if (key.rfind("Pod ", 0) == 0) desired_.erase(key.substr(4));
    config->erase(key);
  }
  for (const auto& [key, o] : update.upserts) {
    if (o.has_pod()) desired_[PodKey(o.pod())] = o.pod();
    if (IsConfigKey(key)) (*config)[key] = o;
  }
  config_ = std::move(config);
  return absl::OkStatus();
}

bool ControllerLink::Write(const AgentMessage& message) {
  std::shared_ptr<Stream> stream;
  {
    absl::MutexLock lock(&mu_);
    stream = stream_;
  }
  if (!stream || !stream->rw) return false;
  absl::MutexLock lock(&write_mu_);
  return stream->rw->Write(message);
}

void ControllerLink::Heartbeats() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      absl::Time until = absl::Now() + heartbeat_;
      while (!stopping_ && absl::Now() < until) wake_.WaitWithDeadline(&mu_, until);
      if (stopping_) return;
      if (!welcomed_) continue;
    }
    AgentMessage beat;
    beat.mutable_heartbeat();
    if (options_.fill_heartbeat) options_.fill_heartbeat(beat.mutable_heartbeat());
    Write(beat);
    SendNodeStatusIfChanged();
  }
}

void ControllerLink::SendNodeStatusIfChanged() {
  v1::Node node = options_.describe_node();
  {
    absl::MutexLock lock(&mu_);
    if (has_sent_node_status_ && google::protobuf::util::MessageDifferencer::Equals(
                                     Comparable(last_node_status_), Comparable(node.status()))) {
      return;
    }
    last_node_status_ = node.status();
    has_sent_node_status_ = true;
    host_ip_ = InternalIp(node);
  }
  AgentMessage m;
  *m.mutable_status()->mutable_node() = node.status();
  Write(m);
}

void ControllerLink::ReportStatus(const std::vector<PodRecord>& pods) {
  AgentMessage m;
  {
    absl::MutexLock lock(&mu_);
    if (!welcomed_) return;
    for (const PodRecord& p : pods) {
      if (p.source != "controller") continue;
      v1::PodStatus status = p.pod.status();
      // The node's address, as the agent told the controller; a pod on the node's
      // network has it as its IP too (the others have their own, from the sync loop).
      status.set_host_ip(host_ip_);
      if (p.pod.spec().host_network()) status.set_pod_ip(host_ip_);
      std::string wire;
      status.SerializeToString(&wire);  // PodStatus has no maps: the bytes are stable
      std::string& sent = sent_status_[p.key];
      if (sent == wire) continue;
      sent = wire;
      v1::PodStatusUpdate* u = m.mutable_status()->add_pods();
      u->set_namespace_(p.pod.metadata().namespace_());
      u->set_name(p.pod.metadata().name());
      u->set_uid(p.pod.metadata().uid());
      *u->mutable_status() = std::move(status);
    }
  }
  if (m.status().pods_size() > 0) Write(m);
}

void ControllerLink::ServeLog(const v1::LogRequest& request, const std::atomic<bool>& cancelled) {
  // Sends `data` in chunks; the last one carries eof and error.
  auto send = [&](std::string_view data, bool eof, const std::string& error) {
    do {
      AgentMessage m;
      v1::LogChunk* c = m.mutable_log_chunk();
      c->set_stream_id(request.stream_id());
      size_t n = std::min(kLogChunkBytes, data.size());
      c->set_data(std::string(data.substr(0, n)));
      data.remove_prefix(n);
      if (data.empty()) {
        c->set_eof(eof);
        c->set_error(error);
      }
      if (!Write(m)) return false;
    } while (!data.empty());
    return true;
  };
  const std::string key = reef::StrCat(request.namespace_(), "/", request.pod());
  std::string container = request.container();
  {
    auto pods = options_.state->Pods();
    const PodRecord* found = nullptr;
    if (pods.ok()) {
      for (const PodRecord& p : *pods) {
        if (p.key == key) found = &p;
      }
    }
    if (found == nullptr) {
      send("", true, reef::StrCat("pod ", key, " is not on node ", options_.node_name, " (yet)"));
      return;
    }
    if (container.empty()) {
      if (found->pod.spec().containers_size() != 1) {
        send("", true, reef::StrCat("pod ", key, " has several containers: choose one with -c"));
        return;
      }
      container = found->pod.spec().containers(0).name();
    }
  }
  CriLogReader reader(PodLogPath(options_.data_dir, key, container));
  auto initial = reader.ReadInitial(request.tail_lines());
  if (!initial.ok() && !absl::IsNotFound(initial.status())) {
    send("", true, std::string(initial.status().message()));
    return;
  }
  if (initial.ok() && !initial->empty() && !send(*initial, false, "")) return;
  while (request.follow() && !cancelled) {
    absl::SleepFor(kLogPollInterval);
    auto more = reader.ReadNew();
    if (!more.ok()) {
      send("", true, std::string(more.status().message()));
      return;
    }
    if (!more->empty() && !send(*more, false, "")) return;
  }
  if (!cancelled) send("", true, "");
}

}  // namespace reef::agent
