// reef-agent: runs the pods of one edge box: static pods from --manifest-dir with no
// controller at all, and, joined to a cluster with --server and --token, the pods the
// controller schedules here. Subcommands inspect the box.

#include <CLI/CLI.hpp>
#include <iostream>

#include "agent/agent.h"
#include "agent/inspect.h"
#include "agent/teardown.h"
#include "agent/node_info.h"
#include "common/strings.h"
#include "common/version.h"

int main(int argc, char** argv) {
  using namespace reef::agent;
  AgentOptions o;
  CLI::App app{"reef-agent: runs the pods of one edge box"};
  app.add_option("--data-dir", o.data_dir, "where the agent keeps images, state and logs")->capture_default_str();
  app.add_option("--manifest-dir", o.manifest_dir, "run the pods in these manifests (static pods)");
  app.add_option("--node-name", o.node_name, "this node's name (default: the hostname)");
  app.add_option("--registries", o.registries, "a registries.yaml (mirrors, credentials)");
  app.add_option("--images-dir", o.images_dir, "import the image tarballs in this folder at start");
  app.add_option("--server", o.server, "the controller, HOST:PORT")->envname("REEF_SERVER");
  app.add_option("--token", o.token, "a join token (REEF1...), to join the cluster on first start")
      ->envname("REEF_TOKEN");
  app.add_option("--node-labels", o.node_labels, "labels for this node: k=v,k2=v2");
  app.add_option("--system-reserved", o.system_reserved, "kept away from pods: cpu=100m,memory=128Mi")
      ->default_str(std::string(kDefaultSystemReserved));
  app.add_option("--pod-cidr", o.pod_cidr,
                 reef::StrCat("pod addresses on this node (default: the controller's, or ", kStandalonePodCidr,
                              " standalone)"));
  app.add_option("--cni-bin-dir", o.cni_bin_dir, "where the CNI plugins are")->capture_default_str();
  app.fallthrough();

  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  auto* images = app.add_subcommand("images", "local images: import, list, rm, gc");
  std::vector<std::string> import_files;
  auto* import = images->add_subcommand("import", "import OCI-layout or docker-archive tarballs");
  import->add_option("files", import_files)->required();
  auto* list = images->add_subcommand("list", "list images");
  std::string rm_ref;
  auto* rm = images->add_subcommand("rm", "remove an image");
  rm->add_option("reference", rm_ref)->required();
  auto* gc = images->add_subcommand("gc", "remove blobs and layers no image uses");
  images->require_subcommand(1);
  auto* ps = app.add_subcommand("ps", "list pods and containers with status, restarts and age");
  std::string log_pod, log_container;
  int tail = -1;
  auto* logs = app.add_subcommand("logs", "print a container's log");
  logs->add_option("pod", log_pod, "NAMESPACE/NAME or NAME (namespace default)")->required();
  logs->add_option("-c,--container", log_container, "the container (default: the only one)");
  logs->add_option("--tail", tail, "only the last N lines");
  auto* teardown = app.add_subcommand(
      "teardown", "with the agent stopped: stop and remove its containers, release their networks, mounts and "
                  "cgroups (state and images stay)");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "reef-agent " << reef::kVersion << " (" << reef::kGitCommit << ", " << reef::kPlatform << ")\n";
    return 0;
  }
  if (*teardown) return Teardown(o);
  if (*images || *ps || *logs) {
    auto m = OpenMachinery(o, false);
    if (!m.ok()) return Fail(m.status());
    if (*import) return ImportImages(*m->images, import_files);
    if (*list) return ListImages(*m->images);
    if (*rm) return RemoveImage(*m->images, rm_ref);
    if (*gc) return CollectGarbage(*m->images, *m->state);
    if (*ps) return PrintPods(*m->state);
    return PrintLogs(*m->state, o.data_dir, log_pod, log_container, tail);
  }
  return RunAgent(std::move(o));
}
