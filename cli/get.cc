// reefctl get KIND [NAME...] [-o wide|yaml|json|name] [-l SELECTOR] [-A] [-w]

#include <thread>

#include "api/manifest/codec.h"
#include "cli/commands.h"
#include "cli/printers.h"
#include "common/clock.h"

namespace reef::cli {
namespace {

struct GetOptions {
  std::string resource;
  std::vector<std::string> names;
  std::string output;
  std::string selector;
  bool all_namespaces = false;
  bool watch = false;
};

bool IsTable(const std::string& output) { return output.empty() || output == "wide"; }

TableOptions TableOpts(const GetOptions& opts) {
  return TableOptions{opts.output == "wide", opts.all_namespaces, absl::Now()};
}

void PrintObjects(const GetOptions& opts, const manifest::KindInfo& kind,
                  const std::vector<v1::Object>& items, bool single, Table* table) {
  if (opts.output == "yaml") {
    std::cout << (single ? manifest::ToYaml(items[0]) : manifest::ListToYaml(items));
  } else if (opts.output == "json") {
    std::cout << (single ? manifest::ToJson(items[0]) : manifest::ListToJson(items));
  } else if (opts.output == "name") {
    for (const auto& o : items) std::cout << manifest::ResourceName(o) << "\n";
  } else {
    TableOptions to = TableOpts(opts);
    table->Add(TableHeader(kind, to));
    for (const auto& o : items) table->Add(TableRow(o, to));
    std::cout << table->Render();
  }
  std::cout.flush();
}

void PrintEvent(const GetOptions& opts, const v1::WatchEvent& event, Table* table) {
  if (IsTable(opts.output)) {
    Row row = TableRow(event.object(), TableOpts(opts));
    table->Widen(row);
    std::cout << table->Format(row);
  } else if (opts.output == "yaml") {
    std::cout << "---\n" << manifest::ToYaml(event.object());
  } else if (opts.output == "json") {
    std::cout << manifest::ToJson(event.object());
  } else {
    std::cout << manifest::ResourceName(event.object()) << "\n";
  }
  std::cout.flush();
}

// Follows changes after `revision` until interrupted. A broken stream is resumed
// from the last revision seen; when that is too old the server sends RESET and the
// current objects again.
int Watch(Client& client, const GetOptions& opts, const manifest::KindInfo& kind,
          const std::string& ns, int64_t revision, Table* table) {
  auto backoff = std::chrono::milliseconds(250);
  while (true) {
    v1::WatchRequest request;
    request.set_kind(std::string(kind.kind));
    request.set_namespace_(ns);
    request.set_label_selector(opts.selector);
    request.set_from_revision(revision);
    auto ctx = client.StreamContext();
    auto reader = client.api().Watch(ctx.get(), request);
    v1::WatchEvent event;
    // A snapshot (after a RESET, or when watching from 0) comes in name order, not
    // revision order: its revisions say nothing about where to resume until the
    // BOOKMARK that ends it.
    bool in_snapshot = revision == 0;
    while (reader->Read(&event)) {
      backoff = std::chrono::milliseconds(250);
      if (event.type() == v1::WatchEvent::RESET) in_snapshot = true;
      if (event.type() == v1::WatchEvent::BOOKMARK) in_snapshot = false;
      if (!in_snapshot && event.revision() > revision) revision = event.revision();
      if (event.type() == v1::WatchEvent::RESET || event.type() == v1::WatchEvent::BOOKMARK) continue;
      if (!opts.names.empty() &&
          std::find(opts.names.begin(), opts.names.end(), manifest::Meta(event.object()).name()) ==
              opts.names.end()) {
        continue;
      }
      PrintEvent(opts, event, table);
    }
    grpc::Status status = reader->Finish();
    bool retry = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                 status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    if (!retry) return PrintError(client.Explain(status, "watch"));
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

int RunGet(const GetOptions& opts, const GlobalOptions& globals) {
  if (!opts.output.empty() && opts.output != "wide" && opts.output != "yaml" &&
      opts.output != "json" && opts.output != "name") {
    return PrintError(absl::InvalidArgumentError(reef::StrCat(
        "unknown output format \"", opts.output, "\": use wide, yaml, json or name")));
  }
  auto kind = ResolveKind(opts.resource);
  if (!kind.ok()) return PrintError(kind.status());
  std::string ns = EffectiveNamespace(**kind, globals, opts.all_namespaces);
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());

  std::vector<v1::Object> items;
  int64_t revision = 0;
  int exit_code = 0;
  if (!opts.names.empty()) {
    for (const std::string& name : opts.names) {
      auto object = (*client)->GetObject((*kind)->kind, ns, name);
      if (!object.ok()) {
        exit_code = PrintError(object.status());
        continue;
      }
      // Watch from the oldest of them, so that no change to any is missed.
      int64_t rv = std::stoll(manifest::Meta(*object).resource_version());
      revision = revision == 0 ? rv : std::min(revision, rv);
      items.push_back(std::move(*object));
    }
  } else {
    auto list = (*client)->ListObjects((*kind)->kind, ns, opts.selector);
    if (!list.ok()) return PrintError(list.status());
    items.assign(list->items().begin(), list->items().end());
    revision = list->revision();
  }

  Table table;
  if (!items.empty()) {
    PrintObjects(opts, **kind, items, !opts.names.empty() && opts.names.size() == 1, &table);
  } else if (opts.names.empty()) {
    if (!IsTable(opts.output) && opts.output != "name") {
      PrintObjects(opts, **kind, items, false, &table);  // an empty List
    } else {
      std::cerr << "No resources found" << (ns.empty() ? "" : reef::StrCat(" in ", ns, " namespace"))
                << ".\n";
    }
  }
  if (!opts.watch || exit_code != 0) return exit_code;
  if (items.empty() && IsTable(opts.output)) {
    table.Add(TableHeader(**kind, TableOpts(opts)));
    std::cout << table.Render() << std::flush;
  }
  return Watch(**client, opts, **kind, ns, revision, &table);
}

}  // namespace

void SetupGet(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<GetOptions>();
  CLI::App* cmd = root.add_subcommand("get", "List objects, or show some by name");
  cmd->add_option("kind", opts->resource, "pods (po), deployments (deploy), replicasets (rs), daemonsets (ds), "
                                          "configmaps (cm), secrets, nodes (no), namespaces (ns), events")
      ->required();
  cmd->add_option("names", opts->names, "object names");
  cmd->add_option("-o,--output", opts->output,
                  "wide (kubectl's extra columns; for nodes also ARCH, after VERSION), yaml, "
                  "json or name");
  cmd->add_option("-l,--selector", opts->selector, "label selector, e.g. app=web,tier!=db");
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "every namespace");
  cmd->add_flag("-w,--watch", opts->watch, "after listing, print changes as they happen");
  cmd->callback([opts, &ctx] { ctx.exit_code = RunGet(*opts, ctx.globals); });
}

}  // namespace reef::cli
