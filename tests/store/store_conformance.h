#pragma once
// The Store conformance suite, in the manner of containerd's snapshotter test suite
// (core/snapshots/testsuite/testsuite.go): one set of behaviours, taken from the
// contract in controller/store/store.h, run against any implementation through a
// factory. A backend's test is a few lines:
//
//   TEST_CASE("Store conformance: SQLite") {
//     reef::store::testing::RunStoreConformance([](const reef::Clock* clock) { ... });
//   }
//
// Each behaviour is a doctest SUBCASE, and doctest re-runs the calling TEST_CASE once
// per subcase, so the factory is called for every one and must return a fresh, empty
// store. The store must read time from `clock` (a FakeClock that outlives it).
// Watch delivery may be asynchronous: the suite waits for events (up to a few
// seconds) and proves an absence of events with a later change that does arrive.

#include <functional>
#include <memory>

#include "common/clock.h"
#include "controller/store/store.h"

namespace reef::store::testing {

using StoreFactory = std::function<std::unique_ptr<Store>(const Clock* clock)>;

// Runs every behaviour of the Store contract as a SUBCASE of the calling TEST_CASE.
void RunStoreConformance(const StoreFactory& factory);

}  // namespace reef::store::testing
