// reefctl label KIND NAME KEY=VALUE... KEY-... [--overwrite]   (or KIND/NAME)
//
// Adds, changes (with --overwrite) and removes labels of one object, conflict-safe.

#include <map>

#include "absl/strings/str_join.h"
#include "api/manifest/names.h"
#include "api/manifest/object.h"
#include "cli/commands.h"
#include "cli/update.h"

namespace reef::cli {
namespace {

struct LabelOptions {
  std::vector<std::string> args;  // KIND NAME changes..., or KIND/NAME changes...
  bool overwrite = false;
};

struct LabelChanges {
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
};

// "k=v" sets, "k-" removes, as kubectl parses them.
absl::StatusOr<LabelChanges> ParseChanges(const std::vector<std::string>& specs) {
  LabelChanges changes;
  for (const std::string& spec : specs) {
    if (size_t eq = spec.find('='); eq != std::string::npos) {
      std::string key = spec.substr(0, eq), value = spec.substr(eq + 1);
      if (value.find('=') != std::string::npos) {
        return absl::InvalidArgumentError(reef::StrCat("invalid label spec: ", spec));
      }
      absl::Status valid = manifest::ValidateLabelKey(key);
      if (valid.ok()) valid = manifest::ValidateLabelValue(value);
      if (!valid.ok()) {
        return absl::InvalidArgumentError(reef::StrCat("invalid label ", spec, ": ", valid.message()));
      }
      changes.set[key] = value;
    } else if (spec.size() > 1 && spec.back() == '-') {
      changes.remove.push_back(spec.substr(0, spec.size() - 1));
    } else {
      return absl::InvalidArgumentError(
          reef::StrCat("unknown label spec: ", spec, " (use KEY=VALUE to set, KEY- to remove)"));
    }
  }
  for (const std::string& key : changes.remove) {
    if (changes.set.contains(key)) {
      return absl::InvalidArgumentError("can not both modify and remove a label in the same command");
    }
  }
  if (changes.set.empty() && changes.remove.empty()) {
    return absl::InvalidArgumentError("at least one label update is required");
  }
  return changes;
}

// Applies the changes to `labels`. Without --overwrite, changing an existing value is
// refused (kubectl's message); keys to remove that are not there are listed in
// `missing`.
absl::StatusOr<bool> Relabel(google::protobuf::Map<std::string, std::string>& labels,
                             const LabelChanges& changes, bool overwrite,
                             std::vector<std::string>* missing) {
  if (!overwrite) {
    std::vector<std::string> clashes;
    for (const auto& [key, value] : changes.set) {
      auto it = labels.find(key);
      if (it != labels.end() && it->second != value) {
        clashes.push_back(
            reef::StrCat("'", key, "' already has a value (", it->second, "), and --overwrite is false"));
      }
    }
    if (!clashes.empty()) return absl::FailedPreconditionError(absl::StrJoin(clashes, "\n"));
  }
  bool changed = false;
  missing->clear();
  for (const auto& [key, value] : changes.set) {
    auto [it, inserted] = labels.insert({key, value});
    if (!inserted && it->second == value) continue;
    it->second = value;
    changed = true;
  }
  for (const std::string& key : changes.remove) {
    if (labels.erase(key) > 0) {
      changed = true;
    } else {
      missing->push_back(key);
    }
  }
  return changed;
}

int RunLabel(const LabelOptions& opts, const GlobalOptions& globals) {
  // KIND NAME or KIND/NAME, then the changes.
  std::vector<std::string> args = opts.args;
  if (!args.empty() && args[0].find('/') != std::string::npos) {
    std::string kind_name = args[0];
    size_t slash = kind_name.find('/');
    args[0] = kind_name.substr(slash + 1);
    args.insert(args.begin(), kind_name.substr(0, slash));
  }
  if (args.size() < 3) {
    return PrintError(absl::InvalidArgumentError(
        "usage: reefctl label KIND NAME KEY=VALUE... KEY-... [--overwrite]"));
  }
  auto kind = ResolveKind(args[0]);
  if (!kind.ok()) return PrintError(kind.status());
  auto changes = ParseChanges({args.begin() + 2, args.end()});
  if (!changes.ok()) return PrintError(changes.status());
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());

  std::vector<std::string> missing;
  auto result = UpdateObject(
      **client, (*kind)->kind, EffectiveNamespace(**kind, globals, false), args[1],
      [&](v1::Object& object) {
        return Relabel(*manifest::MutableMeta(&object)->mutable_labels(), *changes,
                       opts.overwrite, &missing);
      });
  if (!result.ok()) return PrintError(result.status());
  for (const std::string& key : missing) std::cout << "label \"" << key << "\" not found.\n";
  // kubectl's words: "labeled" when anything was set, "unlabeled" when only removed.
  const char* what = !result->changed ? "not labeled" : changes->set.empty() ? "unlabeled" : "labeled";
  std::cout << manifest::ResourceName(result->object) << " " << what << "\n";
  return 0;
}

}  // namespace

void SetupLabel(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<LabelOptions>();
  CLI::App* cmd = root.add_subcommand("label", "Add, change or remove the labels of an object");
  cmd->add_option("args", opts->args, "KIND NAME (or KIND/NAME), then KEY=VALUE to set, KEY- to remove")
      ->required();
  cmd->add_flag("--overwrite", opts->overwrite, "allow changing the value of an existing label");
  cmd->callback([opts, &ctx] { ctx.exit_code = RunLabel(*opts, ctx.globals); });
}

}  // namespace reef::cli
