#pragma once
// Test fixtures that run the real binaries: a reef-controller on 127.0.0.1 port 0
// with its own data dir, and reefctl pointed at it over TLS with the admin
// credential the controller writes (DATA_DIR/admin.conf). Everything is cleaned up
// when the fixture goes away, also when an assertion fails.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/source_tree.h"

namespace reef::testing {

class Controller {
 public:
  // Starts reef-controller on `data_dir` (kept by the caller, so that a restart can
  // reuse it) with `extra_args` (--tls-san, --node-cert-validity, ...) and waits
  // until it listens. Throws with the controller's stderr when it does not come up.
  explicit Controller(const std::string& data_dir, const std::vector<std::string>& extra_args = {});
  ~Controller() = default;

  const std::string& address() const { return address_; }
  const std::string& data_dir() const { return data_dir_; }
  // DATA_DIR/admin.conf and DATA_DIR/node-token.
  std::string admin_config() const { return data_dir_ + "/admin.conf"; }
  std::string node_token_file() const { return data_dir_ + "/node-token"; }
  // The controller's stdout and stderr (its log) so far.
  std::string Stdout() { return process_.Output(); }
  std::string Log() { return process_.Stderr(); }
  // Runs reefctl against this controller with the admin credential.
  RunResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") const;
  // Starts a long-running reefctl (get -w) against this controller.
  Process StartCtl(const std::vector<std::string>& args) const;
  void Kill9();
  // SIGTERM, and the exit code.
  int Stop();

 private:
  std::string data_dir_;
  Process process_;
  std::string address_;
};

// A controller with a fresh temporary data dir.
struct TestCluster {
  TempDir dir;
  std::unique_ptr<Controller> controller;
  // `controller_args`: extra reef-controller flags ("--controllers=-*" for a
  // controller that only serves the API, with no control loop writing).
  explicit TestCluster(const std::vector<std::string>& controller_args = {});
  RunResult Ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") const {
    return controller->Ctl(args, stdin_data);
  }
  // Writes `content` to a file in the temp dir and returns its path.
  std::string WriteFile(const std::string& name, const std::string& content) const;
};

// The argv prefix that runs reefctl with `config` ({reefctl, --config, config}), and
// an environment where nothing else points it anywhere (no $HOME config,
// REEFCONFIG or REEF_SERVER).
std::vector<std::string> ReefctlWithConfig(const std::string& config);
EnvList IsolatedEnv();

// reefctl with no server flag, for tests of how it finds (or fails to find) one.
RunResult Reefctl(const std::vector<std::string>& args, const std::string& stdin_data = "",
                  const EnvList& env = {});

// The value of the first "key: value" line in YAML text, without quotes ("" if none).
std::string YamlField(const std::string& yaml, const std::string& key);

// How many objects of a kind a `get KIND -A -o name` lists (to prove nothing was
// written). Fails the test when the command fails.
int CountObjects(const TestCluster& cluster, const std::string& kind);

}  // namespace reef::testing
