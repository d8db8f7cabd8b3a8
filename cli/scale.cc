// reefctl scale (deployment/NAME | deployment NAME | replicaset/NAME) --replicas N

#include "api/manifest/object.h"
#include "cli/commands.h"
#include "cli/update.h"

namespace reef::cli {
namespace {

struct ScaleOptions {
  std::vector<std::string> args;
  int32_t replicas = -1;
};

int RunScale(const ScaleOptions& opts, const GlobalOptions& globals) {
  if (opts.replicas < 0) {
    return PrintError(absl::InvalidArgumentError("--replicas=COUNT is required, and COUNT must be >= 0"));
  }
  auto target = ResolveKindAndName(opts.args);
  if (!target.ok()) return PrintError(target.status());
  auto [kind, name] = *target;
  if (kind->kind != "Deployment" && kind->kind != "ReplicaSet") {
    return PrintError(absl::InvalidArgumentError(
        reef::StrCat(kind->plural, " cannot be scaled: use deployments or replicasets")));
  }
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  std::string ns = EffectiveNamespace(*kind, globals, false);
  auto result = UpdateObject(**client, kind->kind, ns, name, [&](v1::Object& o) -> absl::StatusOr<bool> {
    if (o.has_deployment()) {
      v1::DeploymentSpec* spec = o.mutable_deployment()->mutable_spec();
      if (spec->has_replicas() && spec->replicas() == opts.replicas) return false;
      spec->set_replicas(opts.replicas);
    } else {
      v1::ReplicaSetSpec* spec = o.mutable_replica_set()->mutable_spec();
      if (spec->has_replicas() && spec->replicas() == opts.replicas) return false;
      spec->set_replicas(opts.replicas);
    }
    return true;
  });
  if (!result.ok()) return PrintError(result.status());
  std::cout << manifest::ResourceName(result->object) << " scaled\n";
  return 0;
}

}  // namespace

void SetupScale(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<ScaleOptions>();
  CLI::App* cmd = root.add_subcommand("scale", "Set the number of replicas of a Deployment or ReplicaSet");
  cmd->add_option("target", opts->args, "deployment/NAME, or deployment NAME")->required();
  cmd->add_option("--replicas", opts->replicas, "the new number of replicas")->required();
  cmd->callback([opts, &ctx] { ctx.exit_code = RunScale(*opts, ctx.globals); });
}

}  // namespace reef::cli
