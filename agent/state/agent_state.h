#pragma once
// The agent's local memory, in SQLite under --data-dir: the pods it was told to run
// (with where they came from), the containers it created for them, and what the
// controller last sent, so that after a crash, a reboot or days offline it runs the
// same workloads again and adopts the containers that outlived it. Written only when something changes (SD cards wear out).
//
// Thread safety: all methods may be called from any thread.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite.h"
#include "common/status.h"
#include "reef/v1/api.pb.h"

namespace reef::agent {

struct PodRecord {
  std::string key;        // "namespace/name"
  std::string source;     // "static:<file>" or "controller"
  std::string spec_hash;  // see PodSpecHash()
  reef::v1::Pod pod;      // desired spec and last reported status
};

// One attempt at running one container of a pod.
struct ContainerRecord {
  std::string id;        // the runtime's container id
  std::string pod_key;
  std::string name;      // the container's name in the pod spec
  std::string spec_hash; // of the pod when this container was created
  int attempt = 0;       // 0 for the first run, +1 per restart
  int restart_count = 0;
  int crashes = 0;       // short runs in a row, for CrashLoopBackOff
  absl::Time not_before = absl::InfinitePast();  // no restart before this
  std::string last_exit_json;  // the previous attempt's ExitRecord, "" if none
  bool finished = false;       // this attempt ended and its exit was read
  std::string exit_json;       // this attempt's ExitRecord once finished
  // Being stopped, or stopped, because its liveness or startup probe failed: it then
  // counts as failed whatever its exit code.
  bool stopped_by_probe = false;
};

// What the controller last told this node, as of `revision`: its pods and the
// ConfigMaps and Secrets they use, by "Kind namespace/name".
//
// Secrets are kept apart, in a second database on tmpfs (the `secrets_path` given to
// Open), so that their bytes never reach the box's flash, as the kubelet keeps them in
// memory only. After a reboot that database is gone: Open then forgets the revision,
// and the next connection brings a full snapshot (Secrets included); meanwhile pods
// that need no Secret run on.
struct ControllerState {
  int64_t revision = 0;
  std::map<std::string, reef::v1::Object> objects;
};

// One Snapshot (replace_all) or Delta from the controller, stored in one transaction.
struct ControllerUpdate {
  bool replace_all = false;
  std::map<std::string, reef::v1::Object> upserts;
  std::vector<std::string> deletes;
  int64_t revision = 0;
};

class AgentState {
 public:
  // `secrets_path`: where Secrets live (on tmpfs); empty keeps them with the rest.
  static absl::StatusOr<std::unique_ptr<AgentState>> Open(const std::string& path,
                                                          const std::string& secrets_path = "");

  absl::StatusOr<std::vector<PodRecord>> Pods();
  absl::Status PutPod(const PodRecord& pod);
  // Deletes the pod and its container records.
  absl::Status DeletePod(const std::string& key);

  absl::StatusOr<std::vector<ContainerRecord>> Containers();
  absl::Status PutContainer(const ContainerRecord& container);
  absl::Status DeleteContainer(const std::string& id);

  absl::StatusOr<ControllerState> Controller();
  // Durable when it returns OK: the agent acknowledges `update.revision` after it.
  absl::Status ApplyController(const ControllerUpdate& update);

 private:
  explicit AgentState(std::unique_ptr<sqlite::Database> db, bool separate_secrets)
      : db_(std::move(db)), objects_table_for_secrets_(separate_secrets ? "secrets.objects" : "controller_objects") {}
  absl::Mutex mu_;
  std::unique_ptr<sqlite::Database> db_ ABSL_GUARDED_BY(mu_);
  const std::string objects_table_for_secrets_;
};

}  // namespace reef::agent
