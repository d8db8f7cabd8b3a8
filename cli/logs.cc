// reefctl logs POD [-c CONTAINER] [-f] [--tail N]: a container's log, relayed by the
// controller from the agent of the pod's node.

#include "cli/commands.h"

namespace reef::cli {
namespace {

struct LogsOptions {
  std::string pod;
  std::string container;
  bool follow = false;
  int64_t tail = -1;
};

int RunLogs(const LogsOptions& o, const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  v1::LogsRequest request;
  request.set_namespace_(globals.namespace_.empty() ? "default" : globals.namespace_);
  // kubectl accepts "pod/NAME" too.
  request.set_pod(o.pod.rfind("pod/", 0) == 0 ? o.pod.substr(4) : o.pod);
  request.set_container(o.container);
  request.set_follow(o.follow);
  request.set_tail_lines(o.tail);
  // Following has no deadline; a plain read has the usual one.
  auto ctx = o.follow ? (*client)->StreamContext() : (*client)->Context();
  auto reader = (*client)->api().Logs(ctx.get(), request);
  v1::LogsChunk chunk;
  while (reader->Read(&chunk)) {
    std::cout << chunk.data() << std::flush;
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return PrintError((*client)->Explain(status, reef::StrCat("logs ", request.pod())));
  return 0;
}

}  // namespace

void SetupLogs(CLI::App& root, CommandContext& ctx) {
  auto o = std::make_shared<LogsOptions>();
  CLI::App* cmd = root.add_subcommand("logs", "Print the log of a container in a pod");
  cmd->add_option("pod", o->pod, "the pod (NAME or pod/NAME)")->required();
  cmd->add_option("-c,--container", o->container, "the container (default: the pod's only one)");
  cmd->add_flag("-f,--follow", o->follow, "keep printing new lines as they are written");
  cmd->add_option("--tail", o->tail, "only the last N lines (-1: all)");
  cmd->callback([o, &ctx] { ctx.exit_code = RunLogs(*o, ctx.globals); });
}

}  // namespace reef::cli
