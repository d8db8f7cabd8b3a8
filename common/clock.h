#pragma once
// Time as Reef sees it: a Clock seam so that timing logic (ages, backoff, leases) can
// be tested with a fake clock, and the RFC 3339 form Kubernetes uses on the wire.

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/status.h"

namespace reef {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide real clock.
  static const Clock& Real();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() const override;
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// "2026-12-03T13:03:02Z": whole seconds in UTC, as Kubernetes writes timestamps.
std::string FormatTimestamp(absl::Time t);
absl::StatusOr<absl::Time> ParseTimestamp(std::string_view text);

// kubectl's compact ages: "45s", "5m30s", "3h", "2d4h", "400d".
std::string HumanDuration(absl::Duration d);

}  // namespace reef
