// reef-controller: the control plane. Serves the API for reefctl over gRPC and keeps
// the desired state in SQLite under --data-dir.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "common/version.h"
#include "controller/controller.h"

int main(int argc, char** argv) {
  reef::controller::ControllerOptions options;
  CLI::App app{"reef-controller: the Reef control plane"};
  app.add_option("--data-dir", options.data_dir, "where the store lives")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "HOST:PORT to serve on (port 0: any free port)")
      ->capture_default_str();
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::cout << "reef-controller " << reef::kVersion << " (" << reef::kGitCommit << ")\n";
    return 0;
  }

  // Signals are taken synchronously below; block them before gRPC starts threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto controller = reef::controller::Controller::Start(options);
  if (!controller.ok()) {
    std::cerr << "reef-controller: " << controller.status().message() << "\n";
    return 1;
  }
  std::cout << "reef-controller " << reef::kVersion << ": data in " << options.data_dir << "\n"
            << "listening on " << (*controller)->address() << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "reef-controller: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down" << std::endl;
  (*controller)->Shutdown();
  return 0;
}
