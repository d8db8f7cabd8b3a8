#include "controller/reconcile/deployment_status.h"

#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "controller/reconcile/deployment_util.h"

namespace reef::reconcile {

const v1::DeploymentCondition* FindCondition(const v1::DeploymentStatus& status, std::string_view type) {
  for (const auto& c : status.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

v1::DeploymentCondition NewCondition(std::string_view type, std::string_view status,
                                     std::string_view reason, std::string_view message, absl::Time now) {
  v1::DeploymentCondition c;
  c.set_type(std::string(type));
  c.set_status(std::string(status));
  c.set_reason(std::string(reason));
  c.set_message(std::string(message));
  c.set_last_update_time(FormatTimestamp(now));
  c.set_last_transition_time(FormatTimestamp(now));
  return c;
}

void RemoveCondition(v1::DeploymentStatus* status, std::string_view type) {
  auto* conditions = status->mutable_conditions();
  for (int i = conditions->size() - 1; i >= 0; --i) {
    if ((*conditions)[i].type() == type) conditions->DeleteSubrange(i, 1);
  }
}

void SetCondition(v1::DeploymentStatus* status, v1::DeploymentCondition condition) {
  const v1::DeploymentCondition* current = FindCondition(*status, condition.type());
  if (current != nullptr && current->status() == condition.status() &&
      current->reason() == condition.reason()) {
    return;
  }
  if (current != nullptr && current->status() == condition.status()) {
    condition.set_last_transition_time(current->last_transition_time());
  }
  RemoveCondition(status, condition.type());
  *status->add_conditions() = std::move(condition);
}

v1::DeploymentStatus CalculateStatus(const v1::Deployment& d, const v1::DeploymentStatus& current,
                                     const std::vector<const v1::ReplicaSet*>& all,
                                     const v1::ReplicaSet* new_rs, absl::Time now) {
  int32_t available = AvailableReplicas(all);
  v1::DeploymentStatus s;
  s.set_observed_generation(d.metadata().generation());
  s.set_replicas(ActualReplicas(all));
  s.set_updated_replicas(ActualReplicas({new_rs}));
  s.set_ready_replicas(ReadyReplicas(all));
  s.set_available_replicas(available);
  // More available than asked for happens while scaling down: not negative.
  s.set_unavailable_replicas(std::max(0, SpecReplicas(all) - available));
  if (current.has_collision_count()) s.set_collision_count(current.collision_count());
  *s.mutable_conditions() = current.conditions();
  if (available >= Replicas(d) - MaxUnavailable(d)) {
    SetCondition(&s, NewCondition("Available", "True", "MinimumReplicasAvailable",
                                  "Deployment has minimum availability.", now));
  } else {
    SetCondition(&s, NewCondition("Available", "False", "MinimumReplicasUnavailable",
                                  "Deployment does not have minimum availability.", now));
  }
  return s;
}

bool DeploymentComplete(const v1::Deployment& d, const v1::DeploymentStatus& s) {
  int32_t want = Replicas(d);
  return s.updated_replicas() == want && s.replicas() == want && s.available_replicas() == want &&
         s.observed_generation() >= d.metadata().generation();
}

namespace {

bool Progressing(const v1::DeploymentStatus& before, const v1::DeploymentStatus& after) {
  int32_t old_before = before.replicas() - before.updated_replicas();
  int32_t old_after = after.replicas() - after.updated_replicas();
  return after.updated_replicas() > before.updated_replicas() || old_after < old_before ||
         after.ready_replicas() > before.ready_replicas() ||
         after.available_replicas() > before.available_replicas();
}

// When the rollout runs out of time: progressDeadlineSeconds after the Progressing
// condition last saw progress. Nothing when complete or already timed out.
std::optional<absl::Time> Deadline(const v1::Deployment& d, const v1::DeploymentStatus& s) {
  const v1::DeploymentCondition* c = FindCondition(s, "Progressing");
  if (c == nullptr || c->reason() == kNewReplicaSetAvailableReason || c->reason() == kTimedOutReason) {
    return std::nullopt;
  }
  auto from = ParseTimestamp(c->last_update_time());
  if (!from.ok()) return std::nullopt;
  return *from + absl::Seconds(d.spec().progress_deadline_seconds());
}

}  // namespace

v1::DeploymentStatus RolloutStatus(const v1::Deployment& d, const v1::DeploymentStatus& current,
                                   const std::vector<const v1::ReplicaSet*>& all,
                                   const v1::ReplicaSet* new_rs, absl::Time now,
                                   absl::Duration* requeue_after) {
  v1::DeploymentStatus s = CalculateStatus(d, current, all, new_rs, now);
  bool has_deadline = d.spec().has_progress_deadline_seconds();
  if (!has_deadline) RemoveCondition(&s, "Progressing");
  const v1::DeploymentCondition* cond = FindCondition(current, "Progressing");
  bool already_complete = s.replicas() == s.updated_replicas() && cond != nullptr &&
                          cond->reason() == kNewReplicaSetAvailableReason;
  auto about = [&](std::string_view what) {
    return new_rs != nullptr ? absl::StrFormat("ReplicaSet \"%s\" %s", new_rs->metadata().name(), what)
                             : absl::StrFormat("Deployment \"%s\" %s", d.metadata().name(), what);
  };
  if (has_deadline && !already_complete) {
    if (DeploymentComplete(d, s)) {
      SetCondition(&s, NewCondition("Progressing", "True", kNewReplicaSetAvailableReason,
                                    about("has successfully progressed."), now));
    } else if (Progressing(current, s)) {
      // Progress moves lastUpdateTime (the deadline counts from it) even when the
      // reason stays the same, which SetCondition alone would not do.
      v1::DeploymentCondition c =
          NewCondition("Progressing", "True", kReplicaSetUpdatedReason, about("is progressing."), now);
      if (cond != nullptr && cond->status() == "True") c.set_last_transition_time(cond->last_transition_time());
      RemoveCondition(&s, "Progressing");
      *s.add_conditions() = std::move(c);
    } else if (std::optional<absl::Time> deadline = Deadline(d, s); deadline && *deadline < now) {
      SetCondition(&s, NewCondition("Progressing", "False", kTimedOutReason,
                                    about("has timed out progressing."), now));
    }
  }
  if (std::optional<absl::Time> deadline = Deadline(d, s); deadline && !DeploymentComplete(d, s)) {
    *requeue_after = std::max(*deadline - now, absl::ZeroDuration()) + absl::Seconds(1);
  }
  return s;
}

}  // namespace reef::reconcile
