#include "controller/agents/pod_cidr.h"

#include <doctest/doctest.h>

namespace reef::controller {
namespace {

TEST_CASE("NextPodCidr hands out the lowest free block of the cluster CIDR") {
  CHECK(NextPodCidr("10.42.0.0/16", 24, {}).value() == "10.42.0.0/24");
  CHECK(NextPodCidr("10.42.0.0/16", 24, {"10.42.0.0/24", "10.42.2.0/24"}).value() == "10.42.1.0/24");
  CHECK(NextPodCidr("10.42.0.0/16", 24, {"", "10.42.0.0/24"}).value() == "10.42.1.0/24");
  CHECK(NextPodCidr("192.168.0.0/23", 24, {"192.168.0.0/24"}).value() == "192.168.1.0/24");
}

TEST_CASE("NextPodCidr says when the cluster CIDR is used up") {
  auto full = NextPodCidr("10.0.0.0/23", 24, {"10.0.0.0/24", "10.0.1.0/24"});
  REQUIRE(absl::IsResourceExhausted(full.status()));
  CHECK(std::string(full.status().message()).find("no pod CIDR left") != std::string::npos);
}

TEST_CASE("NextPodCidr and ValidateClusterCidr refuse malformed CIDRs, naming them") {
  for (const char* bad : {"10.42.0.0", "10.42.0.300/16", "10.42.0.1/16", "10.42.0.0/0", "fd00::/64", "x/8"}) {
    CAPTURE(bad);
    absl::Status s = ValidateClusterCidr(bad);
    CHECK(absl::IsInvalidArgument(s));
    CHECK(std::string(s.message()).find(bad) != std::string::npos);
  }
  CHECK(ValidateClusterCidr("10.42.0.0/16").ok());
  CHECK(absl::IsInvalidArgument(NextPodCidr("10.42.0.0/24", 16, {}).status()));
}

}  // namespace
}  // namespace reef::controller
