// Every manifest in manifests/examples applies, and shows up in reefctl get.

#include <doctest/doctest.h>

#include <filesystem>

#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

TEST_CASE("the examples apply and list") {
  TestCluster c;
  std::string dir = SourceDir() + "/manifests/examples";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  REQUIRE(files.size() >= 4);
  for (const std::string& f : files) {
    RunResult r = c.Ctl({"apply", "-f", f, "--dry-run"});
    CHECK_MESSAGE(r.exit_code == 0, f, ": ", r.err);
  }
  RunResult r = c.Ctl({"apply", "-f", dir});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  for (const char* kind : {"deployment.apps/", "daemonset.apps/", "pod/", "configmap/"}) {
    CHECK_MESSAGE(r.out.find(kind) != std::string::npos, "no ", kind, " in: ", r.out);
  }
  r = c.Ctl({"get", "deploy"});
  CHECK(r.out.find("web") != std::string::npos);
  r = c.Ctl({"get", "ds"});
  CHECK(r.out.find("NAME") == 0);
  r = c.Ctl({"get", "po"});
  CHECK(r.out.find("sensor-reader") != std::string::npos);
  r = c.Ctl({"get", "cm"});
  CHECK(r.out.find("sensor-config") != std::string::npos);
  // Applying again changes nothing.
  r = c.Ctl({"apply", "-f", dir});
  CHECK(r.out.find("configured") == std::string::npos);
  CHECK(r.out.find("created") == std::string::npos);
}

}  // namespace
}  // namespace reef::testing
