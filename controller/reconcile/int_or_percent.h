#pragma once
// Kubernetes' IntOrString for maxSurge / maxUnavailable: "3" or "25%" of a total.

#include <cstdint>
#include <string_view>

namespace reef::reconcile {

// "25%" of `total`, rounded up or down as asked; "3" is 3 whatever the total.
// Validation has already refused anything else; such a value counts as 0 here.
int32_t ScaledValue(std::string_view value, int32_t total, bool round_up);

// Deployments: maxSurge rounds up, maxUnavailable down, and if both come out 0,
// maxUnavailable is 1 so that a rollout can make progress (Kubernetes'
// ResolveFenceposts).
struct Fenceposts {
  int32_t max_surge = 0;
  int32_t max_unavailable = 0;
};
Fenceposts ResolveFenceposts(std::string_view max_surge, std::string_view max_unavailable,
                             int32_t desired);

}  // namespace reef::reconcile
