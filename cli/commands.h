#pragma once
// reefctl's verbs: one file each, listed in kCommands (main.cc builds the CLI from
// that table). A verb registers its subcommand and flags, and its callback sets the
// exit code.

#include <CLI/CLI.hpp>
#include <iostream>

#include "api/manifest/kinds.h"
#include "cli/client.h"

namespace reef::cli {

struct CommandContext {
  GlobalOptions globals;
  int exit_code = 0;
};

using CommandSetup = void (*)(CLI::App& root, CommandContext& ctx);

void SetupApply(CLI::App& root, CommandContext& ctx);
void SetupGet(CLI::App& root, CommandContext& ctx);
void SetupDescribe(CLI::App& root, CommandContext& ctx);
void SetupDelete(CLI::App& root, CommandContext& ctx);
void SetupVersion(CLI::App& root, CommandContext& ctx);
void SetupToken(CLI::App& root, CommandContext& ctx);
void SetupLabel(CLI::App& root, CommandContext& ctx);
void SetupCordon(CLI::App& root, CommandContext& ctx);
void SetupUncordon(CLI::App& root, CommandContext& ctx);
void SetupDrain(CLI::App& root, CommandContext& ctx);
void SetupScale(CLI::App& root, CommandContext& ctx);
void SetupRollout(CLI::App& root, CommandContext& ctx);
void SetupLogs(CLI::App& root, CommandContext& ctx);
void SetupTop(CLI::App& root, CommandContext& ctx);

inline constexpr CommandSetup kCommands[] = {SetupApply, SetupGet, SetupDescribe, SetupDelete,
                                             SetupVersion, SetupToken, SetupLabel, SetupCordon,
                                             SetupUncordon, SetupDrain, SetupScale, SetupRollout,
                                             SetupLogs, SetupTop};

// Prints "error: <message>" (each line of a multi-line message) and returns 1.
int PrintError(const absl::Status& status);

// The kind a person named ("po", "deployments"), or InvalidArgument listing the
// known ones.
absl::StatusOr<const manifest::KindInfo*> ResolveKind(std::string_view text);

// kubectl's two ways to name one object: "deployment/web" or "deployment web".
absl::StatusOr<std::pair<const manifest::KindInfo*, std::string>> ResolveKindAndName(
    const std::vector<std::string>& args);

// The namespace a command acts in: "" for cluster-scoped kinds and for -A,
// else -n or "default".
std::string EffectiveNamespace(const manifest::KindInfo& kind, const GlobalOptions& globals,
                               bool all_namespaces);

// Reads manifest files: "-" is stdin, a folder gives its *.yaml, *.yml and *.json
// files (recursively with `recursive`), sorted. Returns (source name, text) pairs.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadManifestSources(
    const std::vector<std::string>& paths, bool recursive);

}  // namespace reef::cli
