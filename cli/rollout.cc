// reefctl rollout status|history|undo|restart|pause|resume (TYPE/NAME | TYPE NAME)

#include "api/manifest/object.h"
#include "cli/rollout.h"

#include "api/manifest/well_known.h"
#include "cli/update.h"
#include "common/clock.h"

#include <tuple>

namespace reef::cli {
namespace {

// The pod template and the paused flag of the workloads `rollout` acts on.
v1::PodTemplateSpec* MutableTemplate(v1::Object& o) {
  if (o.has_deployment()) return o.mutable_deployment()->mutable_spec()->mutable_template_();
  if (o.has_daemon_set()) return o.mutable_daemon_set()->mutable_spec()->mutable_template_();
  return nullptr;
}

// `restart`: a new restartedAt annotation on the template makes a new template, so
// every pod is replaced the way a rollout replaces them. `pause`/`resume` flip
// spec.paused (Deployments only).
enum class Action { kRestart, kPause, kResume };

int RunAction(const std::vector<std::string>& args, Action action, const GlobalOptions& globals) {
  auto target = ResolveKindAndName(args);
  if (!target.ok()) return PrintError(target.status());
  auto [kind, name] = *target;
  bool deployment = kind->kind == "Deployment";
  if (!deployment && !(action == Action::kRestart && kind->kind == "DaemonSet")) {
    return PrintError(absl::InvalidArgumentError(reef::StrCat(
        "rollout ", action == Action::kRestart ? "restart" : "pause/resume", " is not supported for ",
        kind->plural, action == Action::kRestart ? ": use deployments or daemonsets" : ": use deployments")));
  }
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  std::string ns = EffectiveNamespace(*kind, globals, false);
  std::string now = FormatTimestamp(absl::Now());
  auto result = UpdateObject(**client, kind->kind, ns, name, [&](v1::Object& o) -> absl::StatusOr<bool> {
    bool paused = o.has_deployment() && o.deployment().spec().paused();
    switch (action) {
      case Action::kRestart:
        if (paused) {
          return absl::FailedPreconditionError(reef::StrCat(
              "can't restart paused deployment (run rollout resume first)"));
        }
        (*MutableTemplate(o)->mutable_metadata()->mutable_annotations())[manifest::kRestartedAtAnnotation] = now;
        return true;
      case Action::kPause:
      case Action::kResume: {
        bool want = action == Action::kPause;
        if (paused == want) {
          return absl::FailedPreconditionError(reef::StrCat(
              "deployments.apps \"", name, "\" is ", want ? "already paused" : "not paused"));
        }
        o.mutable_deployment()->mutable_spec()->set_paused(want);
        return true;
      }
    }
    return false;
  });
  if (!result.ok()) return PrintError(result.status());
  const char* done = action == Action::kRestart ? "restarted" : action == Action::kPause ? "paused" : "resumed";
  std::cout << manifest::ResourceName(result->object) << " " << done << "\n";
  return 0;
}

}  // namespace

void SetupRollout(CLI::App& root, CommandContext& ctx) {
  CLI::App* rollout = root.add_subcommand("rollout", "Watch, roll back, restart or pause rollouts");
  rollout->require_subcommand(1);

  struct StatusOptions {
    std::vector<std::string> args;
    std::string timeout = "0s";
    bool watch = true;
  };
  auto status = std::make_shared<StatusOptions>();
  CLI::App* cmd = rollout->add_subcommand("status", "Wait until a rollout is complete");
  cmd->add_option("target", status->args, "deployment/NAME or daemonset/NAME")->required();
  cmd->add_option("--timeout", status->timeout, "give up after this long (e.g. 2m; 0: never)")
      ->capture_default_str();
  cmd->add_flag("-w,--watch,!--no-watch", status->watch, "watch until done (--watch=false: print once)");
  cmd->callback([status, &ctx] {
    ctx.exit_code = RunRolloutStatus(status->args, status->timeout, status->watch, ctx.globals);
  });

  struct RevisionOptions {
    std::vector<std::string> args;
    int64_t revision = 0;
  };
  auto history = std::make_shared<RevisionOptions>();
  cmd = rollout->add_subcommand("history", "List the revisions of a Deployment");
  cmd->add_option("target", history->args, "deployment/NAME")->required();
  cmd->add_option("--revision", history->revision, "show the pod template of this revision");
  cmd->callback([history, &ctx] {
    ctx.exit_code = RunRolloutHistory(history->args, history->revision, ctx.globals);
  });

  auto undo = std::make_shared<RevisionOptions>();
  cmd = rollout->add_subcommand("undo", "Go back to the previous revision (or --to-revision N)");
  cmd->add_option("target", undo->args, "deployment/NAME")->required();
  cmd->add_option("--to-revision", undo->revision, "the revision to go back to (0: the previous one)");
  cmd->callback([undo, &ctx] { ctx.exit_code = RunRolloutUndo(undo->args, undo->revision, ctx.globals); });

  for (auto [verb, help, action] : {std::make_tuple("restart", "Replace every pod, the way a rollout does", Action::kRestart),
                                    std::make_tuple("pause", "Stop rolling out template changes", Action::kPause),
                                    std::make_tuple("resume", "Roll out template changes again", Action::kResume)}) {
    auto args = std::make_shared<std::vector<std::string>>();
    cmd = rollout->add_subcommand(verb, help);
    cmd->add_option("target", *args, "deployment/NAME")->required();
    Action a = action;
    cmd->callback([args, a, &ctx] { ctx.exit_code = RunAction(*args, a, ctx.globals); });
  }
}

}  // namespace reef::cli
