// kill -9 right after a successful apply: nothing acknowledged is lost.

#include <doctest/doctest.h>

#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

TEST_CASE("kill -9 right after apply loses nothing acknowledged") {
  TempDir dir;
  std::string data = dir.path() + "/data";
  std::string manifest;
  constexpr int kObjects = 40;
  for (int i = 0; i < kObjects; ++i) {
    manifest += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-" + std::to_string(i) +
                "}\ndata: {i: \"" + std::to_string(i) + "\"}\n";
  }
  std::string rv_before;
  for (int round = 0; round < 3; ++round) {
    Controller controller(data);
    // Each round: apply (acknowledged), then kill -9 at once.
    RunResult r = controller.Ctl({"apply", "-f", "-"}, manifest);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    RunResult single = controller.Ctl({"apply", "-f", "-"},
                                      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: last}\ndata: {round: \"" +
                                          std::to_string(round) + "\"}\n");
    REQUIRE(single.exit_code == 0);
    controller.Kill9();

    Controller restarted(data);
    RunResult list = restarted.Ctl({"get", "cm", "-o", "name"});
    REQUIRE_MESSAGE(list.exit_code == 0, list.err);
    int count = 0;
    for (char ch : list.out) count += ch == '\n';
    CHECK(count == kObjects + 1);
    RunResult last = restarted.Ctl({"get", "cm", "last", "-o", "yaml"});
    CHECK(last.out.find("round: \"" + std::to_string(round) + "\"") != std::string::npos);
    // The revision keeps counting up across restarts (resourceVersions never repeat).
    std::string rv = YamlField(last.out, "resourceVersion");
    if (!rv_before.empty()) CHECK(std::stoll(rv) > std::stoll(rv_before));
    rv_before = rv;
    restarted.Kill9();
  }
}

}  // namespace
}  // namespace reef::testing
