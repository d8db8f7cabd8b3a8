// reefctl apply -f FILE|DIR|- [-R] [--dry-run]: create or update objects, all of them
// or none.

#include "api/manifest/manifest.h"
#include "cli/commands.h"

namespace reef::cli {
namespace {

struct ApplyOptions {
  std::vector<std::string> files;
  bool recursive = false;
  bool dry_run = false;
  std::string subresource;  // "status": write the status of existing objects only
};

const char* OutcomeText(v1::ApplyResult::Outcome outcome) {
  switch (outcome) {
    case v1::ApplyResult::CREATED: return "created";
    case v1::ApplyResult::CONFIGURED: return "configured";
    case v1::ApplyResult::UNCHANGED: return "unchanged";
    default: return "applied";
  }
}

int RunApply(const ApplyOptions& opts, const GlobalOptions& globals) {
  auto sources = ReadManifestSources(opts.files, opts.recursive);
  if (!sources.ok()) {
    PrintError(sources.status());
    std::cerr << "nothing was applied\n";
    return 1;
  }

  // Every file is parsed and validated before anything is sent: one bad document
  // anywhere means nothing is written.
  v1::ApplyRequest request;
  request.set_dry_run(opts.dry_run);
  request.set_subresource(opts.subresource);
  manifest::ParseOptions parse_options{globals.namespace_};
  parse_options.status_only = opts.subresource == "status";
  std::vector<std::string> errors;
  for (const auto& [source, text] : *sources) {
    auto objects = manifest::ParseManifest(source, text, parse_options);
    if (!objects.ok()) {
      errors.emplace_back(objects.status().message());
      continue;
    }
    for (auto& o : *objects) *request.add_objects() = std::move(o);
  }
  if (!errors.empty()) {
    for (const auto& e : errors) PrintError(absl::InvalidArgumentError(e));
    std::cerr << "nothing was applied\n";
    return 1;
  }
  if (request.objects().empty()) {
    return PrintError(absl::InvalidArgumentError("no objects found in the given manifests"));
  }

  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  v1::ApplyResponse response;
  auto ctx = (*client)->Context();
  grpc::Status status = (*client)->api().Apply(ctx.get(), request, &response);
  if (!status.ok()) {
    PrintError((*client)->Explain(status, "apply"));
    std::cerr << "nothing was applied\n";
    return 1;
  }
  for (const auto& r : response.results()) {
    std::cout << manifest::ResourceName(r.object()) << " " << OutcomeText(r.outcome())
              << (opts.dry_run ? " (server dry run)" : "") << "\n";
  }
  return 0;
}

}  // namespace

void SetupApply(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<ApplyOptions>();
  CLI::App* cmd = root.add_subcommand("apply", "Create or update objects from manifests (all or nothing)");
  cmd->add_option("-f,--filename", opts->files, "manifest file, folder, or - for stdin")->required();
  cmd->add_flag("-R,--recursive", opts->recursive, "read folders recursively");
  cmd->add_flag("--dry-run", opts->dry_run, "validate on the server without writing");
  cmd->add_option("--subresource", opts->subresource,
                  "status: write only the status of existing objects (as an agent would)")
      ->check(CLI::IsMember({"status"}));
  cmd->callback([opts, &ctx] { ctx.exit_code = RunApply(*opts, ctx.globals); });
}

}  // namespace reef::cli
