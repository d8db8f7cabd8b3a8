// A micro-benchmark that runs with the suite: pulls of the test image (about 1 MB,
// one layer) from docker-registry on 127.0.0.1 into a fresh store each time, layer
// unpacked. It prints the median of 10; it asserts only that the pulls work (tests never
// assert times). Figures for bench/ come from its output.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_format.h"
#include "tests/support/registry.h"

namespace reef::testing {
namespace {

// Median, min and max of `n` cold pulls, in milliseconds.
std::string TimePulls(const TestRegistry& registry, bool unpack, int n) {
  std::vector<double> millis;
  for (int i = 0; i < n; ++i) {
    ImageStoreUnderTest s(registry.Config(), unpack);
    const auto start = std::chrono::steady_clock::now();
    auto pulled = s.store->Pull(registry.host() + "/busybox:1");
    const auto end = std::chrono::steady_clock::now();
    REQUIRE_MESSAGE(pulled.ok(), pulled.status().ToString());
    millis.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(millis.begin(), millis.end());
  return absl::StrFormat("median %.1f ms (min %.1f, max %.1f)",
                         (millis[n / 2 - 1] + millis[n / 2]) / 2, millis.front(), millis.back());
}

TEST_CASE("bench: cold pull of the test image from a loopback registry, median of 10") {
  TestRegistry registry;
  registry.Push(SharedTestImageLayout(), "1", "busybox", "1");
  MESSAGE("download and verify: ", TimePulls(registry, /*unpack=*/false, 10));
  MESSAGE("download, verify and unpack: ", TimePulls(registry, /*unpack=*/true, 10));
}

}  // namespace
}  // namespace reef::testing
