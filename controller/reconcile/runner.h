#pragma once
// Runs the control loops: the ObjectCache's changes become keys in one WorkQueue, and
// a few workers hand each key to its Reconciler. Errors come back with backoff,
// conflicts at once, every key again at each resync.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/reconcile/reconciler.h"
#include "controller/reconcile/work_queue.h"

namespace reef::reconcile {

struct RunnerOptions {
  int workers = 2;
  // Every key of every loop is looked at this often, changes or not: a safety net
  // for anything an event routing rule missed.
  absl::Duration resync_period = absl::Minutes(5);
  const Clock* clock = &Clock::Real();
};

class Runner {
 public:
  // The reconcilers and the state must outlive the runner.
  Runner(const State* state, std::vector<Reconciler*> reconcilers, const RunnerOptions& options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // From the cache's listener: queues the keys the event touches.
  void OnChange(const store::Event& event);
  // Queues `key` of the loop called `name`.
  void Enqueue(std::string_view name, const std::string& key);
  // Queues every key of every loop, and schedules the periodic ones.
  void EnqueueAll();

  // Starts the workers. Without Start(), tests drive the runner with
  // RunUntilIdleForTest().
  void Start();
  // Stops the workers once their current item is done. Idempotent.
  void Stop();

  // Processes every item due now by the clock, including those that processing adds,
  // until none is left or `max_items` were done. Returns how many were processed.
  int RunUntilIdleForTest(int max_items = 100000);
  size_t QueueSizeForTest() const { return queue_.Size(); }

 private:
  void Work();
  void Process(const std::string& item);

  const State* state_;
  std::vector<Reconciler*> reconcilers_;
  RunnerOptions options_;
  WorkQueue queue_;
  std::vector<std::thread> workers_;
  bool stopped_ = false;
};

}  // namespace reef::reconcile
