#pragma once
// A probe's timing and thresholds with Kubernetes' defaults filled in.

#include <string_view>

#include "absl/time/time.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::probes {

enum class ProbeKind { kStartup, kReadiness, kLiveness };

// "Startup", "Readiness", "Liveness": as the kubelet starts its messages
// ("Liveness probe failed: ...").
std::string_view ProbeKindName(ProbeKind kind);

struct ProbeSettings {
  absl::Duration initial_delay;  // from the container's start
  absl::Duration period;
  absl::Duration timeout;
  int success_threshold = 1;
  int failure_threshold = 3;
};

// initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1,
// failureThreshold 3. Unset or out-of-range values (validation should have refused
// them) take the default, as Kubernetes' defaulting does for 0.
ProbeSettings SettingsOf(const reef::v1::Probe& probe);

}  // namespace reef::agent::probes
