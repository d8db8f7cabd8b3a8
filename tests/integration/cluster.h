#pragma once
// Test fixtures that run the real binaries: a reef-controller on 127.0.0.1 port 0
// with its own data dir, and reefctl pointed at it. Everything is cleaned up when the
// fixture goes away, also when an assertion fails.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/source_tree.h"

namespace reef::testing {

class Controller {
 public:
  // Starts reef-controller on `data_dir` (kept by the caller, so that a restart can
  // reuse it) and waits until it listens. Throws with the controller's stderr when it
  // does not come up.
  explicit Controller(const std::string& data_dir);
  ~Controller() = default;

  const std::string& address() const { return address_; }
  // Runs reefctl against this controller.
  RunResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") const;
  // Starts a long-running reefctl (get -w) against this controller.
  Process StartCtl(const std::vector<std::string>& args) const;
  void Kill9();
  // SIGTERM, and the exit code.
  int Stop();

 private:
  Process process_;
  std::string address_;
};

// A controller with a fresh temporary data dir.
struct TestCluster {
  TempDir dir;
  std::unique_ptr<Controller> controller;
  TestCluster();
  RunResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") const {
    return controller->Ctl(args, stdin_data);
  }
  // Writes `content` to a file in the temp dir and returns its path.
  std::string WriteFile(const std::string& name, const std::string& content) const;
};

// reefctl with no server flag, for tests of how it finds (or fails to find) one.
RunResult Reefctl(const std::vector<std::string>& args, const std::string& stdin_data = "",
                  const EnvList& env = {});

// The value of the first "key: value" line in YAML text, without quotes ("" if none).
std::string YamlField(const std::string& yaml, const std::string& key);

// How many objects of a kind a `get KIND -A -o name` lists (to prove nothing was
// written). Fails the test when the command fails.
int CountObjects(const TestCluster& cluster, const std::string& kind);

}  // namespace reef::testing
