#include "agent/pods/pod_status.h"

#include "agent/pods/pod_sandbox.h"
#include "agent/runtime/restart_policy.h"
#include "common/strings.h"

namespace reef::agent {
namespace {

using reef::v1::Container;
using reef::v1::ContainerStatus;
using runtime::ExitRecord;

void SetTerminated(const ExitRecord& exit, const std::string& id, reef::v1::ContainerStateTerminated* t) {
  t->set_exit_code(exit.exit_code);
  t->set_signal(exit.signal);
  t->set_reason(exit.reason);
  t->set_message(exit.message);
  t->set_started_at(FormatTimestamp(exit.started_at));
  t->set_finished_at(FormatTimestamp(exit.finished_at));
  t->set_container_id(reef::StrCat("runc://", id));
}

// kRestarting: ended, and coming back (after its back-off).
enum class Outcome { kWaiting, kRunning, kRestarting, kSucceeded, kFailed };

// One container's status; `restarts(exit_code)` says whether an ended attempt comes back.
Outcome Describe(const PodStatusInputs& in, const Container& c, const std::string& default_wait,
                 const std::function<bool(int)>& restarts, ContainerStatus* cs) {
  cs->set_name(c.name());
  cs->set_image(c.image());
  auto it = in.latest.find(c.name());
  if (it == in.latest.end()) {
    auto* w = cs->mutable_state()->mutable_waiting();
    auto why = in.waiting.find(c.name());
    w->set_reason(why != in.waiting.end() ? why->second.reason : default_wait);
    if (why != in.waiting.end()) w->set_message(why->second.message);
    return Outcome::kWaiting;
  }
  const ContainerRecord& rec = it->second;
  cs->set_restart_count(rec.restart_count);
  cs->set_container_id(reef::StrCat("runc://", rec.id));
  if (auto last = runtime::ParseExitRecord(rec.last_exit_json); last.ok()) {
    const std::string last_id = ContainerId(rec.pod_key, rec.spec_hash, rec.name, rec.attempt - 1);
    SetTerminated(*last, last_id, cs->mutable_last_state()->mutable_terminated());
  }
  if (!rec.finished) {
    cs->mutable_state()->mutable_running();
    cs->set_started(in.started(c, rec.id));
    cs->set_ready(cs->started() && in.ready(c, rec.id));
    return Outcome::kRunning;
  }
  auto exit = runtime::ParseExitRecord(rec.exit_json);
  if (!exit.ok()) return Outcome::kFailed;
  if (restarts(ExitCodeForRestart(rec, *exit))) {
    // Ended and coming back: after its back-off, or at the next pass.
    auto* w = cs->mutable_state()->mutable_waiting();
    if (in.now < rec.not_before) {
      w->set_reason("CrashLoopBackOff");
      w->set_message(reef::StrCat("back-off ", absl::FormatDuration(rec.not_before - exit->finished_at),
                                  " restarting failed container ", c.name()));
    } else {
      w->set_reason("ContainerCreating");
    }
    SetTerminated(*exit, rec.id, cs->mutable_last_state()->mutable_terminated());
    return Outcome::kRestarting;
  }
  SetTerminated(*exit, rec.id, cs->mutable_state()->mutable_terminated());
  return exit->exit_code == 0 ? Outcome::kSucceeded : Outcome::kFailed;
}

void AddCondition(reef::v1::PodStatus* status, const char* type, bool ok, const std::string& reason = "",
                  const std::string& message = "") {
  auto* c = status->add_conditions();
  c->set_type(type);
  c->set_status(ok ? "True" : "False");
  if (!ok) {
    c->set_reason(reason);
    c->set_message(message);
  }
}

}  // namespace

int ExitCodeForRestart(const ContainerRecord& rec, const runtime::ExitRecord& exit) {
  constexpr int kFailed = 1;
  return rec.stopped_by_probe ? kFailed : exit.exit_code;
}

bool InitContainersDone(const reef::v1::PodSpec& spec, const std::map<std::string, ContainerRecord>& latest) {
  for (const Container& c : spec.init_containers()) {
    auto it = latest.find(c.name());
    if (it == latest.end() || !it->second.finished) return false;
    auto exit = runtime::ParseExitRecord(it->second.exit_json);
    if (!exit.ok() || exit->exit_code != 0) return false;
  }
  return true;
}

reef::v1::PodStatus ComputePodStatus(const PodStatusInputs& in) {
  const reef::v1::PodSpec& spec = in.pod->spec();
  auto policy = runtime::ParseRestartPolicy(spec.restart_policy());
  const bool never = policy.ok() && *policy == runtime::RestartPolicy::kNever;
  reef::v1::PodStatus status;
  status.set_pod_ip(in.pod_ip);

  // Init containers: one at a time, in order; a failed one is retried unless Never.
  bool init_failed = false;
  for (const Container& c : spec.init_containers()) {
    Outcome o = Describe(in, c, "PodInitializing", [never](int code) { return code != 0 && !never; },
                         status.add_init_container_statuses());
    if (o == Outcome::kFailed) init_failed = true;
  }
  const bool initialized = InitContainersDone(spec, in.latest);

  int running = 0, restarting = 0, succeeded = 0, failed = 0, ready = 0;
  for (const Container& c : spec.containers()) {
    ContainerStatus* cs = status.add_container_statuses();
    Outcome o = Describe(in, c, initialized ? "ContainerCreating" : "PodInitializing",
                         [&](int code) { return policy.ok() && runtime::ShouldRestart(*policy, code); }, cs);
    running += o == Outcome::kRunning;
    restarting += o == Outcome::kRestarting;
    succeeded += o == Outcome::kSucceeded;
    failed += o == Outcome::kFailed;
    ready += cs->ready();
  }
  const int total = spec.containers_size();
  if (init_failed) status.set_phase("Failed");
  else if (!initialized) status.set_phase("Pending");
  // As the kubelet's getPhase: a container between a crash and its restart keeps the
  // pod Running (no flapping to Pending on every crash).
  else if (running > 0 || restarting > 0) status.set_phase("Running");
  else if (total > 0 && succeeded == total) status.set_phase("Succeeded");
  else if (total > 0 && succeeded + failed == total) status.set_phase("Failed");
  else status.set_phase("Pending");

  std::string incomplete, not_ready;
  for (const ContainerStatus& cs : status.init_container_statuses()) {
    if (!cs.state().has_terminated() || cs.state().terminated().exit_code() != 0) {
      incomplete += (incomplete.empty() ? "" : " ") + cs.name();
    }
  }
  for (const ContainerStatus& cs : status.container_statuses()) {
    if (!cs.ready()) not_ready += (not_ready.empty() ? "" : " ") + cs.name();
  }
  AddCondition(&status, "Initialized", initialized, "ContainersNotInitialized",
               reef::StrCat("containers with incomplete status: [", incomplete, "]"));
  const bool all_ready = total > 0 && ready == total;
  AddCondition(&status, "ContainersReady", all_ready, "ContainersNotReady",
               reef::StrCat("containers with unready status: [", not_ready, "]"));
  AddCondition(&status, "Ready", all_ready, "ContainersNotReady",
               reef::StrCat("containers with unready status: [", not_ready, "]"));
  return status;
}

}  // namespace reef::agent
