// reefctl delete (-f FILE | KIND NAME...): deletes objects and what they own.

#include <set>

#include "api/manifest/manifest.h"
#include "cli/commands.h"

namespace reef::cli {
namespace {

struct DeleteOptions {
  std::vector<std::string> files;
  bool recursive = false;
  std::vector<std::string> args;  // KIND NAME...
  bool ignore_not_found = false;
};

struct Target {
  const manifest::KindInfo* kind;
  std::string ns;
  std::string name;
};

absl::StatusOr<std::vector<Target>> Targets(const DeleteOptions& opts, const GlobalOptions& globals) {
  std::vector<Target> targets;
  if (!opts.files.empty()) {
    if (!opts.args.empty()) {
      return absl::InvalidArgumentError("give either -f FILE or KIND NAME, not both");
    }
    ASSIGN_OR_RETURN(auto sources, ReadManifestSources(opts.files, opts.recursive));
    for (const auto& [source, text] : sources) {
      ASSIGN_OR_RETURN(auto objects, manifest::ParseManifest(source, text, {globals.namespace_}));
      for (const auto& o : objects) {
        targets.push_back({manifest::KindOf(o), manifest::Meta(o).namespace_(), manifest::Meta(o).name()});
      }
    }
    return targets;
  }
  if (opts.args.size() < 2) {
    return absl::InvalidArgumentError("usage: reefctl delete KIND NAME... or reefctl delete -f FILE");
  }
  ASSIGN_OR_RETURN(const manifest::KindInfo* kind, ResolveKind(opts.args[0]));
  for (size_t i = 1; i < opts.args.size(); ++i) {
    targets.push_back({kind, EffectiveNamespace(*kind, globals, false), opts.args[i]});
  }
  return targets;
}

int RunDelete(const DeleteOptions& opts, const GlobalOptions& globals) {
  auto targets = Targets(opts, globals);
  if (!targets.ok()) return PrintError(targets.status());
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  int exit_code = 0;
  // What earlier deletes took with them (a namespace its contents, an owner what it
  // owns): asking for those again is not an error.
  std::set<std::string> gone;
  auto key = [](std::string_view kind, const std::string& ns, const std::string& name) {
    return reef::StrCat(kind, "/", ns, "/", name);
  };
  for (const Target& t : *targets) {
    v1::DeleteRequest request;
    request.set_kind(std::string(t.kind->kind));
    request.set_namespace_(t.ns);
    request.set_name(t.name);
    v1::DeleteResponse response;
    auto ctx = (*client)->Context();
    grpc::Status status = (*client)->api().Delete(ctx.get(), request, &response);
    bool taken_earlier = gone.count(key(t.kind->kind, t.ns, t.name)) > 0;
    if (status.error_code() == grpc::StatusCode::NOT_FOUND && (opts.ignore_not_found || taken_earlier)) {
      if (taken_earlier) std::cout << t.kind->group_resource << " \"" << t.name << "\" deleted\n";
      continue;
    }
    if (!status.ok()) {
      exit_code = PrintError((*client)->Explain(status, "delete"));
      continue;
    }
    for (const auto& k : response.deleted()) gone.insert(key(k.kind(), k.namespace_(), k.name()));
    std::cout << t.kind->group_resource << " \"" << t.name << "\" deleted";
    if (response.deleted_size() > 1) {
      std::cout << " (and " << response.deleted_size() - 1 << " owned object"
                << (response.deleted_size() > 2 ? "s" : "") << ")";
    }
    std::cout << "\n";
  }
  return exit_code;
}

}  // namespace

void SetupDelete(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<DeleteOptions>();
  CLI::App* cmd = root.add_subcommand("delete", "Delete objects (and the objects they own)");
  cmd->add_option("-f,--filename", opts->files, "delete the objects in these manifests");
  cmd->add_flag("-R,--recursive", opts->recursive, "read folders recursively");
  cmd->add_flag("--ignore-not-found", opts->ignore_not_found, "a missing object is not an error");
  cmd->add_option("args", opts->args, "KIND NAME...");
  cmd->callback([opts, &ctx] { ctx.exit_code = RunDelete(*opts, ctx.globals); });
}

}  // namespace reef::cli
