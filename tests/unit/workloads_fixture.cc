#include "tests/unit/workloads_fixture.h"

#include <doctest/doctest.h>

#include "api/manifest/defaults.h"
#include "api/manifest/manifest.h"
#include "api/manifest/validate.h"
#include "controller/reconcile/pods.h"
#include "controller/store/sqlite_store.h"
#include "tests/support/manifests.h"

namespace reef::testing {

Workloads::Workloads(reconcile::ReconcilerOptions options) : leases(options.node_lease_duration) {
  auto s = store::OpenSqliteStore(":memory:", store::SqliteStoreOptions{&clock});
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  store = std::move(*s);
  options.clock = &clock;
  auto l = reconcile::Reconcilers::CreateForTest(store.get(), &leases, options);
  REQUIRE_MESSAGE(l.ok(), l.status().ToString());
  loops = std::move(*l);
  REQUIRE(store->Update([](store::Txn& txn) -> absl::Status {
                 v1::Object ns;
                 ns.mutable_namespace_()->mutable_metadata()->set_name("default");
                 return txn.Create(ns).status();
               }).ok());
}

Workloads::~Workloads() { loops.reset(); }

void Workloads::Apply(const std::string& yaml) {
  auto objects = manifest::ParseManifest("test.yaml", yaml);
  REQUIRE_MESSAGE(objects.ok(), objects.status().ToString());
  auto written = store->Update([&](store::Txn& txn) -> absl::Status {
    for (v1::Object o : *objects) {
      manifest::ClearStatus(&o);
      auto existing = txn.Get(store::KeyOf(o));
      if (existing.ok()) {
        manifest::CopyStatus(*existing, &o);
        RETURN_IF_ERROR(txn.Update(o).status());
      } else {
        RETURN_IF_ERROR(txn.Create(o).status());
      }
    }
    return absl::OkStatus();
  });
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
}

void Workloads::WriteStatus(const std::string& yaml) {
  manifest::ParseOptions options;
  options.status_only = true;
  auto objects = manifest::ParseManifest("status.yaml", yaml, options);
  REQUIRE_MESSAGE(objects.ok(), objects.status().ToString());
  auto written = store->Update([&](store::Txn& txn) -> absl::Status {
    for (const v1::Object& o : *objects) {
      ASSIGN_OR_RETURN(v1::Object stored, txn.Get(store::KeyOf(o)));
      manifest::CopyStatus(o, &stored);
      RETURN_IF_ERROR(txn.Update(stored).status());
    }
    return absl::OkStatus();
  });
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
}

void Workloads::AddNode(const std::string& name, const std::map<std::string, std::string>& labels,
                        const std::string& cpu, const std::string& memory) {
  v1::Object o;
  v1::Node* node = o.mutable_node();
  node->mutable_metadata()->set_name(name);
  (*node->mutable_metadata()->mutable_labels())["kubernetes.io/hostname"] = name;
  for (const auto& [k, v] : labels) (*node->mutable_metadata()->mutable_labels())[k] = v;
  auto* alloc = node->mutable_status()->mutable_allocatable();
  (*alloc)["cpu"] = cpu;
  (*alloc)["memory"] = memory;
  (*alloc)["pods"] = "110";
  v1::NodeCondition* ready = node->mutable_status()->add_conditions();
  ready->set_type("Ready");
  ready->set_status("True");
  ready->set_reason("AgentReady");
  ready->set_last_transition_time(FormatTimestamp(clock.Now()));
  auto created = store->Update([&](store::Txn& txn) { return txn.Create(o).status(); });
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  Renew(name);
}

void Workloads::EditNode(const std::string& name, const std::function<void(v1::Node*)>& edit) {
  auto written = store->Update([&](store::Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Object o, txn.Get(store::Key{"Node", "", name}));
    edit(o.mutable_node());
    return txn.Update(o).status();
  });
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
}

void Workloads::SetReady(const v1::Pod& pod, bool ready) {
  auto written = store->Update([&](store::Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Object o, txn.Get(store::Key{"Pod", pod.metadata().namespace_(), pod.metadata().name()}));
    v1::PodStatus* status = o.mutable_pod()->mutable_status();
    status->set_phase("Running");
    reconcile::SetPodCondition(status, "Ready", ready ? "True" : "False", "", "", clock.Now());
    return txn.Update(o).status();
  });
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
}

int Workloads::ReadyAll(const std::string& selector) {
  int n = 0;
  for (const v1::Pod& pod : Pods(selector)) {
    if (pod.spec().node_name().empty() || !reconcile::IsActive(pod) || reconcile::IsReady(pod)) continue;
    SetReady(pod);
    ++n;
  }
  return n;
}

v1::Object Workloads::Get(const std::string& kind, const std::string& name, const std::string& ns) {
  auto o = store->Get(store::Key{kind, kind == "Node" ? "" : ns, name});
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  return *o;
}

bool Workloads::Exists(const std::string& kind, const std::string& name, const std::string& ns) {
  return store->Get(store::Key{kind, kind == "Node" ? "" : ns, name}).ok();
}

std::vector<v1::Object> Workloads::List(const std::string& kind, const std::string& selector) {
  auto sel = manifest::Selector::Parse(selector);
  REQUIRE(sel.ok());
  auto list = store->List(store::ListOptions{kind, "", *sel});
  REQUIRE(list.ok());
  return list->items;
}

std::vector<v1::Pod> Workloads::Pods(const std::string& selector) {
  std::vector<v1::Pod> pods;
  for (const v1::Object& o : List("Pod", selector)) pods.push_back(o.pod());
  return pods;
}

std::map<std::string, int> Workloads::PodsPerNode(const std::string& selector) {
  std::map<std::string, int> out;
  for (const v1::Pod& p : Pods(selector)) ++out[p.spec().node_name()];
  return out;
}

std::string DeploymentYaml(const std::string& name, int replicas, const std::string& image,
                           const std::string& extra_spec) {
  return DeploymentManifest(name, replicas, reef::StrCat("containers: [{name: main, image: \"", image, "\"}]\n"),
                            extra_spec);
}

}  // namespace reef::testing
