#include "agent/pods/pod_manager.h"

#include <openssl/evp.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "agent/image/overlay.h"
#include "agent/runtime/oci_spec.h"
#include "common/files.h"
#include "common/log.h"

namespace reef::agent {
namespace {

using reef::v1::Container;
using reef::v1::ContainerStatus;
using reef::v1::Pod;
using runtime::ExitRecord;

// How long a SIGKILLed container may take to be reaped and recorded.
constexpr absl::Duration kKillTimeout = absl::Seconds(10);

std::string ShortHash(const std::string& text, size_t n) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len))
      .substr(0, n);
}

image::PullPolicy ToPullPolicy(const std::string& policy) {
  if (policy == "Always") return image::PullPolicy::kAlways;
  if (policy == "Never") return image::PullPolicy::kNever;
  return image::PullPolicy::kIfNotPresent;
}

runtime::ImageConfig ToRuntimeConfig(const image::ImageConfig& c) {
  return runtime::ImageConfig{c.entrypoint, c.cmd, c.env, c.working_dir, c.user};
}

// The latest attempt of each container of a pod, by container name.
std::map<std::string, ContainerRecord> LatestAttempts(const std::vector<ContainerRecord>& all,
                                                      const std::string& pod_key) {
  std::map<std::string, ContainerRecord> latest;
  for (const ContainerRecord& c : all) {
    if (c.pod_key != pod_key) continue;
    auto it = latest.find(c.name);
    if (it == latest.end() || it->second.attempt < c.attempt) latest[c.name] = c;
  }
  return latest;
}

void SetTerminated(const ExitRecord& exit, const std::string& id,
                   reef::v1::ContainerStateTerminated* t) {
  t->set_exit_code(exit.exit_code);
  t->set_signal(exit.signal);
  t->set_reason(exit.reason);
  t->set_message(exit.message);
  t->set_started_at(FormatTimestamp(exit.started_at));
  t->set_finished_at(FormatTimestamp(exit.finished_at));
  t->set_container_id(reef::StrCat("runc://", id));
}

}  // namespace

std::string ContainerId(const std::string& pod_key, const std::string& spec_hash,
                        const std::string& container, int attempt) {
  return reef::StrCat(ShortHash(pod_key, 10), "-", spec_hash.substr(0, 8), "-", container, "-",
                      attempt);
}

PodManager::PodManager(PodManagerOptions options, AgentState* state, image::ImageStore* images,
                       runtime::Runtime* runtime)
    : options_(std::move(options)), state_(state), images_(images), runtime_(runtime) {}

std::string PodManager::ContainerDir(const std::string& id) const {
  return reef::StrCat(options_.data_dir, "/containers/", id);
}

std::string PodLogPath(const std::string& data_dir, const std::string& pod_key,
                       const std::string& container) {
  std::string folder = pod_key;
  std::replace(folder.begin(), folder.end(), '/', '_');
  return reef::StrCat(data_dir, "/logs/", folder, "/", container, ".log");
}

void PodManager::SetDesired(std::map<std::string, DesiredPod> pods) {
  absl::MutexLock lock(&mu_);
  desired_ = std::move(pods);
}

absl::Status PodManager::Recover() {
  ASSIGN_OR_RETURN(auto pods, state_->Pods());
  {
    // Until the sources speak again, run what was last desired (autonomy).
    absl::MutexLock lock(&mu_);
    for (auto& p : pods) desired_[p.key] = DesiredPod{p.pod, p.source, p.spec_hash};
  }
  ASSIGN_OR_RETURN(auto containers, state_->Containers());
  int adopted = 0, ended = 0;
  for (ContainerRecord& c : containers) {
    if (c.finished) continue;
    auto exit = runtime_->Exit(c.id);
    if (exit.ok()) {
      ++ended;  // ended while the agent was away; SyncOnce decides about a restart
      continue;
    }
    auto st = runtime_->State(c.id);
    if (st.ok() && st->status == runtime::OciStatus::kRunning) {
      ++adopted;
      continue;
    }
    // Gone without a record (a reboot wiped runc's state): it ended, cause unknown.
    ExitRecord lost;
    lost.exit_code = 255;
    lost.reason = "Unknown";
    lost.message = "the container was gone when the agent started (reboot?)";
    lost.finished_at = options_.clock->Now();
    c.finished = true;
    c.exit_json = runtime::ExitRecordToJson(lost);
    RETURN_IF_ERROR(state_->PutContainer(c));
    ++ended;
  }
  REEF_LOG(Info) << "recovered " << pods.size() << " pods: " << adopted
                 << " containers still running (adopted), " << ended << " ended while away";
  return absl::OkStatus();
}

bool PodManager::SyncOnce() {
  std::map<std::string, DesiredPod> desired;
  {
    absl::MutexLock lock(&mu_);
    desired = desired_;
  }
  auto stored = state_->Pods();
  if (!stored.ok()) {
    REEF_LOG(Error) << "read agent state: " << stored.status().message();
    return false;
  }
  for (const PodRecord& p : *stored) {
    if (desired.count(p.key)) continue;
    auto gone = TearDownContainers(p.key, p.pod.spec().termination_grace_period_seconds());
    absl::Status s = gone.status();
    if (s.ok() && !*gone) continue;  // still stopping
    if (s.ok()) s = state_->DeletePod(p.key);
    if (s.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(PodLogPath(options_.data_dir, p.key, "x")).parent_path(), ec);
      REEF_LOG(Info) << "pod " << p.key << ": removed";
    } else {
      REEF_LOG(Error) << "pod " << p.key << ": remove: " << s.message();
    }
  }
  for (const auto& [key, pod] : desired) {
    if (absl::Status s = SyncPod(pod); !s.ok()) {
      REEF_LOG(Error) << "pod " << key << ": " << s.message();
    }
  }
  return !stopping_.empty();
}

absl::Status PodManager::SyncPod(const DesiredPod& desired) {
  const std::string key = reef::StrCat(desired.pod.metadata().namespace_(), "/",
                                       desired.pod.metadata().name());
  ASSIGN_OR_RETURN(auto pods, state_->Pods());
  const PodRecord* stored = nullptr;
  for (const PodRecord& p : pods) {
    if (p.key == key) stored = &p;
  }
  PodRecord record{key, desired.source, desired.spec_hash, desired.pod};
  if (stored != nullptr) {
    *record.pod.mutable_status() = stored->pod.status();
    if (stored->spec_hash != desired.spec_hash) {
      ASSIGN_OR_RETURN(bool gone, TearDownContainers(key, stored->pod.spec().termination_grace_period_seconds()));
      // The new containers start once the old ones are gone (a later pass).
      if (!gone) return absl::OkStatus();
      REEF_LOG(Info) << "pod " << key << ": changed, its old containers are gone";
    }
  }

  ASSIGN_OR_RETURN(auto all, state_->Containers());
  auto latest = LatestAttempts(all, key);
  std::vector<ContainerRecord> current;
  for (const Container& c : desired.pod.spec().containers()) {
    auto it = latest.find(c.name());
    if (it == latest.end()) {
      ContainerRecord fresh;
      fresh.pod_key = key;
      fresh.name = c.name();
      fresh.spec_hash = desired.spec_hash;
      fresh.id = ContainerId(key, desired.spec_hash, c.name(), 0);
      NoteStartError(key, c.name(), StartContainer(desired, c, fresh));
      auto again = state_->Containers();
      if (again.ok()) {
        auto now = LatestAttempts(*again, key);
        if (now.count(c.name())) current.push_back(now[c.name()]);
      }
      continue;
    }
    ContainerRecord rec = it->second;
    RETURN_IF_ERROR(Observe(desired, &rec));
    auto policy = runtime::ParseRestartPolicy(desired.pod.spec().restart_policy());
    RETURN_IF_ERROR(policy.status());
    if (rec.finished) {
      auto exit = runtime::ParseExitRecord(rec.exit_json);
      bool restart = exit.ok() && runtime::ShouldRestart(*policy, exit->exit_code);
      if (restart && options_.clock->Now() >= rec.not_before) {
        RETURN_IF_ERROR(RemoveContainer(rec));
        ContainerRecord next = rec;
        next.attempt = rec.attempt + 1;
        next.restart_count = rec.restart_count + 1;
        next.id = ContainerId(key, desired.spec_hash, c.name(), next.attempt);
        next.last_exit_json = rec.exit_json;
        next.finished = false;
        next.exit_json.clear();
        RETURN_IF_ERROR(state_->DeleteContainer(rec.id));
        REEF_LOG(Info) << "pod " << key << ": restarting " << c.name() << " (restart "
                       << next.restart_count << ")";
        NoteStartError(key, c.name(), StartContainer(desired, c, next));
        auto again = state_->Containers();
        if (again.ok()) rec = LatestAttempts(*again, key)[c.name()];
      }
    }
    current.push_back(rec);
  }

  reef::v1::PodStatus status = ComputeStatus(desired, current);
  // The pod's start is when its first container ran; it stays across restarts.
  if (stored != nullptr && stored->spec_hash == desired.spec_hash && !stored->pod.status().start_time().empty()) {
    status.set_start_time(stored->pod.status().start_time());
  } else if (status.phase() != "Pending") {
    status.set_start_time(FormatTimestamp(options_.clock->Now()));
  }
  if (stored == nullptr || stored->spec_hash != desired.spec_hash || stored->source != desired.source ||
      stored->pod.status().SerializeAsString() != status.SerializeAsString()) {
    *record.pod.mutable_status() = status;
    RETURN_IF_ERROR(state_->PutPod(record));  // written on change only
  }
  return absl::OkStatus();
}

absl::Status PodManager::Observe(const DesiredPod& desired, ContainerRecord* rec) {
  if (rec->finished) return absl::OkStatus();
  auto exit = runtime_->Exit(rec->id);
  if (absl::IsNotFound(exit.status())) {
    auto st = runtime_->State(rec->id);
    if (st.ok() || !absl::IsNotFound(st.status())) return absl::OkStatus();  // still running
    // No container and no record: a start that never happened (image pull failed).
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(exit.status());
  rec->finished = true;
  rec->exit_json = runtime::ExitRecordToJson(*exit);
  // CrashLoopBackOff: a run shorter than reset_after counts as one more crash in a row.
  absl::Duration ran = exit->finished_at - exit->started_at;
  rec->crashes = ran >= options_.backoff.reset_after ? 0 : rec->crashes + 1;
  rec->not_before = exit->finished_at + runtime::BackoffDelay(rec->crashes, options_.backoff);
  REEF_LOG(Info) << "pod " << rec->pod_key << ": container " << rec->name << " exited with "
                 << exit->exit_code << " (" << exit->reason << ")";
  (void)desired;
  return state_->PutContainer(*rec);
}

void PodManager::NoteStartError(const std::string& pod_key, const std::string& container, const absl::Status& s) {
  const std::string key = reef::StrCat(pod_key, "/", container);
  if (s.ok()) {
    start_errors_.erase(key);
    return;
  }
  // Said once, not on every pass: the pod's status carries it meanwhile.
  std::string& last = start_errors_[key];
  if (last != s.message()) REEF_LOG(Warning) << "pod " << pod_key << ": container " << container << ": " << s.message();
  last = std::string(s.message());
}

absl::Status PodManager::StartContainer(const DesiredPod& desired, const Container& container,
                                        ContainerRecord record) {
  // A failed pull is retried after a growing pause (ImagePullBackOff).
  auto failed = pull_failures_.find(container.image());
  if (failed != pull_failures_.end() && options_.clock->Now() < failed->second.retry_at) {
    return absl::UnavailableError(failed->second.message);
  }
  image::PullOptions pull;
  pull.policy = ToPullPolicy(container.image_pull_policy());
  auto image = images_->Pull(container.image(), pull);
  if (!image.ok()) {
    PullFailure& f = pull_failures_[container.image()];
    f.failures++;
    f.message = std::string(image.status().message());
    f.retry_at = options_.clock->Now() +
                 std::min(options_.pull_backoff * (1 << std::min(f.failures - 1, 5)), options_.backoff.max);
    return Annotate(image.status(), reef::StrCat("image ", container.image()));
  }
  pull_failures_.erase(container.image());

  std::vector<std::string> lowers;
  for (auto it = image->layers.rbegin(); it != image->layers.rend(); ++it) lowers.push_back(it->snapshot);
  std::string dir = ContainerDir(record.id);
  RETURN_IF_ERROR(MakeDirs(dir + "/bundle", 0700));
  ASSIGN_OR_RETURN(auto rootfs, image::ContainerRootfs::Mount(dir, lowers));

  runtime::SpecOptions spec_options;
  spec_options.image = ToRuntimeConfig(image->config);
  spec_options.rootfs = rootfs->path();
  auto users = runtime::LoadUserDb(rootfs->path());
  if (users.ok()) spec_options.users = *users;
  spec_options.hostname = desired.pod.metadata().name();
  spec_options.cgroups_path = reef::StrCat(options_.cgroup_parent, "/", ShortHash(record.pod_key, 10),
                                           "/", record.id);
  spec_options.annotations["io.reef.pod"] = record.pod_key;
  spec_options.annotations["io.reef.container"] = record.name;
  Pod pod = desired.pod;
  pod.mutable_spec()->set_host_network(true);  // until pod networking lands
  auto spec = runtime::BuildSpec(pod, container, spec_options);
  if (!spec.ok()) {
    // The kubelet's CreateContainerConfigError: the spec cannot be made into a container.
    config_errors_[reef::StrCat(record.pod_key, "/", container.name())] = std::string(spec.status().message());
    return spec.status();
  }
  config_errors_.erase(reef::StrCat(record.pod_key, "/", container.name()));
  RETURN_IF_ERROR(runtime::WriteSpec(dir + "/bundle", *spec));

  std::string log = PodLogPath(options_.data_dir, record.pod_key, record.name);
  RETURN_IF_ERROR(MakeDirs(std::filesystem::path(log).parent_path().string(), 0755));
  // Written before the start: if the agent dies right after Run(), the restarted agent
  // still knows the container is its own.
  RETURN_IF_ERROR(state_->PutContainer(record));
  auto started = runtime_->Run({record.id, dir + "/bundle", {log}});
  if (!started.ok()) {
    // The monitor recorded a StartError exit; the next pass treats it as an exit.
    return Annotate(started.status(), reef::StrCat("start ", container.name()));
  }
  rootfs->Release();  // the mount outlives this object (and the agent)
  REEF_LOG(Info) << "pod " << record.pod_key << ": started " << container.name() << " ("
                 << record.id << ", pid " << started->pid << ")";
  return absl::OkStatus();
}

absl::Status PodManager::RemoveContainer(const ContainerRecord& record) {
  RETURN_IF_ERROR(runtime_->Delete(record.id, /*force=*/true));
  return image::ContainerRootfs::Remove(ContainerDir(record.id));
}

absl::StatusOr<bool> PodManager::TearDownContainers(const std::string& pod_key, int64_t grace_seconds) {
  ASSIGN_OR_RETURN(auto all, state_->Containers());
  bool all_gone = true;
  for (const ContainerRecord& c : all) {
    if (c.pod_key != pod_key) continue;
    if (!c.finished) {
      ASSIGN_OR_RETURN(bool stopped, StopStep(c, absl::Seconds(grace_seconds)));
      if (!stopped) {
        all_gone = false;
        continue;
      }
    }
    RETURN_IF_ERROR(RemoveContainer(c));
    RETURN_IF_ERROR(state_->DeleteContainer(c.id));
    stopping_.erase(c.id);
    REEF_LOG(Info) << "pod " << pod_key << ": stopped " << c.name << " (" << c.id << ")";
  }
  return all_gone;
}

absl::StatusOr<bool> PodManager::StopStep(const ContainerRecord& c, absl::Duration grace) {
  auto exit = runtime_->Exit(c.id);
  if (exit.ok()) return true;
  if (!absl::IsNotFound(exit.status())) return exit.status();
  auto state = runtime_->State(c.id);
  if (absl::IsNotFound(state.status())) return true;  // never started, or already gone
  RETURN_IF_ERROR(state.status());
  // Not running and nobody left to record its end: Delete(force) cleans it up.
  if (state->status != runtime::OciStatus::kRunning && !state->monitor_alive) return true;

  const absl::Time now = options_.clock->Now();
  auto [it, first] = stopping_.try_emplace(c.id, Stopping{now + grace});
  Stopping& stop = it->second;
  int signal = 0;
  if (first) {
    signal = grace > absl::ZeroDuration() ? SIGTERM : SIGKILL;
    stop.killed = signal == SIGKILL;
    if (stop.killed) stop.kill_at = now + kKillTimeout;
  } else if (now >= stop.kill_at) {
    // SIGKILL did not get the exit recorded in time: give up waiting, Delete(force).
    if (stop.killed) return true;
    signal = SIGKILL;
    stop.killed = true;
    stop.kill_at = now + kKillTimeout;
    REEF_LOG(Info) << "pod " << c.pod_key << ": " << c.name << " outlived its grace period, killing";
  }
  if (signal != 0) {
    absl::Status sent = runtime_->Kill(c.id, signal);
    // Not running any more: its exit is being recorded; the next pass sees it.
    if (!sent.ok() && !absl::IsFailedPrecondition(sent) && !absl::IsNotFound(sent)) {
      return Annotate(sent, reef::StrCat("stop ", c.name));
    }
  }
  return false;
}

reef::v1::PodStatus PodManager::ComputeStatus(const DesiredPod& desired,
                                              const std::vector<ContainerRecord>& records) const {
  reef::v1::PodStatus status;
  int running = 0, succeeded = 0, failed = 0, waiting = 0;
  auto policy = runtime::ParseRestartPolicy(desired.pod.spec().restart_policy());
  absl::Time now = options_.clock->Now();
  for (const Container& c : desired.pod.spec().containers()) {
    ContainerStatus* cs = status.add_container_statuses();
    cs->set_name(c.name());
    cs->set_image(c.image());
    const ContainerRecord* rec = nullptr;
    for (const auto& r : records) {
      if (r.name == c.name()) rec = &r;
    }
    if (rec == nullptr) {
      auto failure = pull_failures_.find(c.image());
      auto* w = cs->mutable_state()->mutable_waiting();
      auto config = config_errors_.find(reef::StrCat(desired.pod.metadata().namespace_(), "/",
                                                     desired.pod.metadata().name(), "/", c.name()));
      if (failure != pull_failures_.end()) {
        w->set_reason(failure->second.failures > 1 ? "ImagePullBackOff" : "ErrImagePull");
        w->set_message(failure->second.message);
      } else if (config != config_errors_.end()) {
        w->set_reason("CreateContainerConfigError");
        w->set_message(config->second);
      } else {
        w->set_reason("ContainerCreating");
      }
      ++waiting;
      continue;
    }
    cs->set_restart_count(rec->restart_count);
    cs->set_container_id(reef::StrCat("runc://", rec->id));
    if (auto last = runtime::ParseExitRecord(rec->last_exit_json); last.ok()) {
      SetTerminated(*last, rec->id, cs->mutable_last_state()->mutable_terminated());
    }
    if (!rec->finished) {
      cs->mutable_state()->mutable_running();
      cs->set_ready(true);  // readiness probes come with the probes issue
      cs->set_started(true);
      ++running;
      continue;
    }
    auto exit = runtime::ParseExitRecord(rec->exit_json);
    if (!exit.ok()) continue;
    bool restarts = policy.ok() && runtime::ShouldRestart(*policy, exit->exit_code);
    if (restarts && now < rec->not_before) {
      auto* w = cs->mutable_state()->mutable_waiting();
      w->set_reason("CrashLoopBackOff");
      w->set_message(reef::StrCat("back-off ", absl::FormatDuration(rec->not_before - exit->finished_at),
                                  " restarting failed container ", c.name()));
      SetTerminated(*exit, rec->id, cs->mutable_last_state()->mutable_terminated());
      ++waiting;
    } else {
      SetTerminated(*exit, rec->id, cs->mutable_state()->mutable_terminated());
      (exit->exit_code == 0 ? succeeded : failed)++;
    }
  }
  int total = desired.pod.spec().containers_size();
  if (running > 0) status.set_phase("Running");
  else if (succeeded == total) status.set_phase("Succeeded");
  else if (succeeded + failed == total) status.set_phase("Failed");
  else status.set_phase("Pending");
  auto* ready = status.add_conditions();
  ready->set_type("Ready");
  ready->set_status(running == total ? "True" : "False");
  return status;
}

}  // namespace reef::agent
