// `reefctl get -w` sees changes made by another reefctl, and resumes across a
// controller restart.

#include <doctest/doctest.h>

#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

constexpr auto kWait = std::chrono::seconds(15);

auto StartsWith(std::string prefix) {
  return [prefix](const std::string& line) { return line.rfind(prefix, 0) == 0; };
}

TEST_CASE("get -w sees a change made by another reefctl") {
  TestCluster c;
  REQUIRE(c.Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before}\n").exit_code == 0);
  Process watch = c.controller->StartCtl({"get", "cm", "-w"});
  REQUIRE(watch.WaitForLine(StartsWith("NAME"), kWait));
  REQUIRE(watch.WaitForLine(StartsWith("before "), kWait));

  REQUIRE(c.Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\ndata: {a: b}\n").exit_code == 0);
  auto added = watch.WaitForLine(StartsWith("after "), kWait);
  REQUIRE_MESSAGE(added, watch.Stderr());
  CHECK(added->find(" 1 ") != std::string::npos);  // DATA column

  REQUIRE(c.Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\ndata: {a: b, c: d}\n").exit_code == 0);
  auto modified = watch.WaitForLine(StartsWith("after "), kWait);
  REQUIRE(modified);
  CHECK(modified->find(" 2 ") != std::string::npos);

  REQUIRE(c.Ctl({"delete", "cm", "before"}).exit_code == 0);
  CHECK(watch.WaitForLine(StartsWith("before "), kWait));

  // Other kinds and namespaces stay out of this watch.
  REQUIRE(c.Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n"
                                      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: elsewhere, namespace: other}\n").exit_code == 0);
  REQUIRE(c.Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: last}\n").exit_code == 0);
  REQUIRE(watch.WaitForLine(StartsWith("last "), kWait));
  for (const auto& line : watch.lines()) CHECK(line.find("elsewhere") == std::string::npos);
}

TEST_CASE("get -w -o yaml of one object, resuming after a controller restart") {
  TempDir dir;
  std::string data = dir.path() + "/data";
  auto controller = std::make_unique<Controller>(data);
  REQUIRE(controller->Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {v: '1'}\n").exit_code == 0);
  Process watch = controller->StartCtl({"get", "cm", "cfg", "-w", "-o", "yaml"});
  REQUIRE(watch.WaitForLine(StartsWith("  v: \"1\""), kWait));

  // The controller goes away and comes back on the same data, on a new port: the
  // watch cannot follow a new port, so restart on the old address is what matters.
  std::string address = controller->address();
  controller->Kill9();
  controller.reset();
  // Restarting on the exact address: reef-controller takes --listen as given.
  Process restarted = Process::Start({BinaryPath("reef-controller"), "--data-dir", data, "--listen", address});
  REQUIRE_MESSAGE(restarted.WaitForLine(StartsWith("listening on"), kWait), restarted.Stderr());
  std::vector<std::string> apply = ReefctlWithConfig(data + "/admin.conf");
  apply.insert(apply.end(), {"apply", "-f", "-"});
  RunResult r = Run(apply, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {v: '2'}\n",
                    std::chrono::seconds(60), IsolatedEnv());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto line = watch.WaitForLine(StartsWith("  v: \"2\""), std::chrono::seconds(30));
  CHECK_MESSAGE(line, "watch output: ", watch.Output(), " stderr: ", watch.Stderr());
}

}  // namespace
}  // namespace reef::testing
