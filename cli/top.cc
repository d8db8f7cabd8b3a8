// reefctl top nodes [NAME] [--sort-by cpu|memory]
// reefctl top pods [NAME] [-n NS | -A] [--containers] [--sort-by cpu|memory]
//
// Resource usage as the agents last reported it on their heartbeats (ApiService.Top),
// printed as kubectl top prints metrics-server's figures.

#include "cli/top.h"

#include <algorithm>
#include <map>
#include <optional>

#include "api/manifest/quantity.h"
#include "cli/commands.h"
#include "cli/printers.h"

namespace reef::cli {
namespace {

constexpr char kUnknown[] = "<unknown>";
constexpr char kNotAvailable[] = "metrics not available yet";

// One row's figures: cpu in thousandths of a core, memory in bytes; nullopt when not
// reported (or not a quantity).
struct Usage {
  std::optional<int64_t> cpu_milli;
  std::optional<int64_t> memory;
};

std::optional<manifest::Quantity> Find(const google::protobuf::Map<std::string, std::string>& usage,
                                       const std::string& resource) {
  auto it = usage.find(resource);
  if (it == usage.end()) return std::nullopt;
  auto q = manifest::Quantity::Parse(it->second);
  if (!q.ok()) return std::nullopt;
  return *q;
}

Usage UsageOf(const google::protobuf::Map<std::string, std::string>& usage) {
  Usage u;
  if (auto q = Find(usage, "cpu")) u.cpu_milli = q->MilliValue();
  if (auto q = Find(usage, "memory")) u.memory = q->Value();
  return u;
}

// The pod cgroup's figure when there is one, else the sum of the containers' (unknown
// when any container lacks it: a partial sum would look like a real, lower figure).
Usage PodUsage(const v1::PodMetrics& pod) {
  Usage own = UsageOf(pod.usage());
  Usage sum;
  bool cpu_complete = !pod.containers().empty(), memory_complete = cpu_complete;
  int64_t cpu = 0, memory = 0;
  for (const v1::ContainerMetrics& c : pod.containers()) {
    Usage u = UsageOf(c.usage());
    if (u.cpu_milli) cpu += *u.cpu_milli; else cpu_complete = false;
    if (u.memory) memory += *u.memory; else memory_complete = false;
  }
  if (cpu_complete) sum.cpu_milli = cpu;
  if (memory_complete) sum.memory = memory;
  return Usage{own.cpu_milli ? own.cpu_milli : sum.cpu_milli, own.memory ? own.memory : sum.memory};
}

std::string CpuCell(const std::optional<int64_t>& milli) {
  return milli ? reef::StrCat(*milli, "m") : kUnknown;
}

std::string MemoryCell(const std::optional<int64_t>& bytes) {
  return bytes ? reef::StrCat(*bytes / (1024 * 1024), "Mi") : kUnknown;
}

// kubectl: int64(float64(usage.MilliValue()) / float64(available.MilliValue()) * 100).
std::string PercentCell(const std::optional<int64_t>& used, const std::optional<manifest::Quantity>& available,
                        bool memory) {
  if (!used || !available || available->MilliValue() <= 0) return kUnknown;
  double used_milli = memory ? static_cast<double>(*used) * 1000 : static_cast<double>(*used);
  return reef::StrCat(static_cast<int64_t>(used_milli / static_cast<double>(available->MilliValue()) * 100), "%");
}

// Highest first for "cpu" / "memory"; unknown figures last. False when equal.
bool UsageBefore(const Usage& a, const Usage& b, std::string_view sort_by, bool* decided) {
  const std::optional<int64_t>& x = sort_by == "cpu" ? a.cpu_milli : a.memory;
  const std::optional<int64_t>& y = sort_by == "cpu" ? b.cpu_milli : b.memory;
  *decided = x.value_or(-1) != y.value_or(-1);
  return x.value_or(-1) > y.value_or(-1);
}

}  // namespace

std::string RenderTopNodes(std::vector<v1::NodeMetrics> metrics, const std::vector<v1::Node>& nodes,
                           std::string_view sort_by) {
  std::map<std::string, const v1::Node*> by_name;
  for (const v1::Node& n : nodes) by_name[n.metadata().name()] = &n;
  std::stable_sort(metrics.begin(), metrics.end(), [&](const v1::NodeMetrics& a, const v1::NodeMetrics& b) {
    if (sort_by == "cpu" || sort_by == "memory") {
      bool decided = false;
      bool before = UsageBefore(UsageOf(a.usage()), UsageOf(b.usage()), sort_by, &decided);
      if (decided) return before;
    }
    return a.metadata().name() < b.metadata().name();
  });
  Table table;
  table.Add({"NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"});
  for (const v1::NodeMetrics& m : metrics) {
    const std::string& name = m.metadata().name();
    Usage u = UsageOf(m.usage());
    std::optional<manifest::Quantity> cpu_available, memory_available;
    if (auto it = by_name.find(name); it != by_name.end()) {
      cpu_available = Find(it->second->status().allocatable(), "cpu");
      memory_available = Find(it->second->status().allocatable(), "memory");
      by_name.erase(it);
    }
    table.Add({name, CpuCell(u.cpu_milli), PercentCell(u.cpu_milli, cpu_available, false), MemoryCell(u.memory),
               PercentCell(u.memory, memory_available, true)});
  }
  for (const auto& [name, node] : by_name) table.Add({name, kUnknown, kUnknown, kUnknown, kUnknown});
  return table.Render();
}

std::string RenderTopPods(std::vector<v1::PodMetrics> metrics, const TopPodsFormat& format) {
  std::stable_sort(metrics.begin(), metrics.end(), [&](const v1::PodMetrics& a, const v1::PodMetrics& b) {
    if (format.sort_by == "cpu" || format.sort_by == "memory") {
      bool decided = false;
      bool before = UsageBefore(PodUsage(a), PodUsage(b), format.sort_by, &decided);
      if (decided) return before;
    }
    return std::tie(a.metadata().namespace_(), a.metadata().name()) <
           std::tie(b.metadata().namespace_(), b.metadata().name());
  });
  Table table;
  Row header;
  if (format.with_namespace) header.push_back("NAMESPACE");
  if (format.containers) header.push_back("POD");
  for (const char* column : {"NAME", "CPU(cores)", "MEMORY(bytes)"}) header.push_back(column);
  table.Add(header);
  for (const v1::PodMetrics& pod : metrics) {
    Row prefix;
    if (format.with_namespace) prefix.push_back(pod.metadata().namespace_());
    if (!format.containers) {
      Usage u = PodUsage(pod);
      prefix.insert(prefix.end(), {pod.metadata().name(), CpuCell(u.cpu_milli), MemoryCell(u.memory)});
      table.Add(prefix);
      continue;
    }
    prefix.push_back(pod.metadata().name());
    std::vector<const v1::ContainerMetrics*> containers;
    for (const v1::ContainerMetrics& c : pod.containers()) containers.push_back(&c);
    std::stable_sort(containers.begin(), containers.end(), [&](const auto* a, const auto* b) {
      if (format.sort_by == "cpu" || format.sort_by == "memory") {
        bool decided = false;
        bool before = UsageBefore(UsageOf(a->usage()), UsageOf(b->usage()), format.sort_by, &decided);
        if (decided) return before;
      }
      return a->name() < b->name();
    });
    for (const v1::ContainerMetrics* c : containers) {
      Usage u = UsageOf(c->usage());
      Row row = prefix;
      row.insert(row.end(), {c->name(), CpuCell(u.cpu_milli), MemoryCell(u.memory)});
      table.Add(row);
    }
  }
  return table.Render();
}

namespace {

struct TopOptions {
  std::string name;
  std::string sort_by;
  bool all_namespaces = false;
  bool containers = false;
};

absl::StatusOr<v1::TopResponse> CallTop(Client& client, v1::TopRequest request) {
  v1::TopResponse response;
  auto ctx = client.Context();
  grpc::Status status = client.api().Top(ctx.get(), request, &response);
  if (!status.ok()) return client.Explain(status, "top");
  return response;
}

int RunTopNodes(const TopOptions& o, const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  v1::TopRequest request;
  request.set_kind("Node");
  request.set_name(o.name);
  auto top = CallTop(**client, request);
  if (!top.ok()) return PrintError(top.status());
  std::vector<v1::Node> nodes;
  if (!o.name.empty()) {
    auto node = (*client)->GetObject("Node", "", o.name);  // "not found" beats "not available"
    if (!node.ok()) return PrintError(node.status());
    nodes.push_back(node->node());
  } else {
    auto list = (*client)->ListObjects("Node", "", "");
    if (!list.ok()) return PrintError(list.status());
    for (const v1::Object& item : list->items()) nodes.push_back(item.node());
  }
  if (top->nodes().empty()) return PrintError(absl::UnavailableError(kNotAvailable));
  std::cout << RenderTopNodes({top->nodes().begin(), top->nodes().end()}, nodes, o.sort_by);
  return 0;
}

int RunTopPods(const TopOptions& o, const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  std::string ns = o.all_namespaces ? "" : (globals.namespace_.empty() ? "default" : globals.namespace_);
  v1::TopRequest request;
  request.set_kind("Pod");
  request.set_namespace_(ns);
  request.set_name(o.name);
  auto top = CallTop(**client, request);
  if (!top.ok()) return PrintError(top.status());
  if (top->pods().empty()) {
    // As kubectl: no figures for pods that exist is an error; no pods at all is not.
    if (!o.name.empty()) {
      auto pod = (*client)->GetObject("Pod", ns.empty() ? "default" : ns, o.name);
      if (!pod.ok()) return PrintError(pod.status());
      return PrintError(absl::UnavailableError(kNotAvailable));
    }
    auto list = (*client)->ListObjects("Pod", ns, "");
    if (!list.ok()) return PrintError(list.status());
    if (list->items_size() > 0) return PrintError(absl::UnavailableError(kNotAvailable));
    std::cerr << (ns.empty() ? std::string("No resources found\n")
                             : reef::StrCat("No resources found in ", ns, " namespace.\n"));
    return 0;
  }
  TopPodsFormat format{o.all_namespaces, o.containers, o.sort_by};
  std::cout << RenderTopPods({top->pods().begin(), top->pods().end()}, format);
  return 0;
}

}  // namespace

void SetupTop(CLI::App& root, CommandContext& ctx) {
  CLI::App* top = root.add_subcommand("top", "Show the CPU and memory use of nodes or pods");
  top->require_subcommand(1);

  auto n = std::make_shared<TopOptions>();
  CLI::App* nodes = top->add_subcommand("nodes", "CPU and memory of the nodes, and their share of allocatable");
  nodes->alias("node")->alias("no");
  nodes->add_option("name", n->name, "one node");
  nodes->add_option("--sort-by", n->sort_by, "cpu or memory: highest first")->check(CLI::IsMember({"cpu", "memory"}));
  nodes->callback([n, &ctx] { ctx.exit_code = RunTopNodes(*n, ctx.globals); });

  auto p = std::make_shared<TopOptions>();
  CLI::App* pods = top->add_subcommand("pods", "CPU and memory of the pods");
  pods->alias("pod")->alias("po");
  pods->add_option("name", p->name, "one pod");
  pods->add_flag("-A,--all-namespaces", p->all_namespaces, "every namespace");
  pods->add_flag("--containers", p->containers, "one row per container");
  pods->add_option("--sort-by", p->sort_by, "cpu or memory: highest first")->check(CLI::IsMember({"cpu", "memory"}));
  pods->callback([p, &ctx] { ctx.exit_code = RunTopPods(*p, ctx.globals); });
}

}  // namespace reef::cli
