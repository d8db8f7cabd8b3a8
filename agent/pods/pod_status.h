#pragma once
// A pod's status as the kubelet reports it, computed from what the agent knows this
// pass: the latest attempt of each container, what the probes say, and why containers
// that do not exist yet are waiting. Pure: no I/O, no clock of its own.
//
//   phase       Pending until the init containers are done and a container runs;
//               Running while one runs or is restarting; Succeeded / Failed once all
//               ended for good (an init container failing under restartPolicy Never
//               fails the pod).
//   conditions  Initialized (every init container exited 0), ContainersReady (every
//               container running and ready by its readiness probe), Ready (the same).
//               PodScheduled is the scheduler's and stays on the controller.

#include <functional>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "agent/runtime/exit_record.h"
#include "agent/state/agent_state.h"
#include "reef/v1/core.pb.h"

namespace reef::agent {

struct Waiting {
  std::string reason;  // ErrImagePull, ImagePullBackOff, CreateContainerConfigError, ...
  std::string message;
};

struct PodStatusInputs {
  const reef::v1::Pod* pod = nullptr;
  absl::Time now;
  // The latest attempt of each container (init or not), by container name.
  std::map<std::string, ContainerRecord> latest;
  // Why a container without an attempt is waiting, by name; absent: ContainerCreating
  // (PodInitializing for regular containers while init containers run).
  std::map<std::string, Waiting> waiting;
  // What the probes say of a running attempt of the container (default: true).
  using ProbeView = std::function<bool(const reef::v1::Container& c, const std::string& id)>;
  ProbeView ready = [](const reef::v1::Container&, const std::string&) { return true; };
  ProbeView started = [](const reef::v1::Container&, const std::string&) { return true; };
  std::string pod_ip;
};

reef::v1::PodStatus ComputePodStatus(const PodStatusInputs& in);

// The exit code a restart decision sees for an ended attempt: a container stopped
// because its liveness or startup probe failed has failed, whatever it exited with
// (one that exits 0 on SIGTERM too), as the kubelet decides.
int ExitCodeForRestart(const ContainerRecord& rec, const runtime::ExitRecord& exit);

// Whether every init container of the pod has exited 0 (true when it has none).
bool InitContainersDone(const reef::v1::PodSpec& spec, const std::map<std::string, ContainerRecord>& latest);

}  // namespace reef::agent
