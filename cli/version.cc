// reefctl version [--client]

#include "cli/commands.h"
#include "common/version.h"

namespace reef::cli {
namespace {

int RunVersion(bool client_only, const GlobalOptions& globals) {
  std::cout << "Client Version: " << kVersion << " (commit " << kGitCommit << ", " << kPlatform << ")\n";
  if (client_only) return 0;
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  v1::VersionResponse response;
  auto ctx = (*client)->Context();
  grpc::Status status = (*client)->api().Version(ctx.get(), v1::VersionRequest(), &response);
  if (!status.ok()) return PrintError((*client)->Explain(status, "version"));
  std::cout << "Server Version: " << response.version() << " (commit " << response.git_commit()
            << ", " << response.platform() << ") at " << (*client)->server() << ", revision "
            << response.revision() << "\n";
  return 0;
}

}  // namespace

void SetupVersion(CLI::App& root, CommandContext& ctx) {
  auto client_only = std::make_shared<bool>(false);
  CLI::App* cmd = root.add_subcommand("version", "Print the client and server versions");
  cmd->add_flag("--client", *client_only, "only the client's version");
  cmd->callback([client_only, &ctx] { ctx.exit_code = RunVersion(*client_only, ctx.globals); });
}

}  // namespace reef::cli
