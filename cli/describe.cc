// reefctl describe KIND [NAME...]: an object in detail, with its recent events.

#include "cli/commands.h"
#include "api/manifest/object.h"
#include "cli/describe_printer.h"

namespace reef::cli {
namespace {

struct DescribeOptions {
  std::string resource;
  std::vector<std::string> names;
  std::string selector;
  bool all_namespaces = false;
};

std::vector<v1::Object> EventsFor(const v1::Object& object, const std::vector<v1::Object>& events) {
  const auto& meta = manifest::Meta(object);
  std::vector<v1::Object> out;
  for (const auto& e : events) {
    const auto& ref = e.event().involved_object();
    if (ref.kind() == manifest::KindOf(object)->kind && ref.name() == meta.name() &&
        ref.namespace_() == meta.namespace_() && (ref.uid().empty() || ref.uid() == meta.uid())) {
      out.push_back(e);
    }
  }
  return out;
}

int RunDescribe(const DescribeOptions& opts, const GlobalOptions& globals) {
  auto kind = ResolveKind(opts.resource);
  if (!kind.ok()) return PrintError(kind.status());
  std::string ns = EffectiveNamespace(**kind, globals, opts.all_namespaces);
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());

  int exit_code = 0;
  std::vector<v1::Object> objects;
  if (opts.names.empty()) {
    auto all = (*client)->ListObjects((*kind)->kind, ns, opts.selector);
    if (!all.ok()) return PrintError(all.status());
    objects.assign(all->items().begin(), all->items().end());
    if (objects.empty()) {
      std::cerr << "No resources found" << (ns.empty() ? "" : reef::StrCat(" in ", ns, " namespace")) << ".\n";
    }
  }
  for (const std::string& name : opts.names) {
    auto object = (*client)->GetObject((*kind)->kind, ns, name);
    if (!object.ok()) {
      exit_code = PrintError(object.status());
      continue;
    }
    objects.push_back(std::move(*object));
  }
  if (objects.empty()) return exit_code;
  auto events = (*client)->ListObjects("Event", ns, "");
  if (!events.ok()) return PrintError(events.status());
  // A node's description lists the pods bound to it.
  std::vector<v1::Object> pods;
  if ((*kind)->kind == "Node") {
    auto all = (*client)->ListObjects("Pod", "", "");
    if (!all.ok()) return PrintError(all.status());
    pods.assign(all->items().begin(), all->items().end());
  }
  bool first = true;
  for (const auto& o : objects) {
    if (!first) std::cout << "\n\n";
    first = false;
    std::vector<v1::Object> about =
        EventsFor(o, {events->items().begin(), events->items().end()});
    std::cout << (o.has_node() ? DescribeNode(o, pods, about, absl::Now())
                               : DescribeObject(o, about, absl::Now()));
  }
  return exit_code;
}

}  // namespace

void SetupDescribe(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<DescribeOptions>();
  CLI::App* cmd = root.add_subcommand("describe", "Show objects in detail, with recent events");
  cmd->add_option("kind", opts->resource, "the kind, as for get")->required();
  cmd->add_option("names", opts->names, "object names (default: all)");
  cmd->add_option("-l,--selector", opts->selector, "label selector");
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "every namespace");
  cmd->callback([opts, &ctx] { ctx.exit_code = RunDescribe(*opts, ctx.globals); });
}

}  // namespace reef::cli
