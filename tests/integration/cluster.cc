#include "tests/integration/cluster.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <stdexcept>

namespace reef::testing {

namespace {

std::vector<std::string> ControllerArgv(const std::string& data_dir, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {BinaryPath("reef-controller"), "--data-dir", data_dir, "--listen",
                                   "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

}  // namespace

std::vector<std::string> ReefctlWithConfig(const std::string& config) {
  return {BinaryPath("reefctl"), "--config", config};
}

EnvList IsolatedEnv() { return {{"HOME", "/nonexistent"}, {"REEF_SERVER", ""}, {"REEFCONFIG", ""}}; }

Controller::Controller(const std::string& data_dir, const std::vector<std::string>& extra_args)
    : data_dir_(data_dir), process_(Process::Start(ControllerArgv(data_dir, extra_args))) {
  auto line = process_.WaitForLine(
      [](const std::string& l) { return l.rfind("listening on ", 0) == 0; }, std::chrono::seconds(20));
  if (!line) {
    throw std::runtime_error("reef-controller did not start: " + process_.Stderr());
  }
  address_ = line->substr(std::string("listening on ").size());
}

RunResult Controller::Ctl(const std::vector<std::string>& args, const std::string& stdin_data) const {
  std::vector<std::string> argv = ReefctlWithConfig(admin_config());
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, stdin_data, std::chrono::seconds(60), IsolatedEnv());
}

Process Controller::StartCtl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = ReefctlWithConfig(admin_config());
  argv.insert(argv.end(), args.begin(), args.end());
  return Process::Start(argv, IsolatedEnv());
}

void Controller::Kill9() {
  process_.Signal(SIGKILL);
  process_.Wait(std::chrono::seconds(10));
}

int Controller::Stop() {
  process_.Signal(SIGTERM);
  return process_.Wait(std::chrono::seconds(20));
}

TestCluster::TestCluster(const std::vector<std::string>& controller_args)
    : controller(std::make_unique<Controller>(dir.path() + "/data", controller_args)) {}

std::string TestCluster::WriteFile(const std::string& name, const std::string& content) const {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

RunResult Reefctl(const std::vector<std::string>& args, const std::string& stdin_data, const EnvList& env) {
  std::vector<std::string> argv = {BinaryPath("reefctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, stdin_data, std::chrono::seconds(60), env);
}

std::string YamlField(const std::string& yaml, const std::string& key) {
  size_t pos = yaml.find(key + ": ");
  if (pos == std::string::npos) return "";
  std::string value = yaml.substr(pos + key.size() + 2);
  value = value.substr(0, value.find('\n'));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return value;
}

int CountObjects(const TestCluster& cluster, const std::string& kind) {
  RunResult r = cluster.Ctl({"get", kind, "-A", "-o", "name"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  int n = 0;
  for (char c : r.out) n += c == '\n';
  return n;
}

}  // namespace reef::testing
