// reefctl cordon NODE... / uncordon NODE...: mark nodes unschedulable or schedulable
// again (spec.unschedulable). Pods already on a node stay; `drain` moves them.

#include "cli/cordon.h"

#include "api/manifest/object.h"
#include "cli/commands.h"
#include "cli/update.h"

namespace reef::cli {

absl::Status SetUnschedulable(Client& client, const std::string& node, bool unschedulable) {
  ASSIGN_OR_RETURN(UpdateResult result,
                   UpdateObject(client, "Node", "", node,
                                [unschedulable](v1::Object& object) -> absl::StatusOr<bool> {
                                  v1::NodeSpec* spec = object.mutable_node()->mutable_spec();
                                  if (spec->unschedulable() == unschedulable) return false;
                                  spec->set_unschedulable(unschedulable);
                                  return true;
                                }));
  std::cout << manifest::ResourceName(result.object) << (result.changed ? " " : " already ")
            << (unschedulable ? "cordoned" : "uncordoned") << "\n";
  return absl::OkStatus();
}

namespace {

int RunCordon(const std::vector<std::string>& nodes, bool unschedulable,
              const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  int exit_code = 0;
  for (const std::string& node : nodes) {
    absl::Status s = SetUnschedulable(**client, node, unschedulable);
    if (!s.ok()) exit_code = PrintError(s);
  }
  return exit_code;
}

void Setup(CLI::App& root, CommandContext& ctx, const char* verb, const char* help,
           bool unschedulable) {
  auto nodes = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = root.add_subcommand(verb, help);
  cmd->add_option("nodes", *nodes, "node names")->required();
  cmd->callback([nodes, unschedulable, &ctx] {
    ctx.exit_code = RunCordon(*nodes, unschedulable, ctx.globals);
  });
}

}  // namespace

void SetupCordon(CLI::App& root, CommandContext& ctx) {
  Setup(root, ctx, "cordon", "Mark nodes unschedulable: no new pods go there", true);
}

void SetupUncordon(CLI::App& root, CommandContext& ctx) {
  Setup(root, ctx, "uncordon", "Mark nodes schedulable again", false);
}

}  // namespace reef::cli
