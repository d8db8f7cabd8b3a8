#include "common/clock.h"

#include "absl/strings/str_format.h"

namespace reef {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

const Clock& Clock::Real() {
  static const RealClock* clock = new RealClock();
  return *clock;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

std::string FormatTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseTimestamp(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("timestamp \"%s\": not RFC 3339 (%s)", text, err));
  }
  return t;
}

// Follows kubectl's duration.HumanDuration so that ages read the same in both tools.
std::string HumanDuration(absl::Duration d) {
  int64_t seconds = absl::ToInt64Seconds(d);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return absl::StrFormat("%ds", seconds);
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? absl::StrFormat("%dm", minutes) : absl::StrFormat("%dm%ds", minutes, s);
  }
  if (minutes < 60 * 3) return absl::StrFormat("%dm", minutes);
  int64_t hours = minutes / 60;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? absl::StrFormat("%dh", hours) : absl::StrFormat("%dh%dm", hours, m);
  }
  if (hours < 48) return absl::StrFormat("%dh", hours);
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? absl::StrFormat("%dd", hours / 24)
                  : absl::StrFormat("%dd%dh", hours / 24, h);
  }
  if (hours < 24 * 365 * 2) return absl::StrFormat("%dd", hours / 24);
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return dy == 0 ? absl::StrFormat("%dy", hours / 24 / 365)
                   : absl::StrFormat("%dy%dd", hours / 24 / 365, dy);
  }
  return absl::StrFormat("%dy", hours / 24 / 365);
}

}  // namespace reef
