#pragma once
// PodManager runs the pods this box was told to run: it pulls images, prepares each
// container's root filesystem, starts containers through the Runtime (each with its
// monitor), restarts them per restartPolicy with CrashLoopBackOff, replaces them when
// their pod changes, stops them when their pod goes away, and keeps every pod's
// status. Everything it decides is written to AgentState, so that a restarted agent
// adopts the containers still running (no duplicates, no restarts) and learns the
// exits that happened while it was down (from the monitors' exit records).
//
// Until the networking issue lands, pods share the node's network namespace.
//
// Thread safety: SetDesired() may be called from any thread; SyncOnce() and Recover()
// from one thread at a time (the agent's sync loop).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/image/image_store.h"
#include "agent/image/snapshotter.h"
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
  std::string data_dir;       // containers/ and logs/ live below
  std::string cgroup_parent;  // e.g. "/reef/<node>": each agent its own
  const Clock* clock = &Clock::Real();
  runtime::BackoffOptions backoff;
  // Image pull failures are retried after this, doubling up to backoff.max.
  absl::Duration pull_backoff = absl::Seconds(10);
};

class PodManager {
 public:
  PodManager(PodManagerOptions options, AgentState* state, image::ImageStore* images,
             runtime::Runtime* runtime);

  // Reads the containers AgentState remembers and settles them against the runtime:
  // running ones are adopted as they are; ended ones get their recorded exit.
  absl::Status Recover();

  // The pods to run from now on (replaces the previous set).
  void SetDesired(std::map<std::string, DesiredPod> pods);

  // One pass over every pod. Errors are logged per pod and retried next pass. Never
  // waits for a container to stop: a stop in progress (SIGTERM sent, grace period
  // running) is checked again on the next pass. Returns true while such a stop is in
  // progress, so that the caller comes back sooner than its usual period.
  bool SyncOnce();

 private:
  struct PullFailure {
    std::string message;
    int failures = 0;
    absl::Time retry_at;
  };

  // A container being stopped: SIGTERM went out, SIGKILL follows at kill_at.
  struct Stopping {
    absl::Time kill_at;
    bool killed = false;
  };

  absl::Status SyncPod(const DesiredPod& desired);
  // Moves every container of the pod one step towards gone (see SyncOnce). True once
  // none is left.
  absl::StatusOr<bool> TearDownContainers(const std::string& pod_key, int64_t grace_seconds);
  // One step of the kubelet's stop (SIGTERM, grace, SIGKILL) for a container that had
  // not finished. True once it has stopped.
  absl::StatusOr<bool> StopStep(const ContainerRecord& record, absl::Duration grace);
  absl::Status StartContainer(const DesiredPod& desired, const reef::v1::Container& container,
                              ContainerRecord record);
  // Reads the exit of a running attempt, if it ended; decides about a restart.
  absl::Status Observe(const DesiredPod& desired, ContainerRecord* record);
  absl::Status RemoveContainer(const ContainerRecord& record);
  // Logs a failed start once per distinct message.
  void NoteStartError(const std::string& pod_key, const std::string& container, const absl::Status& status);
  reef::v1::PodStatus ComputeStatus(const DesiredPod& desired,
                                    const std::vector<ContainerRecord>& records) const;

  std::string ContainerDir(const std::string& id) const;

  PodManagerOptions options_;
  AgentState* state_;
  image::ImageStore* images_;
  runtime::Runtime* runtime_;

  absl::Mutex mu_;
  std::map<std::string, DesiredPod> desired_ ABSL_GUARDED_BY(mu_);
  // Only touched by the sync thread.
  std::map<std::string, PullFailure> pull_failures_;  // by image reference
  std::map<std::string, Stopping> stopping_;          // by container id
  // By "namespace/pod/container": why the last start failed, and why the container
  // spec could not be built (CreateContainerConfigError).
  std::map<std::string, std::string> start_errors_;
  std::map<std::string, std::string> config_errors_;
};

// Where a pod's container writes its log (CRI format, rotated beside it).
std::string PodLogPath(const std::string& data_dir, const std::string& pod_key,
                       const std::string& container);

// The runtime id of an attempt: stable for (pod, spec, container, attempt), unique
// across spec changes, short enough for runc and cgroup names.
std::string ContainerId(const std::string& pod_key, const std::string& spec_hash,
                        const std::string& container, int attempt);

}  // namespace reef::agent
