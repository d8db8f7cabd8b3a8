#include "controller/reconcile/runner.h"

#include "common/log.h"

namespace reef::reconcile {
namespace {

// Queue items are "<loop name>|<key>"; two internal ones re-queue whole loops.
constexpr char kSep = '|';
constexpr std::string_view kResync = "resync";  // every key of every loop
constexpr std::string_view kTick = "tick";      // "tick|<loop>": every key of a periodic loop

// A conflict is retried at once a few times; a key that keeps conflicting (a writer
// racing it on every try) then backs off like any error.
constexpr int kImmediateConflictRetries = 5;

std::string Item(std::string_view name, std::string_view key) {
  return reef::StrCat(name, std::string(1, kSep), key);
}

}  // namespace

std::string NamespacedKey(const v1::ObjectMeta& meta) {
  return reef::StrCat(meta.namespace_(), "/", meta.name());
}

store::Key KeyFromString(std::string_view kind, std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return store::Key{std::string(kind), "", std::string(key)};
  return store::Key{std::string(kind), std::string(key.substr(0, slash)),
                    std::string(key.substr(slash + 1))};
}

Runner::Runner(const State* state, std::vector<Reconciler*> reconcilers, const RunnerOptions& options)
    : state_(state), reconcilers_(std::move(reconcilers)), options_(options), queue_(options.clock) {}

Runner::~Runner() { Stop(); }

void Runner::OnChange(const store::Event& event) {
  std::vector<std::string> keys;
  for (Reconciler* r : reconcilers_) {
    keys.clear();
    r->KeysFor(event, *state_, &keys);
    for (const std::string& key : keys) queue_.Add(Item(r->name(), key));
  }
}

void Runner::Enqueue(std::string_view name, const std::string& key) { queue_.Add(Item(name, key)); }

void Runner::EnqueueAll() {
  std::vector<std::string> keys;
  for (Reconciler* r : reconcilers_) {
    keys.clear();
    r->AllKeys(*state_, &keys);
    for (const std::string& key : keys) queue_.Add(Item(r->name(), key));
    if (r->period() > absl::ZeroDuration()) queue_.AddAfter(Item(kTick, r->name()), r->period());
  }
  queue_.AddAfter(Item(kResync, ""), options_.resync_period);
}

void Runner::Start() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { Work(); });
}

void Runner::Stop() {
  if (stopped_) return;
  stopped_ = true;
  queue_.ShutDown();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void Runner::Work() {
  while (auto item = queue_.Get()) {
    Process(*item);
    queue_.Done(*item);
  }
}

int Runner::RunUntilIdleForTest(int max_items) {
  int n = 0;
  while (n < max_items) {
    auto item = queue_.TryGet();
    if (!item) break;
    Process(*item);
    queue_.Done(*item);
    ++n;
  }
  return n;
}

void Runner::Process(const std::string& item) {
  size_t sep = item.find(kSep);
  std::string_view name = std::string_view(item).substr(0, sep);
  std::string key = item.substr(sep + 1);
  if (name == kResync) {
    EnqueueAll();
    return;
  }
  if (name == kTick) {
    std::vector<std::string> keys;
    for (Reconciler* r : reconcilers_) {
      if (r->name() != key) continue;
      r->AllKeys(*state_, &keys);
      for (const std::string& k : keys) queue_.Add(Item(r->name(), k));
      queue_.AddAfter(item, r->period());
    }
    return;
  }
  for (Reconciler* r : reconcilers_) {
    if (r->name() != name) continue;
    absl::StatusOr<Result> result = r->Reconcile(key);
    if (result.ok()) {
      queue_.Forget(item);
      if (result->requeue_after > absl::ZeroDuration()) queue_.AddAfter(item, result->requeue_after);
    } else if (absl::IsAborted(result.status()) && queue_.Failures(item) < kImmediateConflictRetries) {
      queue_.NextBackoff(item);  // counts the conflict
      queue_.Add(item);
    } else {
      absl::Duration delay = queue_.NextBackoff(item);
      REEF_LOG(Warning) << name << " " << key << ": " << result.status().message()
                        << " (retrying in " << absl::FormatDuration(delay) << ")";
      queue_.AddAfter(item, delay);
    }
    return;
  }
  REEF_LOG(Error) << "control loops: no loop called " << name;
}

}  // namespace reef::reconcile
