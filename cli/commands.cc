#include "cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_split.h"
#include "api/manifest/manifest.h"
#include "common/files.h"

namespace reef::cli {

int PrintError(const absl::Status& status) {
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
    std::cerr << "error: " << line << "\n";
  }
  return 1;
}

absl::StatusOr<const manifest::KindInfo*> ResolveKind(std::string_view text) {
  if (const manifest::KindInfo* k = manifest::ResolveResourceName(text)) return k;
  std::string known;
  for (const auto& k : manifest::AllKinds()) {
    known += reef::StrCat(known.empty() ? "" : ", ", k.plural,
                          k.short_name.empty() ? "" : reef::StrCat(" (", k.short_name, ")"));
  }
  return absl::InvalidArgumentError(
      reef::StrCat("the server doesn't have a resource type \"", text, "\"; known: ", known));
}

absl::StatusOr<std::pair<const manifest::KindInfo*, std::string>> ResolveKindAndName(
    const std::vector<std::string>& args) {
  std::string type, name;
  if (args.size() == 1 && args[0].find('/') != std::string::npos) {
    type = args[0].substr(0, args[0].find('/'));
    name = args[0].substr(args[0].find('/') + 1);
  } else if (args.size() == 2 && args[0].find('/') == std::string::npos) {
    type = args[0];
    name = args[1];
  }
  if (type.empty() || name.empty()) {
    return absl::InvalidArgumentError("name one object: TYPE/NAME (deployment/web) or TYPE NAME");
  }
  ASSIGN_OR_RETURN(const manifest::KindInfo* kind, ResolveKind(type));
  return std::make_pair(kind, name);
}

std::string EffectiveNamespace(const manifest::KindInfo& kind, const GlobalOptions& globals,
                               bool all_namespaces) {
  if (!kind.namespaced || all_namespaces) return "";
  return globals.namespace_.empty() ? "default" : globals.namespace_;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadManifestSources(
    const std::vector<std::string>& paths, bool recursive) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> sources;
  for (const std::string& path : paths) {
    if (path == "-") {
      ASSIGN_OR_RETURN(std::string text,
                       ReadFdLimited(STDIN_FILENO, "<stdin>", manifest::kMaxManifestBytes));
      sources.emplace_back("<stdin>", std::move(text));
      continue;
    }
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, manifest::kMaxManifestBytes));
      sources.emplace_back(path, std::move(text));
      continue;
    }
    std::vector<std::string> files;
    auto consider = [&](const fs::directory_entry& e) {
      std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
        files.push_back(e.path().string());
      }
    };
    if (recursive) {
      for (const auto& e : fs::recursive_directory_iterator(path, ec)) consider(e);
    } else {
      for (const auto& e : fs::directory_iterator(path, ec)) consider(e);
    }
    if (ec) return absl::NotFoundError(reef::StrCat(path, ": ", ec.message()));
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return absl::NotFoundError(reef::StrCat(path, ": no .yaml, .yml or .json files",
                                              recursive ? "" : " (use -R for subfolders)"));
    }
    for (const std::string& f : files) {
      ASSIGN_OR_RETURN(std::string text, ReadFileLimited(f, manifest::kMaxManifestBytes));
      sources.emplace_back(f, std::move(text));
    }
  }
  return sources;
}

}  // namespace reef::cli
