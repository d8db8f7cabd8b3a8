#pragma once
// A pod's volumes on the node, as the kubelet's volume manager makes them:
//
//   <pods_dir>/<sandbox>/volumes/empty-dir/<name>   emptyDir (a tmpfs with medium Memory)
//   <pods_dir>/<sandbox>/volumes/configmap/<name>   configMap, written by the AtomicWriter
//   <pods_dir>/<sandbox>/volumes/secret/<name>      secret, the same on its own tmpfs
//
// hostPath volumes are the host's own paths: nothing of theirs lives here, so removing
// a sandbox never touches them. Sandbox folders are 0750 (secret and config bytes are
// only the root's to browse); containers reach volumes through bind mounts.
//
// Thread safety: none; the agent's sync loop is the only caller.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/volumes/config_source.h"
#include "common/status.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::volumes {

struct PodVolumes {
  // Volume name -> its path on the host (the folder, or the hostPath as written).
  std::map<std::string, std::string> host_paths;
  // The configMap and secret volumes: mounted read-only, and a subPath in them is
  // never created.
  std::set<std::string> projected;
};

struct VolumeOptions {
  // One folder per sandbox, e.g. <data dir>/pods. Made absolute by the constructor.
  std::string pods_dir;
};

class VolumeManager {
 public:
  explicit VolumeManager(VolumeOptions options);
  VolumeManager(const VolumeManager&) = delete;
  VolumeManager& operator=(const VolumeManager&) = delete;

  // Creates or refreshes every volume of the pod; called on every sync pass for every
  // pod, and then costs no writes unless something changed:
  //   emptyDir   a folder 0777; medium Memory: a tmpfs (nosuid, nodev) of sizeLimit, or
  //              of the sum of the containers' memory limits when all have one, or the
  //              kernel's default (half the RAM). sizeLimit on disk is not enforced.
  //   hostPath   CheckHostPath (host_path.h).
  //   configMap  the projected files (projection.h), rewritten only when they change.
  //   secret     the same, on a tmpfs (nosuid, nodev, noexec) mounted before the first
  //              byte is written: secret bytes never reach the node's disk.
  // Every volume is processed even when one fails; the first error is returned, naming
  // the volume (NotFound for a missing ConfigMap, Secret or key, FailedPrecondition for
  // a failed hostPath check).
  absl::StatusOr<PodVolumes> Prepare(const reef::v1::Pod& pod, const std::string& sandbox_id,
                                     const ConfigSource& source);

  // Unmounts every mount under the sandbox's folder (deepest first), then removes it.
  // Idempotent: OK when there is no such folder.
  absl::Status Remove(const std::string& sandbox_id);

  // The sandboxes that have a folder, sorted.
  absl::StatusOr<std::vector<std::string>> List();

  // Remove() for every listed sandbox not in `keep`; tries them all, returns the first
  // error.
  absl::Status GarbageCollect(const std::set<std::string>& keep);

  const std::string& pods_dir() const { return pods_dir_; }

 private:
  absl::Status PrepareEmptyDir(const reef::v1::Pod& pod, const reef::v1::Volume& v,
                               const std::string& dir);
  absl::Status PrepareSecret(const reef::v1::Volume& v, const std::string& dir,
                             const ConfigSource& source, const std::string& ns);

  std::string pods_dir_;
};

}  // namespace reef::agent::volumes
