#include "agent/probes/probe_settings.h"

namespace reef::agent::probes {
namespace {

int OrDefault(bool has, int value, int minimum, int fallback) {
  return has && value >= minimum ? value : fallback;
}

}  // namespace

std::string_view ProbeKindName(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kStartup:
      return "Startup";
    case ProbeKind::kReadiness:
      return "Readiness";
    case ProbeKind::kLiveness:
      return "Liveness";
  }
  return "Unknown";
}

ProbeSettings SettingsOf(const reef::v1::Probe& probe) {
  ProbeSettings s;
  s.initial_delay = absl::Seconds(
      OrDefault(probe.has_initial_delay_seconds(), probe.initial_delay_seconds(), 0, 0));
  s.period = absl::Seconds(OrDefault(probe.has_period_seconds(), probe.period_seconds(), 1, 10));
  s.timeout =
      absl::Seconds(OrDefault(probe.has_timeout_seconds(), probe.timeout_seconds(), 1, 1));
  s.success_threshold =
      OrDefault(probe.has_success_threshold(), probe.success_threshold(), 1, 1);
  s.failure_threshold =
      OrDefault(probe.has_failure_threshold(), probe.failure_threshold(), 1, 3);
  return s;
}

}  // namespace reef::agent::probes
