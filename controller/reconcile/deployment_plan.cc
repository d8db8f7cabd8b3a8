#include "controller/reconcile/deployment_plan.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "controller/reconcile/deployment_status.h"
#include "controller/reconcile/deployment_util.h"
#include "controller/reconcile/owners.h"
#include "controller/reconcile/pods.h"
#include "controller/reconcile/template_hash.h"

namespace reef::reconcile {
namespace {

// Deployment annotations that are not copied onto its ReplicaSets (they are the
// Deployment's own bookkeeping, or kubectl's).
const std::set<std::string>& NotCopiedAnnotations() {
  static const auto* skip = new std::set<std::string>{
      manifest::kLastAppliedAnnotation, kRevisionAnnotation,
      kRevisionHistoryAnnotation, kDesiredReplicasAnnotation, kMaxReplicasAnnotation,
      "deprecated.deployment.rollback.to"};
  return *skip;
}

// One ReplicaSet as the plan changes it.
struct Set {
  v1::Object object;
  bool changed = false;  // to write
  bool created = false;  // not in the store yet
  bool removed = false;  // to delete

  v1::ReplicaSet& rs() { return *object.mutable_replica_set(); }
  const v1::ReplicaSet& rs() const { return object.replica_set(); }
  int32_t replicas() const { return Replicas(rs()); }
  int32_t available() const { return rs().status().available_replicas(); }
};

class Planner {
 public:
  Planner(const v1::Object& deployment, const std::vector<ObjectPtr>& sets, absl::Time now)
      : object_(deployment), d_(deployment.deployment()), now_(now), status_(d_.status()) {
    for (const ObjectPtr& o : sets) {
      if (o->has_replica_set()) sets_.push_back(Set{*o});
    }
    // Oldest first, once: pointers into sets_ stay valid from here on.
    std::sort(sets_.begin(), sets_.end(),
              [](const Set& a, const Set& b) { return CreatedBefore(a.rs(), b.rs()); });
  }

  DeploymentPlan Plan() {
    CheckPausedConditions();
    if (d_.spec().paused() || IsScalingEvent()) {
      Sync();
    } else if (IsRollingUpdate(d_)) {
      RolloutRolling();
    } else {
      RolloutRecreate();
    }
    return Finish();
  }

 private:
  int32_t R() const { return Replicas(d_); }
  bool HasDeadline() const { return d_.spec().has_progress_deadline_seconds(); }

  std::vector<Set*> Old() {
    std::vector<Set*> out;
    for (Set& s : sets_) {
      if (&s != new_ && !s.removed) out.push_back(&s);
    }
    return out;
  }
  std::vector<Set*> All() {
    std::vector<Set*> out = Old();
    if (new_ != nullptr) out.push_back(new_);
    return out;
  }
  static std::vector<Set*> Active(std::vector<Set*> sets) {
    sets.erase(std::remove_if(sets.begin(), sets.end(), [](Set* s) { return s->replicas() <= 0; }),
               sets.end());
    return sets;
  }
  static std::vector<const v1::ReplicaSet*> Views(const std::vector<Set*>& sets) {
    std::vector<const v1::ReplicaSet*> out;
    for (Set* s : sets) out.push_back(&s->rs());
    return out;
  }
  static void SortBy(std::vector<Set*>* sets, bool (*less)(const v1::ReplicaSet&, const v1::ReplicaSet&)) {
    std::stable_sort(sets->begin(), sets->end(), [less](Set* a, Set* b) { return less(a->rs(), b->rs()); });
  }

  // ---- the new ReplicaSet and revisions (getAllReplicaSetsAndSyncRevision) ----

  void FindNewAndSyncRevision(bool create) {
    if (new_ == nullptr) {
      for (Set& s : sets_) {
        if (!s.removed && EqualIgnoringHash(s.rs().spec().template_(), d_.spec().template_())) {
          new_ = &s;
          break;
        }
      }
    }
    int64_t max_old = 0;
    for (Set* s : Old()) max_old = std::max(max_old, Revision(s->rs()));
    int64_t revision = max_old + 1;
    if (new_ != nullptr) {
      bool changed = SetNewReplicaSetAnnotations(&new_->rs(), revision, /*exists=*/true);
      if (new_->rs().spec().min_ready_seconds() != d_.spec().min_ready_seconds()) {
        new_->rs().mutable_spec()->set_min_ready_seconds(d_.spec().min_ready_seconds());
        changed = true;
      }
      new_->changed |= changed;
      if (HasDeadline() && FindCondition(status_, "Progressing") == nullptr) {
        SetCondition(&status_, NewCondition("Progressing", "True", kFoundNewReplicaSetReason,
                                            absl::StrFormat("Found new replica set \"%s\"", new_->rs().metadata().name()),
                                            now_));
      }
      return;
    }
    if (!create) return;

    std::optional<int32_t> collisions;
    if (status_.has_collision_count()) collisions = status_.collision_count();
    std::string hash = TemplateHash(d_.spec().template_(), collisions);
    v1::Object o;
    v1::ReplicaSet* rs = o.mutable_replica_set();
    v1::ObjectMeta* meta = rs->mutable_metadata();
    meta->set_name(reef::StrCat(d_.metadata().name(), "-", hash));
    meta->set_namespace_(d_.metadata().namespace_());
    // For ordering within this plan only: the store stamps the real time.
    meta->set_creation_timestamp(FormatTimestamp(now_));
    *meta->add_owner_references() = NewControllerRef(object_);
    v1::ReplicaSetSpec* spec = rs->mutable_spec();
    *spec->mutable_template_() = d_.spec().template_();
    (*spec->mutable_template_()->mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = hash;
    *spec->mutable_selector() = d_.spec().selector();
    (*spec->mutable_selector()->mutable_match_labels())[kPodTemplateHashLabel] = hash;
    *meta->mutable_labels() = spec->template_().metadata().labels();
    spec->set_min_ready_seconds(d_.spec().min_ready_seconds());
    spec->set_replicas(0);
    new_ = &sets_.emplace_back(Set{std::move(o), true, true, false});
    int32_t replicas = NewReplicasFor(*new_);
    new_->rs().mutable_spec()->set_replicas(replicas);
    SetNewReplicaSetAnnotations(&new_->rs(), revision, /*exists=*/false);
    if (replicas > 0) {
      plan_.events.push_back({"Normal", "ScalingReplicaSet",
                              absl::StrFormat("Scaled up replica set %s to %d", meta->name(), replicas)});
    }
    if (HasDeadline()) {
      SetCondition(&status_, NewCondition("Progressing", "True", kNewReplicaSetReason,
                                          absl::StrFormat("Created new replica set \"%s\"", meta->name()), now_));
    }
  }

  // The Deployment's annotations, the revision (keeping the one it had in the
  // revision history, for a set brought back by an undo) and, on creation, the
  // replica annotations. Returns whether anything changed.
  bool SetNewReplicaSetAnnotations(v1::ReplicaSet* rs, int64_t revision, bool exists) {
    bool changed = false;
    auto* annotations = rs->mutable_metadata()->mutable_annotations();
    for (const auto& [k, v] : d_.metadata().annotations()) {
      if (NotCopiedAnnotations().count(k)) continue;
      auto it = annotations->find(k);
      if (it == annotations->end() || it->second != v) {
        (*annotations)[k] = v;
        changed = true;
      }
    }
    auto old = annotations->find(kRevisionAnnotation);
    bool had = old != annotations->end();
    std::string old_text = had ? old->second : "";
    int64_t old_revision = 0;
    if (had) absl::SimpleAtoi(old_text, &old_revision);
    if (old_revision < revision) {
      (*annotations)[kRevisionAnnotation] = std::to_string(revision);
      changed = true;
      if (had) {
        std::string& history = (*annotations)[kRevisionHistoryAnnotation];
        history = history.empty() ? old_text : reef::StrCat(history, ",", old_text);
      }
    }
    if (!exists && SetReplicasAnnotations(rs, R(), R() + MaxSurge(d_))) changed = true;
    return changed;
  }

  // How big the new set may be now (NewRSNewReplicas).
  int32_t NewReplicasFor(const Set& new_rs) {
    if (!IsRollingUpdate(d_)) return R();
    int32_t current = SpecReplicas(Views(All()));
    int32_t max_total = R() + MaxSurge(d_);
    if (current >= max_total) return new_rs.replicas();
    int32_t up = std::min(max_total - current, R() - new_rs.replicas());
    return new_rs.replicas() + up;
  }

  // ---- scaling ----

  // Sets the size and the replica annotations; records an event when the size changes.
  bool Scale(Set* s, int32_t to, std::string_view direction) {
    int32_t from = s->replicas();
    bool size = from != to;
    if (!size && !ReplicasAnnotationsNeedUpdate(s->rs(), R(), R() + MaxSurge(d_))) return false;
    s->rs().mutable_spec()->set_replicas(to);
    SetReplicasAnnotations(&s->rs(), R(), R() + MaxSurge(d_));
    s->changed = true;
    if (size) {
      plan_.events.push_back({"Normal", "ScalingReplicaSet",
                              absl::StrFormat("Scaled %s replica set %s to %d from %d", direction,
                                              s->rs().metadata().name(), to, from)});
    }
    return size;
  }

  bool ScaleAndRecord(Set* s, int32_t to) {
    if (s->replicas() == to) return false;
    return Scale(s, to, to > s->replicas() ? "up" : "down");
  }

  bool IsScalingEvent() {
    FindNewAndSyncRevision(false);
    for (Set* s : Active(All())) {
      int32_t desired = 0;
      if (DesiredReplicasAnnotation(s->rs(), &desired) && desired != R()) return true;
    }
    return false;
  }

  // The only active set, or the newest when none is; nullptr when several are.
  Set* ActiveOrLatest() {
    std::vector<Set*> old = Old();
    if (new_ == nullptr && old.empty()) return nullptr;
    std::vector<Set*> active = Active(All());
    if (active.size() == 1) return active[0];
    if (!active.empty()) return nullptr;
    if (new_ != nullptr) return new_;
    return old.back();  // sets_ is oldest first
  }

  bool IsSaturated(const Set* s) const {
    int32_t desired = 0;
    return s != nullptr && s->replicas() == R() && DesiredReplicasAnnotation(s->rs(), &desired) &&
           desired == R() && s->available() == R();
  }

  int32_t Fraction(const Set& s) const {
    if (R() == 0) return -s.replicas();
    int32_t deployment_replicas = R() + MaxSurge(d_);
    int32_t annotated = 0;
    auto it = s.rs().metadata().annotations().find(kMaxReplicasAnnotation);
    if (it == s.rs().metadata().annotations().end() || !absl::SimpleAtoi(it->second, &annotated)) {
      annotated = d_.status().replicas();
    }
    if (annotated <= 0) return 0;
    double size = static_cast<double>(s.replicas()) * deployment_replicas / annotated;
    return static_cast<int32_t>(std::round(size)) - s.replicas();
  }

  int32_t Proportion(const Set& s, int32_t to_add, int32_t added) const {
    if (s.replicas() == 0 || to_add == 0 || to_add == added) return 0;
    int32_t fraction = Fraction(s);
    int32_t allowed = to_add - added;
    return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
  }

  // A change of replicas with the template unchanged, or a paused Deployment (scale()).
  void ScaleProportionally() {
    if (Set* only = ActiveOrLatest()) {
      if (only->replicas() != R()) ScaleAndRecord(only, R());
      return;
    }
    if (IsSaturated(new_)) {
      for (Set* old : Active(Old())) ScaleAndRecord(old, 0);
      return;
    }
    if (!IsRollingUpdate(d_)) return;
    std::vector<Set*> active = Active(All());
    int32_t allowed = R() > 0 ? R() + MaxSurge(d_) : 0;
    int32_t to_add = allowed - SpecReplicas(Views(active));
    // Larger sets take their share first; among equals, scaling up favours the
    // newer and scaling down the older.
    if (to_add > 0) SortBy(&active, LargerThenNewer);
    if (to_add < 0) SortBy(&active, LargerThenOlder);
    std::map<Set*, int32_t> size;
    int32_t added = 0;
    for (Set* s : active) {
      int32_t p = to_add != 0 ? Proportion(*s, to_add, added) : 0;
      size[s] = s->replicas() + p;
      added += p;
    }
    for (size_t i = 0; i < active.size(); ++i) {
      Set* s = active[i];
      if (i == 0 && to_add != 0) size[s] = std::max(0, size[s] + to_add - added);  // leftovers
      Scale(s, size[s], to_add > 0 ? "up" : "down");
    }
  }

  // ---- strategies ----

  void Sync() {
    FindNewAndSyncRevision(false);
    ScaleProportionally();
    if (d_.spec().paused()) Cleanup();
    status_ = CalculateStatus(d_, status_, Views(All()), new_ ? &new_->rs() : nullptr, now_);
  }

  void RolloutRolling() {
    FindNewAndSyncRevision(true);
    if (!ReconcileNewReplicaSet() && !ReconcileOldReplicaSets() && DeploymentComplete(d_, status_)) {
      Cleanup();
    }
    SyncRolloutStatus();
  }

  bool ReconcileNewReplicaSet() {
    if (new_->replicas() == R()) return false;
    if (new_->replicas() > R()) return ScaleAndRecord(new_, R());
    return ScaleAndRecord(new_, NewReplicasFor(*new_));
  }

  bool ReconcileOldReplicaSets() {
    std::vector<Set*> old = Old();
    if (SpecReplicas(Views(old)) == 0) return false;
    int32_t all_pods = SpecReplicas(Views(All()));
    int32_t min_available = R() - MaxUnavailable(d_);
    int32_t new_unavailable = new_->replicas() - new_->available();
    int32_t max_scaled_down = all_pods - min_available - new_unavailable;
    if (max_scaled_down <= 0) return false;
    std::vector<Set*> active_old = Active(old);
    int32_t cleaned = CleanupUnhealthyReplicas(active_old, max_scaled_down);
    int32_t scaled = ScaleDownOldForRollingUpdate(active_old);
    return cleaned + scaled > 0;
  }

  // Old pods that are not available go first: removing them costs no availability.
  int32_t CleanupUnhealthyReplicas(std::vector<Set*> old, int32_t max_cleanup) {
    SortBy(&old, CreatedBefore);
    int32_t total = 0;
    for (Set* s : old) {
      if (total >= max_cleanup) break;
      if (s->replicas() == 0 || s->replicas() == s->available()) continue;
      int32_t down = std::min(max_cleanup - total, s->replicas() - s->available());
      ScaleAndRecord(s, s->replicas() - down);
      total += down;
    }
    return total;
  }

  int32_t ScaleDownOldForRollingUpdate(std::vector<Set*> old) {
    int32_t min_available = R() - MaxUnavailable(d_);
    std::vector<Set*> counted = old;
    counted.push_back(new_);
    int32_t available = AvailableReplicas(Views(counted));
    if (available <= min_available) return 0;
    SortBy(&old, CreatedBefore);
    int32_t total = available - min_available, done = 0;
    for (Set* s : old) {
      if (done >= total) break;
      if (s->replicas() == 0) continue;
      int32_t down = std::min(s->replicas(), total - done);
      ScaleAndRecord(s, s->replicas() - down);
      done += down;
    }
    return done;
  }

  void RolloutRecreate() {
    FindNewAndSyncRevision(false);
    bool scaled_down = false;
    for (Set* s : Active(Old())) scaled_down |= ScaleAndRecord(s, 0);
    // The new pods start only once the old ones are gone (their sets' status says
    // so, written with the pods' deletion).
    if (!scaled_down && ActualReplicas(Views(Old())) == 0) {
      FindNewAndSyncRevision(true);
      ScaleAndRecord(new_, R());
      if (DeploymentComplete(d_, status_)) Cleanup();
    }
    SyncRolloutStatus();
  }

  // ---- history, status ----

  void Cleanup() {
    if (!d_.spec().has_revision_history_limit()) return;
    std::vector<Set*> cleanable = Old();
    int32_t diff = static_cast<int32_t>(cleanable.size()) - d_.spec().revision_history_limit();
    if (diff <= 0) return;
    SortBy(&cleanable, LowerRevision);
    for (int32_t i = 0; i < diff; ++i) {
      Set* s = cleanable[i];
      // Only an empty set whose status has caught up with its spec.
      if (s->rs().status().replicas() != 0 || s->replicas() != 0 ||
          s->rs().metadata().generation() > s->rs().status().observed_generation()) {
        continue;
      }
      s->removed = true;
    }
  }

  void SyncRolloutStatus() {
    status_ = RolloutStatus(d_, status_, Views(All()), new_ ? &new_->rs() : nullptr, now_,
                            &plan_.requeue_after);
  }

  void CheckPausedConditions() {
    if (!HasDeadline()) return;
    const v1::DeploymentCondition* c = FindCondition(status_, "Progressing");
    if (c != nullptr && c->reason() == kTimedOutReason) return;  // keep the timeout visible
    bool paused_shown = c != nullptr && c->reason() == kPausedReason;
    if (d_.spec().paused() && !paused_shown) {
      SetCondition(&status_, NewCondition("Progressing", "Unknown", kPausedReason, "Deployment is paused", now_));
    } else if (!d_.spec().paused() && paused_shown) {
      SetCondition(&status_, NewCondition("Progressing", "Unknown", kResumedReason, "Deployment is resumed", now_));
    }
  }

  DeploymentPlan Finish() {
    for (Set& s : sets_) {
      if (s.removed) {
        if (!s.created) plan_.remove.push_back(s.object);
      } else if (s.created) {
        s.rs().mutable_metadata()->clear_creation_timestamp();
        plan_.create = s.object;
      } else if (s.changed) {
        plan_.update.push_back(s.object);
      }
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(status_, d_.status())) plan_.status = status_;
    return std::move(plan_);
  }

  const v1::Object& object_;
  const v1::Deployment& d_;
  const absl::Time now_;
  std::deque<Set> sets_;
  Set* new_ = nullptr;
  v1::DeploymentStatus status_;  // the working status: conditions change along the way
  DeploymentPlan plan_;
};

}  // namespace

DeploymentPlan PlanDeployment(const v1::Object& deployment, const std::vector<ObjectPtr>& replica_sets,
                              absl::Time now) {
  return Planner(deployment, replica_sets, now).Plan();
}

}  // namespace reef::reconcile
