// reefctl rollout history deployment/NAME [--revision N]
// reefctl rollout undo deployment/NAME [--to-revision N]
//
// The history is the Deployment's ReplicaSets, one per pod template, each with its
// revision annotation. Undo is kubectl's, client-side: the chosen revision's template
// is written back into the Deployment, which then rolls to it like to any template
// (reusing that ReplicaSet, which takes the next revision number).

#include <algorithm>
#include <set>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/numbers.h"
#include "api/manifest/well_known.h"
#include "api/manifest/object.h"
#include "cli/describe_pod.h"
#include "cli/describe_writer.h"
#include "cli/printers.h"
#include "cli/rollout.h"
#include "cli/update.h"

namespace reef::cli {
namespace {

// Deployment annotations that undo leaves as they are (kubectl's annotationsToSkip).
const std::set<std::string>& KeptAnnotations() {
  static const auto* keep = new std::set<std::string>{
      manifest::kLastAppliedAnnotation, manifest::kRevisionAnnotation, manifest::kRevisionHistoryAnnotation,
      manifest::kDesiredReplicasAnnotation, manifest::kMaxReplicasAnnotation, "deprecated.deployment.rollback.to"};
  return *keep;
}

v1::PodTemplateSpec WithoutHash(v1::PodTemplateSpec t) {
  t.mutable_metadata()->mutable_labels()->erase(manifest::kPodTemplateHashLabel);
  return t;
}

// The Deployment and its revisions, read from the controller.
absl::StatusOr<std::pair<v1::Object, std::vector<v1::ReplicaSet>>> ReadHistory(
    Client& client, const std::vector<std::string>& args, const GlobalOptions& globals, std::string* ns) {
  ASSIGN_OR_RETURN(auto target, ResolveKindAndName(args));
  if (target.first->kind != "Deployment") {
    return absl::InvalidArgumentError(
        reef::StrCat("rollout history and undo are supported for deployments, not ", target.first->plural));
  }
  *ns = EffectiveNamespace(*target.first, globals, false);
  ASSIGN_OR_RETURN(v1::Object d, client.GetObject("Deployment", *ns, target.second));
  ASSIGN_OR_RETURN(v1::ListResponse sets, client.ListObjects("ReplicaSet", *ns, ""));
  std::vector<v1::Object> items(sets.items().begin(), sets.items().end());
  std::vector<v1::ReplicaSet> revisions = RevisionsOf(d.deployment(), items);
  return std::make_pair(std::move(d), std::move(revisions));
}

}  // namespace

int64_t RevisionNumber(const v1::ReplicaSet& rs) {
  auto it = rs.metadata().annotations().find(manifest::kRevisionAnnotation);
  int64_t n = 0;
  if (it == rs.metadata().annotations().end() || !absl::SimpleAtoi(it->second, &n)) return 0;
  return n;
}

std::vector<v1::ReplicaSet> RevisionsOf(const v1::Deployment& d, const std::vector<v1::Object>& replica_sets) {
  std::vector<v1::ReplicaSet> out;
  for (const v1::Object& o : replica_sets) {
    if (!o.has_replica_set()) continue;
    for (const auto& ref : o.replica_set().metadata().owner_references()) {
      if (ref.controller() && ref.uid() == d.metadata().uid()) out.push_back(o.replica_set());
    }
  }
  std::sort(out.begin(), out.end(), [](const v1::ReplicaSet& a, const v1::ReplicaSet& b) {
    return RevisionNumber(a) < RevisionNumber(b);
  });
  return out;
}

absl::StatusOr<v1::ReplicaSet> RollbackTarget(const v1::Deployment& d,
                                              const std::vector<v1::ReplicaSet>& revisions, int64_t to) {
  if (to > 0) {
    for (const v1::ReplicaSet& rs : revisions) {
      if (RevisionNumber(rs) == to) return rs;
    }
    return absl::NotFoundError(reef::StrCat("unable to find specified revision ", to, " in history"));
  }
  std::vector<const v1::ReplicaSet*> numbered;
  for (const v1::ReplicaSet& rs : revisions) {
    if (RevisionNumber(rs) > 0) numbered.push_back(&rs);
  }
  if (numbered.size() < 2) {
    return absl::NotFoundError(reef::StrCat("no rollout history found for deployment \"", d.metadata().name(), "\""));
  }
  return *numbered[numbered.size() - 2];  // sorted by revision: the one before the latest
}

bool RollBack(v1::Deployment* d, const v1::ReplicaSet& target) {
  v1::PodTemplateSpec tmpl = WithoutHash(target.spec().template_());
  if (google::protobuf::util::MessageDifferencer::Equals(WithoutHash(d->spec().template_()), tmpl)) return false;
  *d->mutable_spec()->mutable_template_() = tmpl;
  google::protobuf::Map<std::string, std::string> annotations;
  for (const auto& [k, v] : d->metadata().annotations()) {
    if (KeptAnnotations().count(k)) annotations[k] = v;
  }
  for (const auto& [k, v] : target.metadata().annotations()) {
    if (!KeptAnnotations().count(k)) annotations[k] = v;
  }
  *d->mutable_metadata()->mutable_annotations() = annotations;
  return true;
}

int RunRolloutHistory(const std::vector<std::string>& args, int64_t revision, const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  std::string ns;
  auto history = ReadHistory(**client, args, globals, &ns);
  if (!history.ok()) return PrintError(history.status());
  const auto& [d, revisions] = *history;
  std::string name = manifest::ResourceName(d);
  if (revision > 0) {
    for (const v1::ReplicaSet& rs : revisions) {
      if (RevisionNumber(rs) != revision) continue;
      describe::DescribeWriter w;
      describe::PodTemplate(w, WithoutHash(rs.spec().template_()));
      std::cout << name << " with revision #" << revision << "\n" << w.Render();
      return 0;
    }
    return PrintError(absl::NotFoundError(reef::StrCat("unable to find the specified revision ", revision)));
  }
  std::cout << name << "\n";
  if (revisions.empty()) {
    std::cout << "No rollout history found.\n";
    return 0;
  }
  Table table;
  table.Add({"REVISION", "CHANGE-CAUSE"});
  for (const v1::ReplicaSet& rs : revisions) {
    auto cause = rs.metadata().annotations().find(manifest::kChangeCauseAnnotation);
    table.Add({std::to_string(RevisionNumber(rs)),
               cause == rs.metadata().annotations().end() ? "<none>" : cause->second});
  }
  std::cout << table.Render();
  return 0;
}

int RunRolloutUndo(const std::vector<std::string>& args, int64_t to_revision, const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  std::string ns;
  auto history = ReadHistory(**client, args, globals, &ns);
  if (!history.ok()) return PrintError(history.status());
  const auto& [d, revisions] = *history;
  if (d.deployment().spec().paused()) {
    return PrintError(absl::FailedPreconditionError(
        "you cannot rollback a paused deployment; resume it first with 'reefctl rollout resume' and try again"));
  }
  auto target = RollbackTarget(d.deployment(), revisions, to_revision);
  if (!target.ok()) return PrintError(target.status());
  auto result = UpdateObject(**client, "Deployment", ns, d.deployment().metadata().name(),
                             [&](v1::Object& o) -> absl::StatusOr<bool> {
                               return RollBack(o.mutable_deployment(), *target);
                             });
  if (!result.ok()) return PrintError(result.status());
  std::cout << manifest::ResourceName(d) << " "
            << (result->changed ? "rolled back"
                                : reef::StrCat("skipped rollback (current template already matches revision ",
                                               RevisionNumber(*target), ")"))
            << "\n";
  return 0;
}

}  // namespace reef::cli
