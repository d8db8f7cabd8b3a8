#include "agent/probes/probe_manager.h"

#include <system_error>

#include "common/log.h"

namespace reef::agent::probes {
namespace {

const ProbeWorker* WorkerOf(const std::vector<ProbeWorker>& workers, ProbeKind kind) {
  for (const ProbeWorker& w : workers) {
    if (w.kind() == kind) return &w;
  }
  return nullptr;
}

std::string FailureText(const ProbeWorker& w) {
  return reef::StrCat(ProbeKindName(w.kind()), " probe failed: ", w.failure_message());
}

}  // namespace

ProbeManager::ProbeManager(ProbeManagerOptions options) : options_(std::move(options)) {
  scheduler_ = std::thread([this] { SchedulerLoop(); });
}

ProbeManager::~ProbeManager() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  scheduler_.join();
  // No new runs from here; the ones in flight end within their timeouts.
  std::list<Run> runs;
  {
    absl::MutexLock lock(&mu_);
    runs.splice(runs.end(), runs_);
  }
  for (Run& run : runs) run.thread.join();
}

void ProbeManager::SetContainers(std::vector<ProbedContainer> containers) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::shared_ptr<Entry>> next;
  for (ProbedContainer& c : containers) {
    if (next.contains(c.id)) continue;
    auto it = entries_.find(c.id);
    if (it != entries_.end()) {
      // Same attempt: keep its workers; the pod IP or ports may have been learnt since.
      it->second->container = std::move(c);
      next.emplace(it->first, it->second);
      continue;
    }
    auto entry = std::make_shared<Entry>();
    const reef::v1::Container& spec = c.spec;
    if (spec.has_startup_probe()) {
      entry->workers.emplace_back(ProbeKind::kStartup, spec.startup_probe(), c.started_at);
    }
    if (spec.has_readiness_probe()) {
      entry->workers.emplace_back(ProbeKind::kReadiness, spec.readiness_probe(), c.started_at);
    }
    if (spec.has_liveness_probe()) {
      entry->workers.emplace_back(ProbeKind::kLiveness, spec.liveness_probe(), c.started_at);
    }
    entry->in_flight.assign(entry->workers.size(), false);
    entry->container = std::move(c);
    entry->view = ComputeView(*entry);
    next.emplace(entry->container.id, std::move(entry));
  }
  entries_.swap(next);
  wake_ = true;
}

const ProbeManager::Entry* ProbeManager::Find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

bool ProbeManager::Ready(const std::string& id) const {
  absl::ReaderMutexLock lock(&mu_);
  const Entry* entry = Find(id);
  return entry != nullptr && entry->view.ready;
}

bool ProbeManager::Started(const std::string& id) const {
  absl::ReaderMutexLock lock(&mu_);
  const Entry* entry = Find(id);
  return entry != nullptr && entry->view.started;
}

std::optional<std::string> ProbeManager::Failure(const std::string& id) const {
  absl::ReaderMutexLock lock(&mu_);
  const Entry* entry = Find(id);
  return entry == nullptr ? std::nullopt : entry->view.failure;
}

ProbeManager::View ProbeManager::ComputeView(const Entry& entry) {
  const ProbeWorker* startup = WorkerOf(entry.workers, ProbeKind::kStartup);
  const ProbeWorker* readiness = WorkerOf(entry.workers, ProbeKind::kReadiness);
  const ProbeWorker* liveness = WorkerOf(entry.workers, ProbeKind::kLiveness);
  View view;
  view.started = startup == nullptr || startup->result() == Verdict::kSuccess;
  view.ready = view.started && (readiness == nullptr || readiness->result() == Verdict::kSuccess);
  if (liveness != nullptr && liveness->result() == Verdict::kFailure) {
    view.failure = FailureText(*liveness);
  } else if (startup != nullptr && startup->result() == Verdict::kFailure) {
    view.failure = FailureText(*startup);
  }
  return view;
}

void ProbeManager::SchedulerLoop() {
  while (true) {
    std::list<Run> finished;
    absl::Time next_due;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      wake_ = false;
      for (auto it = runs_.begin(); it != runs_.end();) {
        auto following = std::next(it);
        if (it->done) finished.splice(finished.end(), runs_, it);
        it = following;
      }
      const uint64_t pass = ++passes_;
      int started = 0;
      next_due = StartDueProbes(options_.clock->Now(), &started);
      if (started == 0 && in_flight_ == 0) quiet_pass_ = pass;
    }
    for (Run& run : finished) run.thread.join();  // each has returned or is about to

    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
    if (next_due == absl::InfiniteFuture()) {
      mu_.Await(absl::Condition(&woken));
    } else {
      // Real time stands in for the Clock's here; with a FakeClock nothing is due
      // until the test moves it and wakes us (WaitIdleForTest).
      absl::Duration wait = next_due - options_.clock->Now();
      if (wait > absl::ZeroDuration()) mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
    }
  }
}

absl::Time ProbeManager::StartDueProbes(absl::Time now, int* started) {
  absl::Time next_due = absl::InfiniteFuture();
  for (auto& [id, entry] : entries_) {
    for (size_t i = 0; i < entry->workers.size(); ++i) {
      ProbeWorker& worker = entry->workers[i];
      if (entry->in_flight[i]) continue;
      // Liveness and readiness wait for the startup probe; its success wakes us.
      if (worker.kind() != ProbeKind::kStartup && !entry->view.started) continue;
      const absl::Time due = worker.next_due();
      if (due > now) {
        next_due = std::min(next_due, due);
        continue;
      }
      auto run = runs_.emplace(runs_.end());
      try {
        run->thread = std::thread(&ProbeManager::RunProbe, this, entry, i, run);
      } catch (const std::system_error& e) {
        // Out of threads: try again a little later rather than give up on the probe.
        REEF_LOG(Warning) << "probes: cannot start a thread: " << e.what();
        runs_.erase(run);
        next_due = std::min(next_due, now + absl::Seconds(1));
        continue;
      }
      worker.RunStarted(now);
      entry->in_flight[i] = true;
      ++in_flight_;
      ++*started;
    }
  }
  return next_due;
}

void ProbeManager::RunProbe(std::shared_ptr<Entry> entry, size_t index,
                            std::list<Run>::iterator run) {
  reef::v1::Probe probe;
  ProbeTarget target;
  absl::Duration timeout;
  ProbeKind kind;
  {
    absl::ReaderMutexLock lock(&mu_);
    const ProbeWorker& worker = entry->workers[index];
    probe = worker.probe();
    timeout = worker.settings().timeout;
    kind = worker.kind();
    target.container_id = entry->container.id;
    target.pod_ip = entry->container.pod_ip;
    target.ports.assign(entry->container.spec.ports().begin(), entry->container.spec.ports().end());
  }
  const ProbeOutcome outcome = options_.prober->Run(probe, target, timeout);

  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(target.container_id);
    if (it != entries_.end() && it->second == entry) {  // not forgotten meanwhile
      const std::string where = reef::StrCat("probes: ", entry->container.pod_key, " ",
                                             entry->container.spec.name(), ": ");
      if (outcome.result == ProbeResult::kError) {
        REEF_LOG(Warning) << where << ProbeKindName(kind) << " probe errored: " << outcome.message;
      }
      entry->workers[index].Record(outcome);
      View view = ComputeView(*entry);
      changed = view != entry->view;
      if (changed && view.failure && !entry->view.failure) REEF_LOG(Info) << where << *view.failure;
      if (changed && view.ready != entry->view.ready) {
        REEF_LOG(Info) << where << (view.ready ? "ready" : "not ready")
                       << (outcome.success() ? "" : reef::StrCat(": ", outcome.message));
      }
      entry->view = std::move(view);
    }
  }
  // Before the run counts as finished, so that WaitIdleForTest covers the callback.
  if (changed && options_.on_change) options_.on_change();

  absl::MutexLock lock(&mu_);
  entry->in_flight[index] = false;
  --in_flight_;
  run->done = true;
  wake_ = true;
}

void ProbeManager::WaitIdleForTest() {
  absl::MutexLock lock(&mu_);
  const uint64_t after = passes_;
  wake_ = true;
  auto quiet = [this, after]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return quiet_pass_ > after; };
  mu_.Await(absl::Condition(&quiet));
}

}  // namespace reef::agent::probes
