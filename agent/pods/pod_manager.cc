#include "agent/pods/pod_manager.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "agent/image/overlay.h"
#include "agent/pods/pod_status.h"
#include "agent/runtime/cgroups.h"
#include "agent/runtime/oci_spec.h"
#include "agent/volumes/env_resolve.h"
#include "agent/volumes/container_mounts.h"
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


}  // namespace

PodManager::PodManager(PodManagerOptions options, AgentState* state, image::ImageStore* images,
                       runtime::Runtime* runtime)
    : options_(std::move(options)),
      state_(state),
      images_(images),
      runtime_(runtime),
      sandboxes_(reef::StrCat(options_.data_dir, "/pods")) {}

std::string PodManager::ContainerDir(const std::string& id) const {
  return reef::StrCat(options_.data_dir, "/containers/", id);
}

std::string PodCgroupPath(const std::string& cgroup_parent, const std::string& pod_key) {
  return reef::StrCat(cgroup_parent, "/", ShortSha256(pod_key, 10));
}

std::string PodManager::PodCgroup(const std::string& pod_key) const {
  return PodCgroupPath(options_.cgroup_parent, pod_key);
}

std::string PodManager::BundleDir(const std::string& id) const {
  if (options_.bundles_dir.empty()) return ContainerDir(id) + "/bundle";
  return reef::StrCat(options_.bundles_dir, "/", id);
}

std::string PodLogPath(const std::string& data_dir, const std::string& pod_key,
                       const std::string& container) {
  std::string folder = pod_key;
  std::replace(folder.begin(), folder.end(), '/', '_');
  return reef::StrCat(data_dir, "/logs/", folder, "/", container, ".log");
}

void PodManager::SetDesired(std::map<std::string, DesiredPod> pods, std::shared_ptr<const ObjectMap> config) {
  absl::MutexLock lock(&mu_);
  desired_ = std::move(pods);
  config_ = std::move(config);
}

void PodManager::SetPodNetwork(std::unique_ptr<network::PodNetwork> network) {
  sandboxes_.SetNetwork(std::move(network));
  auto keep = OwnedSandboxes();
  if (!keep.ok()) {
    REEF_LOG(Error) << "read agent state: " << keep.status().message();
    return;
  }
  if (absl::Status s = sandboxes_.GarbageCollect(*keep); !s.ok()) {
    REEF_LOG(Error) << "release pod sandboxes left behind: " << s.message();
  }
}

absl::StatusOr<std::set<std::string>> PodManager::OwnedSandboxes() {
  ASSIGN_OR_RETURN(auto pods, state_->Pods());
  ASSIGN_OR_RETURN(auto containers, state_->Containers());
  std::set<std::string> owned;
  for (const PodRecord& p : pods) owned.insert(SandboxId(p.key, p.spec_hash));
  for (const ContainerRecord& c : containers) owned.insert(SandboxId(c.pod_key, c.spec_hash));
  return owned;
}

absl::Status PodManager::ForgetInitContainers(const std::vector<PodRecord>& pods,
                                              const std::vector<ContainerRecord>& containers,
                                              const std::set<std::string>& lost_pods) {
  // A pod whose containers vanished (a reboot) gets a new sandbox: as the kubelet
  // does, its init containers run again, before the others come back, since what
  // they prepared (in the network namespace, on tmpfs) may be gone with it.
  for (const PodRecord& p : pods) {
    if (!lost_pods.count(p.key)) continue;
    std::set<std::string> init_names;
    for (const Container& c : p.pod.spec().init_containers()) init_names.insert(c.name());
    for (const ContainerRecord& c : containers) {
      if (c.pod_key != p.key || !init_names.count(c.name)) continue;
      RETURN_IF_ERROR(RemoveContainer(c));
      RETURN_IF_ERROR(state_->DeleteContainer(c.id));
    }
    if (!init_names.empty()) REEF_LOG(Info) << "pod " << p.key << ": its containers were gone, init containers run again";
  }
  return absl::OkStatus();
}

absl::Status PodManager::Recover() {
  ASSIGN_OR_RETURN(auto pods, state_->Pods());
  ASSIGN_OR_RETURN(std::set<std::string> keep, OwnedSandboxes());
  {
    // Until the sources speak again, run what was last desired (autonomy).
    absl::MutexLock lock(&mu_);
    for (auto& p : pods) desired_[p.key] = DesiredPod{p.pod, p.source, p.spec_hash};
  }
  // Volumes of pods that are gone (a crash between their teardown and their record's
  // removal); their network follows once SetPodNetwork is called. A leftover that
  // cannot be removed must not keep the agent from running the pods.
  if (absl::Status s = sandboxes_.GarbageCollect(keep); !s.ok()) {
    REEF_LOG(Error) << "remove pod sandboxes left behind: " << s.message();
  }
  ASSIGN_OR_RETURN(auto containers, state_->Containers());
  int adopted = 0, ended = 0;
  std::set<std::string> lost_pods;
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
    lost_pods.insert(c.pod_key);
    ++ended;
  }
  RETURN_IF_ERROR(ForgetInitContainers(pods, containers, lost_pods));
  REEF_LOG(Info) << "recovered " << pods.size() << " pods: " << adopted
                 << " containers still running (adopted), " << ended << " ended while away";
  return absl::OkStatus();
}

bool PodManager::SyncOnce() {
  std::map<std::string, DesiredPod> desired;
  std::shared_ptr<const ObjectMap> config_objects;
  {
    absl::MutexLock lock(&mu_);
    desired = desired_;
    config_objects = config_;
  }
  const ObjectMapConfigSource config(std::move(config_objects));
  auto stored = state_->Pods();
  if (!stored.ok()) {
    REEF_LOG(Error) << "read agent state: " << stored.status().message();
    return false;
  }
  std::map<std::string, const PodRecord*> stored_by_key;
  for (const PodRecord& p : *stored) {
    stored_by_key[p.key] = &p;
    if (desired.count(p.key)) continue;
    auto gone = TearDownPod(p.key, p.spec_hash, p.pod.spec().termination_grace_period_seconds());
    absl::Status s = gone.status();
    if (s.ok() && !*gone) continue;  // still stopping
    if (s.ok()) s = state_->DeletePod(p.key);
    if (s.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(PodLogPath(options_.data_dir, p.key, "x")).parent_path(), ec);
      sandbox_failures_.erase(p.key);
      volume_errors_.erase(p.key);
      pod_ips_.erase(p.key);
      REEF_LOG(Info) << "pod " << p.key << ": removed";
    } else {
      REEF_LOG(Error) << "pod " << p.key << ": remove: " << s.message();
    }
  }
  for (const auto& [key, pod] : desired) {
    auto it = stored_by_key.find(key);
    if (absl::Status s = SyncPod(pod, it == stored_by_key.end() ? nullptr : it->second, config); !s.ok()) {
      REEF_LOG(Error) << "pod " << key << ": " << s.message();
    }
  }
  UpdateProbes(desired);
  return !stopping_.empty();
}

absl::StatusOr<bool> PodManager::TearDownPod(const std::string& pod_key, const std::string& spec_hash,
                                             int64_t grace_seconds) {
  ASSIGN_OR_RETURN(bool gone, TearDownContainers(pod_key, grace_seconds));
  if (!gone) return false;
  RETURN_IF_ERROR(Annotate(sandboxes_.Remove(SandboxId(pod_key, spec_hash)), "release the pod sandbox"));
  // The pod's cgroup, once its containers' are gone (runc removes those).
  if (absl::Status s = runtime::RemoveCgroup(PodCgroup(pod_key)); !s.ok()) {
    REEF_LOG(Warning) << "pod " << pod_key << ": remove its cgroup: " << s.message();
  }
  return true;
}

absl::Status PodManager::SyncPod(const DesiredPod& desired, const PodRecord* stored,
                                 const volumes::ConfigSource& config) {
  const reef::v1::Pod& pod = desired.pod;
  const std::string key = reef::StrCat(pod.metadata().namespace_(), "/", pod.metadata().name());
  PodRecord record{key, desired.source, desired.spec_hash, pod};
  if (stored != nullptr) {
    *record.pod.mutable_status() = stored->pod.status();
    if (stored->spec_hash != desired.spec_hash) {
      ASSIGN_OR_RETURN(bool gone, TearDownPod(key, stored->spec_hash, stored->pod.spec().termination_grace_period_seconds()));
      // The new containers start once the old ones are gone (a later pass).
      if (!gone) return absl::OkStatus();
      REEF_LOG(Info) << "pod " << key << ": changed, its old containers are gone";
    }
  }
  if (stored == nullptr || stored->spec_hash != desired.spec_hash) {
    // Recorded before anything is made for it: after a crash from here on, the next
    // start keeps this pod's sandbox (and tears it down if the pod is gone by then).
    PodRecord pending = record;
    pending.pod.clear_status();
    pending.pod.mutable_status()->set_phase("Pending");
    RETURN_IF_ERROR(state_->PutPod(pending));
  }

  ASSIGN_OR_RETURN(auto all, state_->Containers());
  std::map<std::string, ContainerRecord> latest = LatestAttempts(all, key);
  std::string pod_ip;
  absl::StatusOr<Sandbox> sandbox = EnsureSandbox(desired, key, config);
  if (sandbox.ok()) {
    pod_ip = sandbox->pod_ip;
    pod_ips_[key] = pod_ip;
    auto policy = runtime::ParseRestartPolicy(pod.spec().restart_policy());
    RETURN_IF_ERROR(policy.status());
    const bool never = *policy == runtime::RestartPolicy::kNever;
    auto optional_latest = [&](const std::string& name) {
      auto it = latest.find(name);
      return it == latest.end() ? std::nullopt : std::optional<ContainerRecord>(it->second);
    };
    // Init containers one at a time, in order, each to a zero exit; a failed one is
    // retried (with back-off) unless the pod's policy is Never.
    for (const Container& c : pod.spec().init_containers()) {
      ASSIGN_OR_RETURN(auto rec, RunContainer(desired, c, *sandbox, config, optional_latest(c.name()),
                                              [never](int code) { return code != 0 && !never; }));
      if (rec) latest[c.name()] = *rec;
      auto exit = rec && rec->finished ? runtime::ParseExitRecord(rec->exit_json) : absl::NotFoundError("");
      if (!exit.ok() || exit->exit_code != 0) break;  // the next one waits for this one
    }
    const bool initialized = InitContainersDone(pod.spec(), latest);
    for (const Container& c : pod.spec().containers()) {
      if (!initialized) break;
      auto restarts = [&](int code) { return runtime::ShouldRestart(*policy, code); };
      ASSIGN_OR_RETURN(auto rec, RunContainer(desired, c, *sandbox, config, optional_latest(c.name()), restarts));
      if (!rec) continue;
      latest[c.name()] = *rec;
      if (!rec->finished) RETURN_IF_ERROR(StopIfProbeFailed(desired, *rec));
    }
  }

  PodStatusInputs in;
  in.pod = &pod;
  in.now = options_.clock->Now();
  in.latest = latest;
  in.waiting = WaitingReasons(key, pod.spec());
  in.pod_ip = pod_ip;
  if (options_.probes != nullptr) {
    // A container without the probe passes it from its start (and after an agent
    // restart, with no probe manager state yet); one with it waits for its results.
    in.ready = [p = options_.probes](const Container& c, const std::string& id) {
      return (!c.has_readiness_probe() && !c.has_startup_probe()) || p->Ready(id);
    };
    in.started = [p = options_.probes](const Container& c, const std::string& id) {
      return !c.has_startup_probe() || p->Started(id);
    };
  }
  reef::v1::PodStatus status = ComputePodStatus(in);
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

absl::StatusOr<Sandbox> PodManager::EnsureSandbox(const DesiredPod& desired, const std::string& key,
                                                  const volumes::ConfigSource& config) {
  const absl::Time now = options_.clock->Now();
  // A sandbox that failed is tried again after a growing pause, not on every pass:
  // each try runs the CNI plugins and writes to the disk.
  auto failed = sandbox_failures_.find(key);
  if (failed != sandbox_failures_.end() && now < failed->second.retry_at) {
    return absl::UnavailableError(failed->second.message);
  }
  auto sandbox = sandboxes_.Ensure(desired.pod, SandboxId(key, desired.spec_hash), config);
  if (!sandbox.ok()) {
    Failure& f = sandbox_failures_[key];
    f.failures++;
    if (f.message != sandbox.status().message()) {
      REEF_LOG(Warning) << "pod " << key << ": sandbox: " << sandbox.status().message();
    }
    f.message = std::string(sandbox.status().message());
    f.retry_at = now + std::min(absl::Seconds(1) * (1 << std::min(f.failures - 1, 6)), absl::Minutes(1));
    return sandbox.status();
  }
  sandbox_failures_.erase(key);
  // A volume that cannot be refreshed keeps its last contents, as in Kubernetes; the
  // pod runs on. Said once per distinct problem.
  std::string& last = volume_errors_[key];
  if (!sandbox->volume_error.empty() && last != sandbox->volume_error) {
    REEF_LOG(Warning) << "pod " << key << ": volumes keep their last contents: " << sandbox->volume_error;
  }
  last = sandbox->volume_error;
  return sandbox;
}

absl::StatusOr<std::optional<ContainerRecord>> PodManager::RunContainer(
    const DesiredPod& desired, const Container& c, const Sandbox& sandbox, const volumes::ConfigSource& config,
    std::optional<ContainerRecord> latest, const std::function<bool(int exit_code)>& restarts) {
  const std::string key = reef::StrCat(desired.pod.metadata().namespace_(), "/", desired.pod.metadata().name());
  auto latest_after_start = [&]() -> absl::StatusOr<std::optional<ContainerRecord>> {
    ASSIGN_OR_RETURN(auto all, state_->Containers());
    auto now = LatestAttempts(all, key);
    auto it = now.find(c.name());
    return it == now.end() ? std::nullopt : std::optional<ContainerRecord>(it->second);
  };
  if (!latest) {
    ContainerRecord fresh;
    fresh.pod_key = key;
    fresh.name = c.name();
    fresh.spec_hash = desired.spec_hash;
    fresh.id = ContainerId(key, desired.spec_hash, c.name(), 0);
    NoteStartError(key, c.name(), StartContainer(desired, c, sandbox, config, fresh));
    return latest_after_start();
  }
  ContainerRecord rec = *latest;
  RETURN_IF_ERROR(Observe(&rec));
  if (!rec.finished) return rec;
  auto exit = runtime::ParseExitRecord(rec.exit_json);
  if (!exit.ok() || !restarts(ExitCodeForRestart(rec, *exit)) || options_.clock->Now() < rec.not_before) return rec;
  RETURN_IF_ERROR(RemoveContainer(rec));
  ContainerRecord next = rec;
  next.attempt = rec.attempt + 1;
  next.restart_count = rec.restart_count + 1;
  next.id = ContainerId(key, desired.spec_hash, c.name(), next.attempt);
  next.last_exit_json = rec.exit_json;
  next.finished = false;
  next.exit_json.clear();
  next.stopped_by_probe = false;
  REEF_LOG(Info) << "pod " << key << ": restarting " << c.name() << " (restart " << next.restart_count << ")";
  NoteStartError(key, c.name(), StartContainer(desired, c, sandbox, config, next));
  ASSIGN_OR_RETURN(auto after, latest_after_start());
  if (after && after->id == next.id) {
    RETURN_IF_ERROR(state_->DeleteContainer(rec.id));
    return after;
  }
  // The new attempt failed before it had a record (a pull, a config error): the
  // ended one stays, with its restart count, and the next try waits a back-off.
  rec.not_before = options_.clock->Now() + runtime::BackoffDelay(std::max(rec.crashes, 1), options_.backoff);
  RETURN_IF_ERROR(state_->PutContainer(rec));
  return rec;
}

absl::Status PodManager::StopIfProbeFailed(const DesiredPod& desired, const ContainerRecord& rec) {
  if (options_.probes == nullptr) return absl::OkStatus();
  std::optional<std::string> failure = options_.probes->Failure(rec.id);
  if (!failure) return absl::OkStatus();
  if (!rec.stopped_by_probe) {
    // Recorded before the first signal: the restart decision after its exit, perhaps
    // in a later run of the agent, depends on it.
    REEF_LOG(Info) << "pod " << rec.pod_key << ": container " << rec.name << " " << *failure << ", stopping it";
    ContainerRecord marked = rec;
    marked.stopped_by_probe = true;
    RETURN_IF_ERROR(state_->PutContainer(marked));
  }
  int64_t grace = desired.pod.spec().has_termination_grace_period_seconds()
                      ? desired.pod.spec().termination_grace_period_seconds()
                      : 30;
  ASSIGN_OR_RETURN(bool stopped, StopStep(rec, absl::Seconds(grace)));
  // Given up on (no exit recorded after SIGKILL): not a stop in progress any more.
  if (stopped) stopping_.erase(rec.id);
  return absl::OkStatus();
}

void PodManager::UpdateProbes(const std::map<std::string, DesiredPod>& desired) {
  if (options_.probes == nullptr) return;
  auto all = state_->Containers();
  if (!all.ok()) return;
  std::vector<probes::ProbedContainer> running;
  std::map<std::string, Probed> still;
  for (const ContainerRecord& rec : *all) {
    if (rec.finished) continue;
    auto pod = desired.find(rec.pod_key);
    if (pod == desired.end() || pod->second.spec_hash != rec.spec_hash) continue;
    const Container* spec = nullptr;
    for (const Container& c : pod->second.pod.spec().containers()) {
      if (c.name() == rec.name) spec = &c;
    }
    if (spec == nullptr) continue;  // init containers have no probes
    auto known = probed_.find(rec.id);
    Probed p = known != probed_.end() ? known->second
                                      : Probed{rec.pod_key, rec.name, "", options_.clock->Now()};
    p.pod_ip = pod_ips_[rec.pod_key];
    still[rec.id] = p;
    running.push_back(probes::ProbedContainer{rec.id, rec.pod_key, *spec, p.pod_ip, p.started_at});
  }
  probed_ = std::move(still);
  options_.probes->SetContainers(std::move(running));
}

absl::Status PodManager::Observe(ContainerRecord* rec) {
  if (rec->finished) return absl::OkStatus();
  // The monitor writes the exit record when the container ends: no record, still
  // running (asking runc would cost a fork and exec per container per pass).
  auto exit = runtime_->Exit(rec->id);
  if (absl::IsNotFound(exit.status())) return absl::OkStatus();
  RETURN_IF_ERROR(exit.status());
  rec->finished = true;
  rec->exit_json = runtime::ExitRecordToJson(*exit);
  // CrashLoopBackOff: a run shorter than reset_after counts as one more crash in a row.
  absl::Duration ran = exit->finished_at - exit->started_at;
  rec->crashes = ran >= options_.backoff.reset_after ? 0 : rec->crashes + 1;
  rec->not_before = exit->finished_at + runtime::BackoffDelay(rec->crashes, options_.backoff);
  REEF_LOG(Info) << "pod " << rec->pod_key << ": container " << rec->name << " exited with "
                 << exit->exit_code << " (" << exit->reason << ")";
  stopping_.erase(rec->id);  // a probe-failed stop ends here
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
                                        const Sandbox& sandbox, const volumes::ConfigSource& config,
                                        ContainerRecord record) {
  // What comes from ConfigMaps, Secrets and volumes first: a container waiting for a
  // missing key (CreateContainerConfigError) costs no pull and no mount on each pass.
  const std::string config_key = reef::StrCat(record.pod_key, "/", container.name());
  runtime::SpecOptions spec_options;
  absl::Status resolved = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(volumes::ResolvedEnv env, volumes::ResolveEnv(desired.pod, container, config));
    spec_options.env_from = std::move(env.env_from);
    spec_options.value_from = std::move(env.value_from);
    ASSIGN_OR_RETURN(spec_options.mounts, volumes::ContainerMounts(container, sandbox.volumes));
    return absl::OkStatus();
  }();
  if (!resolved.ok()) {
    config_errors_[config_key] = std::string(resolved.message());
    return resolved;
  }
  // A failed pull is retried after a growing pause (ImagePullBackOff).
  auto failed = pull_failures_.find(container.image());
  if (failed != pull_failures_.end() && options_.clock->Now() < failed->second.retry_at) {
    return absl::UnavailableError(failed->second.message);
  }
  image::PullOptions pull;
  pull.policy = ToPullPolicy(container.image_pull_policy());
  auto image = images_->Pull(container.image(), pull);
  if (!image.ok()) {
    Failure& f = pull_failures_[container.image()];
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
  // The bundle (config.json holds the container's env, Secrets' values included) lives
  // in memory when bundles_dir is on a tmpfs; the rootfs is on disk.
  const std::string bundle = BundleDir(record.id);
  RETURN_IF_ERROR(MakeDirs(bundle, 0700));
  ASSIGN_OR_RETURN(auto rootfs, image::ContainerRootfs::Mount(dir, lowers));

  spec_options.image = ToRuntimeConfig(image->config);
  spec_options.rootfs = rootfs->path();
  auto users = runtime::LoadUserDb(rootfs->path());
  if (users.ok()) spec_options.users = *users;
  spec_options.hostname = desired.pod.metadata().name();
  spec_options.cgroups_path = reef::StrCat(PodCgroup(record.pod_key), "/", record.id);
  spec_options.annotations["io.reef.pod"] = record.pod_key;
  spec_options.annotations["io.reef.container"] = record.name;
  spec_options.netns_path = sandbox.netns_path;
  auto spec = runtime::BuildSpec(desired.pod, container, spec_options);
  if (!spec.ok()) {
    // The kubelet's CreateContainerConfigError: the spec cannot be made into a container.
    config_errors_[config_key] = std::string(spec.status().message());
    return spec.status();
  }
  config_errors_.erase(config_key);
  RETURN_IF_ERROR(runtime::WriteSpec(bundle, *spec));

  std::string log = PodLogPath(options_.data_dir, record.pod_key, record.name);
  RETURN_IF_ERROR(MakeDirs(std::filesystem::path(log).parent_path().string(), 0755));
  // Written before the start: if the agent dies right after Run(), the restarted agent
  // still knows the container is its own.
  RETURN_IF_ERROR(state_->PutContainer(record));
  auto started = runtime_->Run({record.id, bundle, {log}});
  if (!started.ok()) {
    // The monitor recorded a StartError exit; the next pass treats it as an exit.
    return Annotate(started.status(), reef::StrCat("start ", container.name()));
  }
  rootfs->Release();  // the mount outlives this object (and the agent)
  probed_[record.id] = Probed{record.pod_key, record.name, sandbox.pod_ip, started->started_at};
  REEF_LOG(Info) << "pod " << record.pod_key << ": started " << container.name() << " ("
                 << record.id << ", pid " << started->pid << ")";
  return absl::OkStatus();
}

absl::Status PodManager::RemoveContainer(const ContainerRecord& record) {
  RETURN_IF_ERROR(runtime_->Delete(record.id, /*force=*/true));
  std::error_code ec;
  std::filesystem::remove_all(BundleDir(record.id), ec);
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

std::map<std::string, Waiting> PodManager::WaitingReasons(const std::string& pod_key,
                                                         const reef::v1::PodSpec& spec) const {
  std::map<std::string, Waiting> waiting;
  auto sandbox = sandbox_failures_.find(pod_key);
  auto note = [&](const Container& c) {
    if (sandbox != sandbox_failures_.end()) {
      // The kubelet's FailedCreatePodSandBox: the containers wait in ContainerCreating.
      waiting[c.name()] = {"ContainerCreating", reef::StrCat("failed to create the pod sandbox: ", sandbox->second.message)};
      return;
    }
    auto failure = pull_failures_.find(c.image());
    auto config = config_errors_.find(reef::StrCat(pod_key, "/", c.name()));
    if (failure != pull_failures_.end()) {
      waiting[c.name()] = {failure->second.failures > 1 ? "ImagePullBackOff" : "ErrImagePull", failure->second.message};
    } else if (config != config_errors_.end()) {
      waiting[c.name()] = {"CreateContainerConfigError", config->second};
    }
  };
  for (const Container& c : spec.init_containers()) note(c);
  for (const Container& c : spec.containers()) note(c);
  return waiting;
}

}  // namespace reef::agent
