#pragma once
// PodManager runs the pods this box was told to run: it makes each pod's sandbox (its
// network namespace and volumes, see pod_sandbox.h), pulls images, runs the init
// containers one by one to completion, then starts the containers through the Runtime
// (each with its monitor), restarts them per restartPolicy with CrashLoopBackOff (and
// when their liveness probe fails), replaces them when their pod changes, stops them
// when their pod goes away, and keeps every pod's status (pod_status.h). Everything
// it decides is written to AgentState, so that a restarted agent adopts the containers
// still running (no duplicates, no restarts), learns the exits that happened while it
// was down (from the monitors' exit records) and releases what a crash left half made.
//
// Thread safety: SetDesired() may be called from any thread; everything else from one
// thread at a time (the agent's sync loop).

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/image/image_store.h"
#include "agent/image/snapshotter.h"
#include "agent/pods/config_source.h"
#include "agent/pods/pod_sandbox.h"
#include "agent/pods/pod_status.h"
#include "agent/probes/probe_manager.h"
#include "agent/runtime/restart_policy.h"
#include "agent/runtime/runtime.h"
#include "agent/state/agent_state.h"
#include "common/clock.h"

namespace reef::agent {

struct DesiredPod {
  reef::v1::Pod pod;
  std::string source;     // "static:<file>" or "controller"
  std::string spec_hash;  // PodSpecHash(pod)
};

struct PodManagerOptions {
  std::string data_dir;       // containers/, logs/ and pods/ (volumes) live below
  std::string cgroup_parent;  // e.g. "/reef/<node>": each agent its own
  // Where the OCI bundles (config.json) go, one folder per container; on a tmpfs, as
  // the env in them may hold Secrets' values. Empty: beside each container's rootfs.
  std::string bundles_dir;
  const Clock* clock = &Clock::Real();
  runtime::BackoffOptions backoff;
  // Image pull failures are retried after this, doubling up to backoff.max.
  absl::Duration pull_backoff = absl::Seconds(10);
  // Runs the containers' probes; null: none run, and a running container is ready.
  probes::ProbeManager* probes = nullptr;
};

class PodManager {
 public:
  PodManager(PodManagerOptions options, AgentState* state, image::ImageStore* images,
             runtime::Runtime* runtime);

  // Reads the containers AgentState remembers and settles them against the runtime:
  // running ones are adopted as they are; ended ones get their recorded exit.
  absl::Status Recover();

  // The pods to run from now on (replaces the previous set), and the ConfigMaps and
  // Secrets their env and volumes read.
  void SetDesired(std::map<std::string, DesiredPod> pods, std::shared_ptr<const ObjectMap> config = nullptr);

  // From when the node's pod CIDR is known: pods with their own network wait until
  // then. Also releases the network of sandboxes no stored pod owns (a crash's).
  void SetPodNetwork(std::unique_ptr<network::PodNetwork> network);
  bool has_pod_network() const { return sandboxes_.has_network(); }

  // One pass over every pod. Errors are logged per pod and retried next pass. Never
  // waits for a container to stop: a stop in progress (SIGTERM sent, grace period
  // running) is checked again on the next pass. Returns true while such a stop is in
  // progress, so that the caller comes back sooner than its usual period.
  bool SyncOnce();

 private:
  // Something that failed and is tried again after a growing pause.
  struct Failure {
    std::string message;
    int failures = 0;
    absl::Time retry_at;
  };

  // A container being stopped: SIGTERM went out, SIGKILL follows at kill_at.
  struct Stopping {
    absl::Time kill_at;
    bool killed = false;
  };

  absl::Status SyncPod(const DesiredPod& desired, const PodRecord* stored, const volumes::ConfigSource& config);
  // The sandboxes a stored pod or container record still owns.
  absl::StatusOr<std::set<std::string>> OwnedSandboxes();
  // Removes the init container records of `lost_pods` (pods whose containers were
  // gone at start), so that their init containers run again.
  absl::Status ForgetInitContainers(const std::vector<PodRecord>& pods, const std::vector<ContainerRecord>& containers,
                                    const std::set<std::string>& lost_pods);
  // The pod's sandbox (see pod_sandbox.h), with a back-off after failures.
  absl::StatusOr<Sandbox> EnsureSandbox(const DesiredPod& desired, const std::string& key,
                                        const volumes::ConfigSource& config);
  // Starts the container when it has no attempt yet, or reads its attempt's exit and
  // restarts it when `restarts` says so and its back-off has passed. The latest
  // attempt after that, if any.
  absl::StatusOr<std::optional<ContainerRecord>> RunContainer(const DesiredPod& desired, const reef::v1::Container& c,
                                                              const Sandbox& sandbox, const volumes::ConfigSource& config,
                                                              std::optional<ContainerRecord> latest,
                                                              const std::function<bool(int exit_code)>& restarts);
  // A running container whose liveness (or startup) probe failed is stopped; its
  // restart then follows the restart policy.
  absl::Status StopIfProbeFailed(const DesiredPod& desired, const ContainerRecord& rec);
  // Stops a pod's containers, then releases its sandbox. True once all is gone.
  absl::StatusOr<bool> TearDownPod(const std::string& pod_key, const std::string& spec_hash, int64_t grace_seconds);
  // Tells the probe manager which containers run now.
  void UpdateProbes(const std::map<std::string, DesiredPod>& desired);
  // Moves every container of the pod one step towards gone (see SyncOnce). True once
  // none is left.
  absl::StatusOr<bool> TearDownContainers(const std::string& pod_key, int64_t grace_seconds);
  // One step of the kubelet's stop (SIGTERM, grace, SIGKILL) for a container that had
  // not finished. True once it has stopped.
  absl::StatusOr<bool> StopStep(const ContainerRecord& record, absl::Duration grace);
  absl::Status StartContainer(const DesiredPod& desired, const reef::v1::Container& container,
                              const Sandbox& sandbox, const volumes::ConfigSource& config, ContainerRecord record);
  // Reads the exit of a running attempt, if it ended; decides about a restart.
  absl::Status Observe(ContainerRecord* record);
  absl::Status RemoveContainer(const ContainerRecord& record);
  // Logs a failed start once per distinct message.
  void NoteStartError(const std::string& pod_key, const std::string& container, const absl::Status& status);
  // Why each container of the pod without an attempt waits (pull, config, sandbox).
  std::map<std::string, Waiting> WaitingReasons(const std::string& pod_key, const reef::v1::PodSpec& spec) const;

  std::string ContainerDir(const std::string& id) const;
  std::string BundleDir(const std::string& id) const;

 public:
  // The pod's cgroup (cgroupsPath form), parent of its containers' "<it>/<id>".
  std::string PodCgroup(const std::string& pod_key) const;

 private:

  PodManagerOptions options_;
  AgentState* state_;
  image::ImageStore* images_;
  runtime::Runtime* runtime_;

  absl::Mutex mu_;
  std::map<std::string, DesiredPod> desired_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const ObjectMap> config_ ABSL_GUARDED_BY(mu_);
  // Only touched by the sync thread.
  std::map<std::string, Failure> pull_failures_;  // by image reference
  std::map<std::string, Stopping> stopping_;          // by container id
  // By "namespace/pod/container": why the last start failed, and why the container
  // spec could not be built (CreateContainerConfigError).
  std::map<std::string, std::string> start_errors_;
  std::map<std::string, std::string> config_errors_;
  // By pod key: why its sandbox could not be made (retried with back-off), the last
  // volume refresh problem, and its IP.
  std::map<std::string, Failure> sandbox_failures_;
  std::map<std::string, std::string> volume_errors_;
  std::map<std::string, std::string> pod_ips_;
  Sandboxes sandboxes_;
  // Running containers to probe: their pod IP and when they started, by id. Adopted
  // containers count from when this agent first saw them.
  struct Probed {
    std::string pod_key;
    std::string container;
    std::string pod_ip;
    absl::Time started_at;
  };
  std::map<std::string, Probed> probed_;
};

// Where a pod's container writes its log (CRI format, rotated beside it).
std::string PodLogPath(const std::string& data_dir, const std::string& pod_key,
                       const std::string& container);

// A pod's cgroup (cgroupsPath form) under the agent's parent, e.g. "/reef/NODE/HASH".
std::string PodCgroupPath(const std::string& cgroup_parent, const std::string& pod_key);

}  // namespace reef::agent
