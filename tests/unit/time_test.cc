#include <doctest/doctest.h>

#include <string>

#include "absl/time/time.h"
#include "common/clock.h"

namespace reef {
namespace {

TEST_CASE("FormatTimestamp writes whole seconds in UTC") {
  CHECK(FormatTimestamp(absl::FromUnixSeconds(0)) == "1970-01-01T00:00:00Z");
  CHECK(FormatTimestamp(absl::FromUnixSeconds(1'700'000'000)) == "2023-11-14T22:13:20Z");
  // Sub-seconds are dropped, as Kubernetes' metav1.Time does.
  CHECK(FormatTimestamp(absl::FromUnixSeconds(1'700'000'000) + absl::Milliseconds(999)) ==
        "2023-11-14T22:13:20Z");
}

TEST_CASE("ParseTimestamp reads RFC 3339") {
  auto t = ParseTimestamp("2023-11-14T22:13:20Z");
  REQUIRE(t.ok());
  CHECK(*t == absl::FromUnixSeconds(1'700'000'000));

  // Offsets and fractions, as other tools write them.
  t = ParseTimestamp("2023-11-14T23:13:20+01:00");
  REQUIRE(t.ok());
  CHECK(*t == absl::FromUnixSeconds(1'700'000'000));
  t = ParseTimestamp("2023-11-14T22:13:20.250Z");
  REQUIRE(t.ok());
  CHECK(*t == absl::FromUnixSeconds(1'700'000'000) + absl::Milliseconds(250));

  for (std::string bad : {"", "yesterday", "2023-11-14", "2023-11-14 22:13:20",
                          "2023-11-14T22:13:20", "2023-13-01T00:00:00Z", "1700000000"}) {
    INFO(bad);
    auto r = ParseTimestamp(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    std::string msg(r.status().message());
    CHECK(msg.rfind("timestamp \"" + bad + "\": not RFC 3339", 0) == 0);
  }
}

TEST_CASE("FormatTimestamp and ParseTimestamp round trip") {
  for (int64_t s : {int64_t{0}, int64_t{1}, int64_t{951'782'400} /* 2000-02-29 */,
                    int64_t{1'700'000'000}, int64_t{4'102'444'799} /* 2099-12-31T23:59:59 */}) {
    absl::Time t = absl::FromUnixSeconds(s);
    std::string text = FormatTimestamp(t);
    auto back = ParseTimestamp(text);
    REQUIRE(back.ok());
    CHECK(*back == t);
    CHECK(FormatTimestamp(*back) == text);
  }
  CHECK(FormatTimestamp(absl::FromUnixSeconds(951'782'400)) == "2000-02-29T00:00:00Z");
}

TEST_CASE("HumanDuration reads as kubectl's ages") {
  using absl::Hours;
  using absl::Minutes;
  using absl::Seconds;
  const absl::Duration day = Hours(24);
  const absl::Duration year = day * 365;
  struct Case {
    absl::Duration d;
    std::string text;
  };
  for (const Case& c : {
           Case{Seconds(0), "0s"},
           Case{Seconds(1), "1s"},
           Case{Seconds(45), "45s"},
           Case{Seconds(119), "119s"},
           Case{Seconds(120), "2m"},
           Case{Seconds(121), "2m1s"},
           Case{Minutes(5) + Seconds(30), "5m30s"},
           Case{Minutes(9) + Seconds(59), "9m59s"},
           Case{Minutes(10), "10m"},
           Case{Minutes(10) + Seconds(59), "10m"},
           Case{Minutes(179) + Seconds(59), "179m"},
           Case{Hours(3), "3h"},
           Case{Hours(3) + Minutes(1), "3h1m"},
           Case{Hours(7) + Minutes(59) + Seconds(59), "7h59m"},
           Case{Hours(8), "8h"},
           Case{Hours(8) + Minutes(30), "8h"},
           Case{Hours(47) + Minutes(59), "47h"},
           Case{Hours(48), "2d"},
           Case{day * 2 + Hours(4), "2d4h"},
           Case{day * 7 + Hours(23), "7d23h"},
           Case{day * 8, "8d"},
           Case{day * 8 + Hours(23), "8d"},
           Case{day * 400, "400d"},
           Case{day * 729 + Hours(23), "729d"},
           Case{day * 730, "2y"},
           Case{year * 3 + day * 40, "3y40d"},
           Case{year * 7 + day * 364, "7y364d"},
           Case{year * 8, "8y"},
           Case{year * 100 + day * 100, "100y"},
       }) {
    INFO(c.text);
    CHECK(HumanDuration(c.d) == c.text);
  }
}

TEST_CASE("HumanDuration tolerates small clock skew") {
  // A timestamp a second in the future reads as now; more than that is invalid.
  CHECK(HumanDuration(absl::Milliseconds(-500)) == "0s");
  CHECK(HumanDuration(absl::Seconds(-1)) == "0s");
  CHECK(HumanDuration(absl::Milliseconds(-1999)) == "0s");
  CHECK(HumanDuration(absl::Seconds(-2)) == "<invalid>");
  CHECK(HumanDuration(absl::Hours(-5)) == "<invalid>");
  // Fractions of a second are truncated.
  CHECK(HumanDuration(absl::Milliseconds(1999)) == "1s");
}

TEST_CASE("FakeClock moves only when told to") {
  FakeClock clock;
  CHECK(clock.Now() == absl::FromUnixSeconds(1'700'000'000));
  CHECK(clock.Now() == clock.Now());
  clock.Advance(absl::Seconds(5));
  CHECK(clock.Now() == absl::FromUnixSeconds(1'700'000'005));
  clock.Advance(absl::Milliseconds(1500));
  CHECK(clock.Now() == absl::FromUnixSeconds(1'700'000'006) + absl::Milliseconds(500));
  CHECK(HumanDuration(clock.Now() - absl::FromUnixSeconds(1'700'000'000)) == "6s");

  FakeClock at_epoch(absl::UnixEpoch());
  at_epoch.Advance(absl::Hours(24 * 365));
  CHECK(FormatTimestamp(at_epoch.Now()) == "1971-01-01T00:00:00Z");

  // Usable through the interface, like the real clock.
  const Clock& as_clock = clock;
  CHECK(as_clock.Now() == clock.Now());
  absl::Time before = absl::Now();
  absl::Time real = Clock::Real().Now();
  CHECK(real >= before);
  CHECK(real - before < absl::Seconds(5));
}

}  // namespace
}  // namespace reef
