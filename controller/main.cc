// reef-controller: the control plane. Serves the API for reefctl over gRPC and keeps
// the desired state in SQLite under --data-dir.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <tuple>

#include "common/version.h"
#include "controller/controller.h"

namespace {

// SIGINT/SIGTERM are turned into a byte on this pipe. A handler (not sigwait with
// blocked signals) because threads that gRPC or its dependencies start on their own
// do not inherit a mask set later, and a signal delivered to one of them would kill
// the process before a clean shutdown.
int g_signal_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  char b = static_cast<char>(sig);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &b, 1);
}

int WaitForSignal() {
  char b = 0;
  while (read(g_signal_pipe[0], &b, 1) < 0) {
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  reef::controller::ControllerOptions options;
  CLI::App app{"reef-controller: the Reef control plane"};
  app.add_option("--data-dir", options.data_dir, "where the store lives")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "HOST:PORT to serve on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--tls-san", options.tls_sans,
                 "an extra IP address or DNS name for the server certificate (repeatable)");
  std::string node_cert_validity = "8760h";
  app.add_option("--node-cert-validity", node_cert_validity,
                 "how long node certificates are valid (e.g. 8760h, 30m, 20s)")
      ->capture_default_str();
  std::string node_lease_duration = "40s";
  app.add_option("--node-lease-duration", node_lease_duration,
                 "a node whose agent is silent this long goes NotReady")
      ->capture_default_str();
  std::string pod_eviction_timeout = "5m";
  app.add_option("--pod-eviction-timeout", pod_eviction_timeout,
                 "pods of a NotReady node are replaced elsewhere after this long (e.g. 5m, 5s)")
      ->capture_default_str();
  app.add_option("--controllers", options.controllers,
                 "control loops to run: * (all), NAME, -NAME, comma-separated (replicaset, "
                 "deployment, daemonset, scheduler, nodelifecycle, garbagecollector)")
      ->capture_default_str();
  app.add_option("--cluster-cidr", options.cluster_cidr,
                 "pod addresses: each node gets a /24 of this for its pods (\"\" for none)")
      ->capture_default_str();
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::cout << "reef-controller " << reef::kVersion << " (" << reef::kGitCommit << ")\n";
    return 0;
  }
  if (!absl::ParseDuration(node_cert_validity, &options.node_cert_validity) ||
      options.node_cert_validity <= absl::ZeroDuration()) {
    std::cerr << "reef-controller: --node-cert-validity \"" << node_cert_validity
              << "\": expected a positive duration such as 8760h, 30m or 20s\n";
    return 1;
  }

  for (auto [flag, text, out] : {std::make_tuple("--node-lease-duration", &node_lease_duration,
                                                &options.node_lease_duration),
                                 std::make_tuple("--pod-eviction-timeout", &pod_eviction_timeout,
                                                &options.pod_eviction_timeout)}) {
    if (!absl::ParseDuration(*text, out) || *out <= absl::ZeroDuration()) {
      std::cerr << "reef-controller: " << flag << " \"" << *text
                << "\": expected a positive duration such as 5m, 40s or 1h\n";
      return 1;
    }
  }

  if (pipe(g_signal_pipe) != 0) return 1;
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto controller = reef::controller::Controller::Start(options);
  if (!controller.ok()) {
    std::cerr << "reef-controller: " << controller.status().message() << "\n";
    return 1;
  }
  std::cout << "reef-controller " << reef::kVersion << ": data in " << options.data_dir << "\n"
            << "admin credential for reefctl: " << (*controller)->admin_config_path()
            << " (reefctl --config FILE, REEFCONFIG=FILE, or copy to ~/.reef/config)\n"
            << "join token for agents: " << (*controller)->node_token_path() << "\n"
            << "listening on " << (*controller)->address() << std::endl;

  int sig = WaitForSignal();
  std::cout << "reef-controller: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down" << std::endl;
  (*controller)->Shutdown();
  return 0;
}
