#include <doctest/doctest.h>

#include <algorithm>

#include "agent/runtime/capabilities.h"

namespace reef::agent::runtime {
namespace {

using Strings = std::vector<std::string>;

Strings Apply(const Strings& add, const Strings& drop) {
  absl::StatusOr<Strings> caps = ApplyCapabilityChanges(add, drop);
  INFO(caps.status().ToString());
  REQUIRE(caps.ok());
  return *caps;
}

bool Has(const Strings& caps, const std::string& cap) {
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

TEST_CASE("the default set is Docker's fourteen, in kernel order") {
  CHECK(Apply({}, {}) == Strings{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
                                 "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
                                 "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
                                 "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"});
  CHECK(DefaultCapabilities().size() == 14);
  CHECK(AllCapabilities().size() == 41);
  CHECK(AllCapabilities().back() == "CAP_CHECKPOINT_RESTORE");
}

TEST_CASE("add and drop accept any case, with or without CAP_") {
  Strings caps = Apply({"net_admin", "CAP_SYS_TIME"}, {"Net_Raw", "CAP_KILL"});
  CHECK(Has(caps, "CAP_NET_ADMIN"));
  CHECK(Has(caps, "CAP_SYS_TIME"));
  CHECK_FALSE(Has(caps, "CAP_NET_RAW"));
  CHECK_FALSE(Has(caps, "CAP_KILL"));
  CHECK(caps.size() == 14);
}

TEST_CASE("ALL: drop everything then add, or add everything but the drops") {
  CHECK(Apply({"NET_BIND_SERVICE"}, {"ALL"}) == Strings{"CAP_NET_BIND_SERVICE"});
  CHECK(Apply({}, {"all"}).empty());
  Strings caps = Apply({"ALL"}, {"SYS_ADMIN"});
  CHECK(caps.size() == 40);
  CHECK_FALSE(Has(caps, "CAP_SYS_ADMIN"));
}

TEST_CASE("an explicit addition wins over a drop of the same capability") {
  CHECK(Has(Apply({"NET_RAW"}, {"NET_RAW"}), "CAP_NET_RAW"));
}

TEST_CASE("an unknown capability names the field and entry") {
  absl::StatusOr<Strings> caps = ApplyCapabilityChanges({"CHOWN", "FLY"}, {});
  CHECK(caps.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(caps.status().message() ==
        "securityContext.capabilities.add[1]: unknown capability \"FLY\"");
}

}  // namespace
}  // namespace reef::agent::runtime
