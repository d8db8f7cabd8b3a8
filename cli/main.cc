// reefctl: the command line for Reef, shaped after kubectl.

#include "cli/commands.h"

int main(int argc, char** argv) {
  reef::cli::CommandContext ctx;
  CLI::App app{
      "reefctl: drive a Reef cluster (apply, get, describe, delete, label, cordon, drain, "
      "token, version)"};
  app.require_subcommand(1);
  app.add_option("--config", ctx.globals.config,
                 "client config with the server and credential (default: $REEFCONFIG, then "
                 "~/.reef/config; the controller writes DATA_DIR/admin.conf)");
  app.add_option("--server", ctx.globals.server,
                 "controller HOST:PORT (default: $REEF_SERVER, then the config's server)");
  app.add_option("-n,--namespace", ctx.globals.namespace_, "the namespace (default: default)");
  app.add_option("--request-timeout", ctx.globals.request_timeout_seconds,
                 "seconds to wait for one request")
      ->capture_default_str();
  app.fallthrough();  // global flags work after the verb too: `reefctl get po -n x`
  for (reef::cli::CommandSetup setup : reef::cli::kCommands) setup(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ctx.exit_code;
}
