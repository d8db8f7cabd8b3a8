#include "controller/agents/agent_hub.h"

#include "absl/strings/numbers.h"
#include "api/manifest/object.h"
#include "common/log.h"
#include "controller/agents/node_objects.h"
#include "controller/agents/pod_cidr.h"

namespace reef::controller {
namespace {

using manifest::Meta;
using v1::Change;
using v1::ControllerMessage;

bool IsAgentKind(const v1::Object& o) {
  return o.has_pod() || o.has_config_map() || o.has_secret();
}

int64_t RevisionOf(const v1::Object& o) {
  int64_t rv = 0;
  return absl::SimpleAtoi(Meta(o).resource_version(), &rv) ? rv : 0;
}

Change MakeChange(Change::Type type, const v1::Object& object) {
  Change c;
  c.set_type(type);
  *c.mutable_object() = object;
  return c;
}

// Stamps each reported condition with `now` as its transition time, unless the stored
// condition of that type had the same status: then its time stays (minReadySeconds
// and `describe` count from it). Agents do not keep these times.
template <typename Condition>
void KeepTransitionTimes(const google::protobuf::RepeatedPtrField<Condition>& stored,
                         google::protobuf::RepeatedPtrField<Condition>* reported, const std::string& now) {
  for (Condition& c : *reported) {
    c.set_last_transition_time(now);
    for (const Condition& old : stored) {
      if (old.type() == c.type() && old.status() == c.status() && !old.last_transition_time().empty()) {
        c.set_last_transition_time(old.last_transition_time());
      }
    }
  }
}

// Agents get no status: theirs is the truth for pods, and the rest has none.
v1::Object ForAgent(const v1::Object& object) {
  v1::Object copy = object;
  if (copy.has_pod()) copy.mutable_pod()->clear_status();
  return copy;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AgentHub>> AgentHub::Start(AgentHubOptions options) {
  std::unique_ptr<AgentHub> hub(new AgentHub(std::move(options)));
  RETURN_IF_ERROR(hub->LoadView());
  hub->thread_ = std::thread([h = hub.get()] { h->Run(); });
  return hub;
}

AgentHub::~AgentHub() {
  watch_.reset();  // no more events from the store
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status AgentHub::LoadView() {
  // Events after `revision_` are delivered by the watch; an object listed at a later
  // revision and delivered again is simply stored twice.
  loaded_revision_ = revision_ = options_.store->Revision();
  for (const char* kind : {"Pod", "ConfigMap", "Secret"}) {
    ASSIGN_OR_RETURN(auto list, options_.store->List(store::ListOptions{kind, "", {}}));
    for (v1::Object& o : list.items) {
      std::string key = store::ToString(store::KeyOf(o));
      if (o.has_pod() && !o.pod().spec().node_name().empty()) {
        pods_by_node_[o.pod().spec().node_name()].insert(key);
      }
      objects_[key] = std::move(o);
    }
  }
  store::WatchOptions watch;
  watch.from_revision = loaded_revision_;
  ASSIGN_OR_RETURN(watch_, options_.store->Watch(watch, [this](const store::Event& e) {
    if (!IsAgentKind(e.object)) return;
    absl::MutexLock lock(&mu_);
    inbox_.events.push_back(e);
    wake_.Signal();
  }));
  return absl::OkStatus();
}

void AgentHub::Run() {
  while (true) {
    Inbox work;
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_ && inbox_.empty()) wake_.Wait(&mu_);
      if (stopping_) return;
      std::swap(work, inbox_);
    }
    // Changes first, so that a Hello is answered from the freshest view.
    if (!work.events.empty()) ApplyEvents(work.events);
    for (const auto& [connection, hello] : work.hellos) AnswerHello(connection, hello);
    if (!work.statuses.empty()) WriteStatuses(work.statuses);
  }
}

// ---- from the agents --------------------------------------------------------------

void AgentHub::Hello(std::shared_ptr<AgentConnection> connection, v1::Hello hello) {
  if (options_.renew_lease) options_.renew_lease(connection->node(), options_.clock->Now());
  absl::MutexLock lock(&mu_);
  inbox_.hellos.emplace_back(std::move(connection), std::move(hello));
  wake_.Signal();
}

void AgentHub::Heartbeat(const std::string& node) {
  if (options_.renew_lease) options_.renew_lease(node, options_.clock->Now());
}

void AgentHub::Ack(const std::string& node, int64_t revision) {
  absl::MutexLock lock(&mu_);
  if (Session* s = FindSession(node)) s->acked = std::max(s->acked, revision);
}

void AgentHub::Status(const std::string& node, v1::StatusBatch batch) {
  absl::MutexLock lock(&mu_);
  inbox_.statuses.emplace_back(node, std::move(batch));
  wake_.Signal();
}

void AgentHub::LogChunk(const std::string& node, const v1::LogChunk& chunk) {
  absl::MutexLock lock(&mu_);
  auto it = logs_.find(chunk.stream_id());
  if (it == logs_.end() || it->second.node != node) return;  // closed, or not this node's
  it->second.sink(chunk);
  if (chunk.eof()) logs_.erase(it);
}

void AgentHub::Disconnected(const AgentConnection* connection) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(connection->node());
  if (it == sessions_.end() || it->second.connection.get() != connection) return;
  sessions_.erase(it);
  for (auto log = logs_.begin(); log != logs_.end();) {
    if (log->second.node != connection->node()) {
      ++log;
      continue;
    }
    v1::LogChunk end;
    end.set_stream_id(log->first);
    end.set_eof(true);
    end.set_error(reef::StrCat("node ", connection->node(), " disconnected"));
    log->second.sink(end);
    log = logs_.erase(log);
  }
  REEF_LOG(Info) << "node " << connection->node() << ": disconnected";
}

AgentHub::Session* AgentHub::FindSession(const std::string& node) {
  auto it = sessions_.find(node);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::vector<std::string> AgentHub::ConnectedNodes() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> nodes;
  for (const auto& [node, session] : sessions_) nodes.push_back(node);
  return nodes;
}

int64_t AgentHub::AckedRevision(const std::string& node) {
  absl::MutexLock lock(&mu_);
  Session* s = FindSession(node);
  return s == nullptr ? 0 : s->acked;
}

// ---- logs -------------------------------------------------------------------------

absl::StatusOr<uint64_t> AgentHub::OpenLog(const std::string& node, v1::LogRequest request, LogSink sink) {
  absl::MutexLock lock(&mu_);
  Session* s = FindSession(node);
  if (s == nullptr) {
    return absl::UnavailableError(reef::StrCat("node ", node, " is not connected to the controller"));
  }
  uint64_t id = next_log_id_++;
  request.set_stream_id(id);
  logs_[id] = LogRelay{node, std::move(sink)};
  ControllerMessage m;
  *m.mutable_log_request() = std::move(request);
  s->connection->Send(std::move(m));
  return id;
}

void AgentHub::CloseLog(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = logs_.find(id);
  if (it == logs_.end()) return;
  if (Session* s = FindSession(it->second.node)) {
    ControllerMessage m;
    m.mutable_log_request()->set_stream_id(id);
    m.mutable_log_request()->set_cancel(true);
    s->connection->Send(std::move(m));
  }
  logs_.erase(it);
}

// ---- the hub thread ---------------------------------------------------------------

void AgentHub::AddPodWithConfig(const v1::Pod& pod, Session* session, std::vector<Change>* changes) {
  v1::Object o;
  *o.mutable_pod() = pod;
  changes->push_back(MakeChange(Change::UPSERT, ForAgent(o)));
  for (const store::Key& ref : ReferencedConfig(pod)) {
    std::string key = store::ToString(ref);
    if (!session->wanted.insert(key).second) continue;  // already sent on this connection
    auto it = objects_.find(key);
    if (it != objects_.end()) changes->push_back(MakeChange(Change::UPSERT, it->second));
  }
}

void AgentHub::ApplyEvents(const std::vector<store::Event>& events) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::vector<Change>> out;  // by node
  for (const store::Event& e : events) {
    if (e.revision <= loaded_revision_) continue;  // already in the view (listed at start)
    revision_ = std::max(revision_, e.revision);
    const std::string key = store::ToString(store::KeyOf(e.object));
    const bool deleted = e.type == store::EventType::kDeleted;
    auto before = objects_.find(key);

    if (!e.object.has_pod()) {  // a ConfigMap or a Secret: to every node that wants it
      if (deleted) {
        objects_.erase(key);
      } else {
        objects_[key] = e.object;
      }
      for (auto& [node, session] : sessions_) {
        if (session.wanted.count(key)) {
          out[node].push_back(MakeChange(deleted ? Change::DELETE : Change::UPSERT, e.object));
        }
      }
      continue;
    }

    const v1::Pod* old_pod = before == objects_.end() ? nullptr : &before->second.pod();
    const std::string old_node = old_pod ? old_pod->spec().node_name() : "";
    const std::string new_node = deleted ? "" : e.object.pod().spec().node_name();
    const bool changed = old_pod == nullptr || ChangedForAgent(*old_pod, e.object.pod());
    if (!old_node.empty() && old_node != new_node) {
      pods_by_node_[old_node].erase(key);
      if (FindSession(old_node)) out[old_node].push_back(MakeChange(Change::DELETE, ForAgent(e.object)));
    }
    if (!new_node.empty() && (old_node != new_node || changed)) {
      pods_by_node_[new_node].insert(key);
      if (Session* s = FindSession(new_node)) AddPodWithConfig(e.object.pod(), s, &out[new_node]);
    }
    if (deleted) {
      objects_.erase(key);
    } else {
      objects_[key] = e.object;
    }
  }
  for (auto& [node, changes] : out) {
    if (changes.empty()) continue;
    ControllerMessage m;
    for (Change& c : changes) *m.mutable_delta()->add_changes() = std::move(c);
    m.mutable_delta()->set_revision(revision_);
    sessions_[node].connection->Send(std::move(m));
  }
}

void AgentHub::AnswerHello(const std::shared_ptr<AgentConnection>& connection, const v1::Hello& hello) {
  const std::string& node = connection->node();
  if (absl::Status s = RegisterNode(hello); !s.ok()) {
    // The agent still gets its pods: the node object catches up on the next Hello.
    REEF_LOG(Error) << "node " << node << ": record the node: " << s.message();
  }
  std::string pod_cidr;
  if (auto stored = options_.store->Get(store::Key{"Node", "", node}); stored.ok()) {
    pod_cidr = stored->node().spec().pod_cidr();
  }

  absl::MutexLock lock(&mu_);
  Session& session = sessions_[node];
  if (session.connection && session.connection != connection) {
    REEF_LOG(Info) << "node " << node << ": a new connection replaces the previous one";
  }
  session = Session{connection, 0, {}};

  ControllerMessage welcome;
  welcome.mutable_welcome()->set_heartbeat_seconds(absl::ToInt64Seconds(options_.heartbeat));
  welcome.mutable_welcome()->set_lease_seconds(absl::ToInt64Seconds(options_.lease));
  welcome.mutable_welcome()->set_pod_cidr(pod_cidr);
  connection->Send(std::move(welcome));

  // What the node should hold now; what it has at `applied` or later it keeps.
  const int64_t applied = hello.applied_revision();
  std::vector<Change> changes;
  std::set<std::pair<std::string, std::string>> current;  // (namespace, name) of its pods
  for (const std::string& key : pods_by_node_[node]) {
    const v1::Object& o = objects_.at(key);
    current.insert({o.pod().metadata().namespace_(), o.pod().metadata().name()});
    std::vector<Change> pod_changes;
    AddPodWithConfig(o.pod(), &session, &pod_changes);
    for (Change& c : pod_changes) {
      if (applied == 0 || RevisionOf(c.object()) > applied) changes.push_back(std::move(c));
    }
  }
  ControllerMessage answer;
  if (applied == 0) {
    for (Change& c : changes) *answer.mutable_snapshot()->add_objects() = std::move(*c.mutable_object());
    answer.mutable_snapshot()->set_revision(revision_);
  } else {
    for (const v1::PodSummary& held : hello.pods()) {
      if (current.count({held.namespace_(), held.name()})) continue;
      v1::Object gone;
      gone.mutable_pod()->mutable_metadata()->set_namespace_(held.namespace_());
      gone.mutable_pod()->mutable_metadata()->set_name(held.name());
      gone.mutable_pod()->mutable_metadata()->set_uid(held.uid());
      changes.push_back(MakeChange(Change::DELETE, gone));
    }
    for (Change& c : changes) *answer.mutable_delta()->add_changes() = std::move(c);
    answer.mutable_delta()->set_revision(revision_);
  }
  REEF_LOG(Info) << "node " << node << ": connected (had revision " << applied << "), sending "
                 << (applied == 0 ? "a snapshot of " : "a delta of ")
                 << (applied == 0 ? answer.snapshot().objects_size() : answer.delta().changes_size())
                 << " objects at revision " << revision_;
  connection->Send(std::move(answer));
}

absl::Status AgentHub::RegisterNode(const v1::Hello& hello) {
  const std::string now = FormatTimestamp(options_.clock->Now());
  auto written = options_.store->Update([&](store::Txn& txn) -> absl::Status {
    v1::Object node;
    auto stored = txn.Get(store::Key{"Node", "", hello.node().metadata().name()});
    if (stored.ok()) {
      node = *stored;
    } else if (absl::IsNotFound(stored.status())) {
      node.mutable_node()->mutable_metadata()->set_name(hello.node().metadata().name());
    } else {
      return stored.status();
    }
    v1::Node* n = node.mutable_node();
    n->mutable_metadata()->clear_resource_version();
    if (n->spec().pod_cidr().empty() && !options_.cluster_cidr.empty()) {
      ASSIGN_OR_RETURN(auto nodes, txn.List(store::ListOptions{"Node", "", {}}));
      std::set<std::string> taken;
      for (const v1::Object& other : nodes) taken.insert(other.node().spec().pod_cidr());
      auto cidr = NextPodCidr(options_.cluster_cidr, kNodeCidrMaskSize, taken);
      if (cidr.ok()) {
        n->mutable_spec()->set_pod_cidr(*cidr);
        REEF_LOG(Info) << "node " << n->metadata().name() << ": pod CIDR " << *cidr;
      } else {
        // The node registers all the same: its hostNetwork pods run, the others wait.
        REEF_LOG(Error) << "node " << n->metadata().name() << ": " << cidr.status().message();
      }
    }
    // The agent's labels (arch, os, hostname, --node-labels) win over stored ones of
    // the same key; labels set with `reefctl label` stay.
    for (const auto& [k, v] : hello.node().metadata().labels()) (*n->mutable_metadata()->mutable_labels())[k] = v;
    v1::NodeStatus status = hello.node().status();
    KeepTransitionTimes(n->status().conditions(), status.mutable_conditions(), now);
    for (v1::NodeCondition& c : *status.mutable_conditions()) c.set_last_heartbeat_time(now);
    *n->mutable_status() = std::move(status);
    return stored.ok() ? txn.Update(node).status() : txn.Create(node).status();
  });
  return written.status();
}

void AgentHub::WriteStatuses(const std::vector<std::pair<std::string, v1::StatusBatch>>& statuses) {
  int pods = 0;
  const std::string now = FormatTimestamp(options_.clock->Now());
  auto written = options_.store->Update([&](store::Txn& txn) -> absl::Status {
    pods = 0;
    for (const auto& [node, batch] : statuses) {
      for (const v1::PodStatusUpdate& update : batch.pods()) {
        auto stored = txn.Get(store::Key{"Pod", update.namespace_(), update.name()});
        if (absl::IsNotFound(stored.status())) continue;  // deleted meanwhile
        RETURN_IF_ERROR(stored.status());
        v1::Pod* pod = stored->mutable_pod();
        if (pod->metadata().uid() != update.uid()) continue;  // an older pod of that name
        if (pod->spec().node_name() != node) {
          // A node writes only the status of its own pods (its certificate says who).
          REEF_LOG(Warning) << "node " << node << " reported status for pod " << update.namespace_() << "/"
                            << update.name() << ", bound to '" << pod->spec().node_name() << "': ignored";
          continue;
        }
        v1::PodStatus status = update.status();
        KeepTransitionTimes(pod->status().conditions(), status.mutable_conditions(), now);
        // The scheduler's condition is the controller's to keep.
        for (const v1::PodCondition& c : pod->status().conditions()) {
          if (c.type() != "PodScheduled") continue;
          bool reported = false;
          for (const v1::PodCondition& r : status.conditions()) reported |= r.type() == c.type();
          if (!reported) *status.add_conditions() = c;
        }
        *pod->mutable_status() = std::move(status);
        pod->mutable_metadata()->clear_resource_version();
        RETURN_IF_ERROR(txn.Update(*stored).status());
        ++pods;
      }
      if (batch.has_node()) {
        auto stored = txn.Get(store::Key{"Node", "", node});
        if (!stored.ok()) continue;  // registered on the next Hello
        v1::NodeStatus status = batch.node();
        KeepTransitionTimes(stored->node().status().conditions(), status.mutable_conditions(), now);
        // Heartbeats renew the lease in memory; the stored time is the last Hello's.
        for (v1::NodeCondition& c : *status.mutable_conditions()) {
          for (const v1::NodeCondition& old : stored->node().status().conditions()) {
            if (old.type() == c.type()) c.set_last_heartbeat_time(old.last_heartbeat_time());
          }
        }
        *stored->mutable_node()->mutable_status() = std::move(status);
        stored->mutable_node()->mutable_metadata()->clear_resource_version();
        RETURN_IF_ERROR(txn.Update(*stored).status());
      }
    }
    return absl::OkStatus();
  });
  if (!written.ok()) {
    REEF_LOG(Error) << "write pod status from " << statuses.size() << " node batches: " << written.status().message();
  } else {
    REEF_LOG(Debug) << "wrote the status of " << pods << " pods from " << statuses.size() << " node batches";
  }
}

}  // namespace reef::controller
