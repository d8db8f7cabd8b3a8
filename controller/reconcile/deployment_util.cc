#include "controller/reconcile/deployment_util.h"

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/numbers.h"
#include "controller/reconcile/int_or_percent.h"
#include "controller/reconcile/pods.h"

namespace reef::reconcile {

int32_t Replicas(const v1::Deployment& d) { return d.spec().has_replicas() ? d.spec().replicas() : 1; }
int32_t Replicas(const v1::ReplicaSet& rs) { return rs.spec().has_replicas() ? rs.spec().replicas() : 1; }

int64_t Revision(const v1::ReplicaSet& rs) {
  auto it = rs.metadata().annotations().find(kRevisionAnnotation);
  int64_t n = 0;
  if (it == rs.metadata().annotations().end() || !absl::SimpleAtoi(it->second, &n)) return 0;
  return n;
}

bool IsRollingUpdate(const v1::Deployment& d) {
  return d.spec().strategy().type().empty() || d.spec().strategy().type() == "RollingUpdate";
}

int32_t MaxSurge(const v1::Deployment& d) {
  if (!IsRollingUpdate(d)) return 0;
  const auto& ru = d.spec().strategy().rolling_update();
  return ResolveFenceposts(ru.max_surge(), ru.max_unavailable(), Replicas(d)).max_surge;
}

int32_t MaxUnavailable(const v1::Deployment& d) {
  if (!IsRollingUpdate(d) || Replicas(d) == 0) return 0;
  const auto& ru = d.spec().strategy().rolling_update();
  int32_t n = ResolveFenceposts(ru.max_surge(), ru.max_unavailable(), Replicas(d)).max_unavailable;
  return std::min(n, Replicas(d));
}

bool EqualIgnoringHash(const v1::PodTemplateSpec& a, const v1::PodTemplateSpec& b) {
  v1::PodTemplateSpec ca = a, cb = b;
  ca.mutable_metadata()->mutable_labels()->erase(kPodTemplateHashLabel);
  cb.mutable_metadata()->mutable_labels()->erase(kPodTemplateHashLabel);
  return google::protobuf::util::MessageDifferencer::Equals(ca, cb);
}

bool ReplicasAnnotationsNeedUpdate(const v1::ReplicaSet& rs, int32_t desired, int32_t max) {
  const auto& a = rs.metadata().annotations();
  auto d = a.find(kDesiredReplicasAnnotation);
  auto m = a.find(kMaxReplicasAnnotation);
  return d == a.end() || d->second != std::to_string(desired) || m == a.end() ||
         m->second != std::to_string(max);
}

bool SetReplicasAnnotations(v1::ReplicaSet* rs, int32_t desired, int32_t max) {
  if (!ReplicasAnnotationsNeedUpdate(*rs, desired, max)) return false;
  auto* a = rs->mutable_metadata()->mutable_annotations();
  (*a)[kDesiredReplicasAnnotation] = std::to_string(desired);
  (*a)[kMaxReplicasAnnotation] = std::to_string(max);
  return true;
}

bool DesiredReplicasAnnotation(const v1::ReplicaSet& rs, int32_t* out) {
  auto it = rs.metadata().annotations().find(kDesiredReplicasAnnotation);
  return it != rs.metadata().annotations().end() && absl::SimpleAtoi(it->second, out);
}

namespace {

template <typename F>
int32_t Sum(const std::vector<const v1::ReplicaSet*>& sets, F f) {
  int32_t n = 0;
  for (const v1::ReplicaSet* rs : sets) {
    if (rs != nullptr) n += f(*rs);
  }
  return n;
}

}  // namespace

int32_t SpecReplicas(const std::vector<const v1::ReplicaSet*>& sets) {
  return Sum(sets, [](const v1::ReplicaSet& rs) { return Replicas(rs); });
}
int32_t ActualReplicas(const std::vector<const v1::ReplicaSet*>& sets) {
  return Sum(sets, [](const v1::ReplicaSet& rs) { return rs.status().replicas(); });
}
int32_t ReadyReplicas(const std::vector<const v1::ReplicaSet*>& sets) {
  return Sum(sets, [](const v1::ReplicaSet& rs) { return rs.status().ready_replicas(); });
}
int32_t AvailableReplicas(const std::vector<const v1::ReplicaSet*>& sets) {
  return Sum(sets, [](const v1::ReplicaSet& rs) { return rs.status().available_replicas(); });
}

bool CreatedBefore(const v1::ReplicaSet& a, const v1::ReplicaSet& b) {
  absl::Time ta = CreationTime(a.metadata()), tb = CreationTime(b.metadata());
  if (ta != tb) return ta < tb;
  return a.metadata().name() < b.metadata().name();
}

bool LargerThenNewer(const v1::ReplicaSet& a, const v1::ReplicaSet& b) {
  if (Replicas(a) != Replicas(b)) return Replicas(a) > Replicas(b);
  return CreatedBefore(b, a);
}

bool LargerThenOlder(const v1::ReplicaSet& a, const v1::ReplicaSet& b) {
  if (Replicas(a) != Replicas(b)) return Replicas(a) > Replicas(b);
  return CreatedBefore(a, b);
}

bool LowerRevision(const v1::ReplicaSet& a, const v1::ReplicaSet& b) {
  if (Revision(a) != Revision(b)) return Revision(a) < Revision(b);
  return CreatedBefore(a, b);
}

}  // namespace reef::reconcile
