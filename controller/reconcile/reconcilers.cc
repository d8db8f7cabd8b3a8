#include "controller/reconcile/reconcilers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controller/reconcile/daemon_set.h"
#include "controller/reconcile/deployment.h"
#include "controller/reconcile/garbage_collector.h"
#include "controller/reconcile/node_lifecycle.h"
#include "controller/reconcile/replica_set.h"
#include "controller/scheduler/scheduler_loop.h"

namespace reef::reconcile {

namespace {

// The kinds the loops read (and the garbage collector judges).
const std::vector<std::string>& CachedKinds() {
  static const auto* kinds =
      new std::vector<std::string>{"Node", "Pod", "ReplicaSet", "Deployment", "DaemonSet"};
  return *kinds;
}

}  // namespace

std::set<std::string> AllLoops() { return std::set<std::string>(std::begin(kLoopNames), std::end(kLoopNames)); }

absl::StatusOr<std::set<std::string>> ParseControllers(std::string_view flag) {
  std::set<std::string> enabled;
  for (absl::string_view part : absl::StrSplit(ToAbsl(flag), ',', absl::SkipWhitespace())) {
    bool off = absl::ConsumePrefix(&part, "-");
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part));
    std::set<std::string> names;
    if (name == "*") {
      names = AllLoops();
    } else if (AllLoops().count(name)) {
      names.insert(name);
    } else {
      return absl::InvalidArgumentError(reef::StrCat(
          "--controllers: unknown controller \"", name, "\"; known: *, ", absl::StrJoin(AllLoops(), ", ")));
    }
    for (const std::string& n : names) {
      if (off) {
        enabled.erase(n);
      } else {
        enabled.insert(n);
      }
    }
  }
  return enabled;
}

struct Reconcilers::Loops {
  Loops(store::Store* store, const State* state, NodeLeases* leases, const ReconcilerOptions& o)
      : replica_sets(store, state, o.clock),
        deployments(store, state, o.clock),
        daemon_sets(store, state, o.clock),
        scheduler(store, state, o.clock),
        lifecycle(store, state, leases, o.clock,
                  NodeLifecycleOptions{o.node_lease_duration, o.pod_eviction_timeout, o.node_monitor_period}),
        gc(store, state, o.clock, CachedKinds(), o.event_ttl) {}

  std::vector<Reconciler*> Enabled(const std::set<std::string>& enabled) {
    std::vector<Reconciler*> out;
    for (Reconciler* r : std::initializer_list<Reconciler*>{&replica_sets, &deployments, &daemon_sets,
                                                            &scheduler, &lifecycle, &gc}) {
      if (enabled.count(absl::AsciiStrToLower(ToAbsl(r->name())))) out.push_back(r);
    }
    return out;
  }

  ReplicaSetReconciler replica_sets;
  DeploymentReconciler deployments;
  DaemonSetReconciler daemon_sets;
  scheduler::SchedulerLoop scheduler;
  NodeLifecycleReconciler lifecycle;
  GarbageCollector gc;
};

absl::StatusOr<std::unique_ptr<Reconcilers>> Reconcilers::Create(store::Store* store, NodeLeases* leases,
                                                                 const ReconcilerOptions& options) {
  std::unique_ptr<Reconcilers> r(new Reconcilers());
  r->leases_ = leases;
  // The runner needs the cache as its State and the cache needs the runner as its
  // listener: events that come before the runner exists are dropped, and
  // EnqueueAll() below looks at everything anyway (the loops are level-triggered).
  Reconcilers* self = r.get();
  auto listener = [self](const store::Event& e) {
    if (Runner* runner = self->live_runner_.load()) runner->OnChange(e);
  };
  ASSIGN_OR_RETURN(r->cache_, ObjectCache::Open(store, CachedKinds(), listener));
  r->loops_ = std::make_unique<Loops>(store, r->cache_.get(), leases, options);
  RunnerOptions runner_options;
  runner_options.workers = options.workers;
  runner_options.resync_period = options.resync_period;
  runner_options.clock = options.clock;
  r->runner_ = std::make_unique<Runner>(r->cache_.get(), r->loops_->Enabled(options.enabled), runner_options);
  r->live_runner_ = r->runner_.get();
  if (options.enabled.count("nodelifecycle")) {
    leases->SetOnBack([self](const std::string&) { self->runner_->Enqueue("NodeLifecycle", ""); });
  }
  r->runner_->EnqueueAll();  // what changed while the controller was down
  return r;
}

absl::StatusOr<std::unique_ptr<Reconcilers>> Reconcilers::Start(store::Store* store, NodeLeases* leases,
                                                                const ReconcilerOptions& options) {
  ASSIGN_OR_RETURN(auto r, Create(store, leases, options));
  r->runner_->Start();
  return r;
}

absl::StatusOr<std::unique_ptr<Reconcilers>> Reconcilers::CreateForTest(store::Store* store,
                                                                        NodeLeases* leases,
                                                                        const ReconcilerOptions& options) {
  return Create(store, leases, options);
}

Reconcilers::~Reconcilers() { Stop(); }

void Reconcilers::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (leases_) leases_->SetOnBack(nullptr);
  runner_->Stop();
  cache_.reset();  // no more events from the store
}

int64_t Reconcilers::NodeLifecycleWrites() const { return loops_->lifecycle.writes(); }

}  // namespace reef::reconcile
