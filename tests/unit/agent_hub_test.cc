// The controller's side of the agent streams: what a node is sent on Hello (snapshot
// or delta), which later changes reach it, and whose status it may write. A fake
// connection records what the hub sends; the store is SQLite in memory.

#include <doctest/doctest.h>

#include <thread>

#include "absl/synchronization/mutex.h"
#include "controller/agents/agent_hub.h"
#include "controller/agents/node_objects.h"
#include "controller/store/sqlite_store.h"

namespace reef::controller {
namespace {

class FakeConnection : public AgentConnection {
 public:
  explicit FakeConnection(std::string node) : node_(std::move(node)) {}
  const std::string& node() const override { return node_; }
  void Send(v1::ControllerMessage message) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back(std::move(message));
  }
  // Waits until `n` messages were sent, and returns them.
  std::vector<v1::ControllerMessage> WaitFor(size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        absl::MutexLock lock(&mu_);
        if (sent_.size() >= n) return sent_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    absl::MutexLock lock(&mu_);
    FAIL("the hub sent " << sent_.size() << " messages, expected " << n);
    return sent_;
  }

 private:
  const std::string node_;
  absl::Mutex mu_;
  std::vector<v1::ControllerMessage> sent_ ABSL_GUARDED_BY(mu_);
};

v1::Object Pod(const std::string& name, const std::string& node, const std::string& config_map = "") {
  v1::Object o;
  v1::Pod* p = o.mutable_pod();
  p->mutable_metadata()->set_name(name);
  p->mutable_metadata()->set_namespace_("default");
  p->mutable_spec()->set_node_name(node);
  auto* c = p->mutable_spec()->add_containers();
  c->set_name("main");
  c->set_image("busybox");
  if (!config_map.empty()) {
    auto* env = c->add_env();
    env->set_name("X");
    env->mutable_value_from()->mutable_config_map_key_ref()->set_name(config_map);
    env->mutable_value_from()->mutable_config_map_key_ref()->set_key("x");
  }
  return o;
}

v1::Object ConfigMap(const std::string& name, const std::string& value) {
  v1::Object o;
  o.mutable_config_map()->mutable_metadata()->set_name(name);
  o.mutable_config_map()->mutable_metadata()->set_namespace_("default");
  (*o.mutable_config_map()->mutable_data())["x"] = value;
  return o;
}

int64_t Put(store::Store& store, const std::vector<v1::Object>& objects) {
  auto rev = store.Update([&](store::Txn& txn) -> absl::Status {
    for (const v1::Object& o : objects) {
      auto existing = txn.Get(store::KeyOf(o));
      RETURN_IF_ERROR(existing.ok() ? txn.Update(o).status() : txn.Create(o).status());
    }
    return absl::OkStatus();
  });
  REQUIRE(rev.ok());
  return *rev;
}

v1::Hello HelloFrom(const std::string& node, int64_t applied = 0) {
  v1::Hello hello;
  hello.mutable_node()->mutable_metadata()->set_name(node);
  hello.set_applied_revision(applied);
  return hello;
}

struct HubFixture {
  std::unique_ptr<store::Store> store = *store::OpenSqliteStore(":memory:");
  std::vector<std::string> renewed;
  std::unique_ptr<AgentHub> hub;
  explicit HubFixture(std::string cluster_cidr = "") {
    AgentHubOptions o;
    o.store = store.get();
    o.cluster_cidr = std::move(cluster_cidr);
    o.renew_lease = [this](const std::string& node, absl::Time) { renewed.push_back(node); };
    hub = *AgentHub::Start(std::move(o));
  }
};

TEST_CASE("node objects: a pod's ConfigMaps and Secrets, once each; status changes are not the agent's news") {
  v1::Object o = Pod("p", "n1", "cm");
  v1::Pod pod = o.pod();
  pod.mutable_spec()->add_volumes()->mutable_config_map()->set_name("cm");
  pod.mutable_spec()->add_volumes()->mutable_secret()->set_secret_name("s");
  auto refs = ReferencedConfig(pod);
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].kind == "ConfigMap");
  CHECK(refs[0].name == "cm");
  CHECK(refs[1].kind == "Secret");
  CHECK(refs[1].ns == "default");

  v1::Pod later = pod;
  later.mutable_status()->set_phase("Running");
  later.mutable_metadata()->set_resource_version("9");
  CHECK_FALSE(ChangedForAgent(pod, later));
  later.mutable_spec()->mutable_containers(0)->set_image("busybox:2");
  CHECK(ChangedForAgent(pod, later));
}

TEST_CASE("hub: a new node gets a snapshot of its pods and their ConfigMaps, then deltas of its own changes") {
  HubFixture f;
  Put(*f.store, {ConfigMap("cm", "1"), ConfigMap("unrelated", "1"), Pod("mine", "n1", "cm"), Pod("theirs", "n2")});
  auto n1 = std::make_shared<FakeConnection>("n1");
  f.hub->Hello(n1, HelloFrom("n1"));
  auto sent = n1->WaitFor(2);
  CHECK(sent[0].has_welcome());
  REQUIRE(sent[1].has_snapshot());
  std::set<std::string> names;
  for (const auto& o : sent[1].snapshot().objects()) names.insert(o.has_pod() ? o.pod().metadata().name() : o.config_map().metadata().name());
  CHECK(names == std::set<std::string>{"mine", "cm"});
  CHECK(f.renewed == std::vector<std::string>{"n1"});
  // The Hello registered the node.
  CHECK(f.store->Get(store::Key{"Node", "", "n1"}).ok());

  // Another node's pod: nothing. This node's ConfigMap: a delta.
  Put(*f.store, {Pod("theirs2", "n2")});
  int64_t rev = Put(*f.store, {ConfigMap("cm", "2")});
  sent = n1->WaitFor(3);
  REQUIRE(sent[2].has_delta());
  CHECK(sent[2].delta().revision() == rev);
  REQUIRE(sent[2].delta().changes_size() == 1);
  CHECK(sent[2].delta().changes(0).object().config_map().data().at("x") == "2");
}

TEST_CASE("hub: each node gets its own pod CIDR in Welcome, and keeps it when it comes back") {
  HubFixture f("10.42.0.0/16");
  auto welcome_of = [&](const std::string& node) {
    auto c = std::make_shared<FakeConnection>(node);
    f.hub->Hello(c, HelloFrom(node));
    return c->WaitFor(1)[0].welcome().pod_cidr();
  };
  CHECK(welcome_of("n1") == "10.42.0.0/24");
  CHECK(welcome_of("n2") == "10.42.1.0/24");
  CHECK(welcome_of("n1") == "10.42.0.0/24");
  CHECK(f.store->Get(store::Key{"Node", "", "n2"})->node().spec().pod_cidr() == "10.42.1.0/24");
}

TEST_CASE("hub: a node coming back gets only what changed since its revision, and deletes for pods gone") {
  HubFixture f;
  int64_t applied = Put(*f.store, {Pod("kept", "n1"), Pod("gone", "n1")});
  REQUIRE(f.store->Update([](store::Txn& txn) { return txn.Delete(store::Key{"Pod", "default", "gone"}, "").status(); }).ok());
  Put(*f.store, {Pod("new", "n1")});

  auto n1 = std::make_shared<FakeConnection>("n1");
  v1::Hello hello = HelloFrom("n1", applied);
  for (const char* held : {"kept", "gone"}) {
    auto* s = hello.add_pods();
    s->set_namespace_("default");
    s->set_name(held);
  }
  f.hub->Hello(n1, hello);
  auto sent = n1->WaitFor(2);
  REQUIRE(sent[1].has_delta());
  std::map<std::string, v1::Change::Type> changes;
  for (const auto& c : sent[1].delta().changes()) changes[c.object().pod().metadata().name()] = c.type();
  CHECK(changes == std::map<std::string, v1::Change::Type>{{"new", v1::Change::UPSERT}, {"gone", v1::Change::DELETE}});
}

TEST_CASE("hub: a node writes the status of its own pods only") {
  HubFixture f;
  Put(*f.store, {Pod("mine", "n1"), Pod("theirs", "n2")});
  auto uid = [&](const char* name) { return f.store->Get(store::Key{"Pod", "default", name})->pod().metadata().uid(); };
  v1::StatusBatch batch;
  for (const char* name : {"mine", "theirs"}) {
    auto* u = batch.add_pods();
    u->set_namespace_("default");
    u->set_name(name);
    u->set_uid(uid(name));
    u->mutable_status()->set_phase("Running");
    auto* ready = u->mutable_status()->add_conditions();
    ready->set_type("Ready");
    ready->set_status("True");
  }
  f.hub->Status("n1", batch);
  for (int i = 0; i < 500 && f.store->Get(store::Key{"Pod", "default", "mine"})->pod().status().phase().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  v1::Pod mine = f.store->Get(store::Key{"Pod", "default", "mine"})->pod();
  CHECK(mine.status().phase() == "Running");
  REQUIRE(mine.status().conditions_size() == 1);
  CHECK_FALSE(mine.status().conditions(0).last_transition_time().empty());
  CHECK(f.store->Get(store::Key{"Pod", "default", "theirs"})->pod().status().phase().empty());
}

}  // namespace
}  // namespace reef::controller
