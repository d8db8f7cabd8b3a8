#pragma once
// `reefctl rollout status|history|undo|restart|pause|resume`: the pieces that are
// pure (what status says, which revision undo goes back to) are here so that unit
// tests reach them; the verbs are in rollout*.cc.

#include <cstdint>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace reef::cli {

// kubectl's `rollout status` line for a Deployment or DaemonSet ("Waiting for
// deployment "web" rollout to finish: 1 of 3 updated replicas are available...",
// "deployment "web" successfully rolled out"), and whether the rollout is done.
// An error for a Deployment past its progress deadline, or another kind.
struct RolloutProgress {
  std::string message;
  bool done = false;
};
absl::StatusOr<RolloutProgress> RolloutProgressOf(const v1::Object& object);

// A Deployment's ReplicaSets (those it controls), by revision, oldest first.
std::vector<v1::ReplicaSet> RevisionsOf(const v1::Deployment& d, const std::vector<v1::Object>& replica_sets);
int64_t RevisionNumber(const v1::ReplicaSet& rs);

// What `rollout undo --to-revision to` goes back to: that revision, or (0) the one
// before the latest. Errors in kubectl's words.
absl::StatusOr<v1::ReplicaSet> RollbackTarget(const v1::Deployment& d,
                                              const std::vector<v1::ReplicaSet>& revisions, int64_t to);
// Puts `target`'s pod template (without its pod-template-hash) and annotations into
// `d`, as kubectl's undo does. False when the template is already the same.
bool RollBack(v1::Deployment* d, const v1::ReplicaSet& target);

int RunRolloutStatus(const std::vector<std::string>& args, const std::string& timeout, bool watch,
                     const GlobalOptions& globals);
int RunRolloutHistory(const std::vector<std::string>& args, int64_t revision, const GlobalOptions& globals);
int RunRolloutUndo(const std::vector<std::string>& args, int64_t to_revision, const GlobalOptions& globals);

}  // namespace reef::cli
