#pragma once
// Facts about pods that several loops need, phrased as Kubernetes' podutil phrases
// them: active, ready, available, what they request.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "api/manifest/well_known.h"
#include "reef/v1/api.pb.h"

namespace reef::reconcile {

using manifest::kControllerRevisionHashLabel;
using manifest::kPodTemplateHashLabel;

// Not finished: neither Succeeded nor Failed. Only active pods count as replicas.
bool IsActive(const v1::Pod& pod);
// The Ready condition is True (the agent's readiness probes pass).
bool IsReady(const v1::Pod& pod);
// When the Ready condition last changed, if the agent said.
std::optional<absl::Time> ReadySince(const v1::Pod& pod);
// Ready for at least minReadySeconds (Kubernetes' IsPodAvailable).
bool IsAvailable(const v1::Pod& pod, int32_t min_ready_seconds, absl::Time now);
// How long until a ready pod becomes available; zero if it is, or never will be.
absl::Duration UntilAvailable(const v1::Pod& pod, int32_t min_ready_seconds, absl::Time now);

// metadata.creationTimestamp, or the infinite past when missing or unreadable.
absl::Time CreationTime(const v1::ObjectMeta& meta);

// What a pod asks of its node, as the scheduler counts it: the larger of the sum over
// its containers and the largest init container (they run one after the other).
struct Requests {
  int64_t milli_cpu = 0;
  int64_t memory = 0;  // bytes
};
Requests PodRequests(const v1::PodSpec& spec);

// "<base>-<5 random characters>", like Kubernetes' generateName: the characters are
// Kubernetes' (lowercase consonants and digits, so no words), the base cut to keep
// the name a valid 63-character label.
std::string GenerateName(std::string_view base, absl::BitGen& rng);

// Sets (or replaces) a pod condition; the transition time changes only with the
// status. Returns whether anything changed.
bool SetPodCondition(v1::PodStatus* status, std::string_view type, std::string_view value,
                     std::string_view reason, std::string_view message, absl::Time now);
const v1::PodCondition* FindPodCondition(const v1::PodStatus& status, std::string_view type);

}  // namespace reef::reconcile
