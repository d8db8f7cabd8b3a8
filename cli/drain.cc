// reefctl drain NODE [--ignore-daemonsets] [--delete-emptydir-data] [--force]
//                    [--timeout D]
//
// Cordons the node, then deletes its pods so that their controllers run them
// elsewhere, and waits until they are gone. Like kubectl, it refuses (leaving the node
// cordoned and every pod in place) when that would lose something without being told
// to: DaemonSet pods (their controller would put them straight back), pods with
// emptyDir data, pods that no controller would recreate.

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "api/manifest/object.h"
#include "cli/commands.h"
#include "cli/cordon.h"

namespace reef::cli {
namespace {

struct DrainOptions {
  std::string node;
  bool ignore_daemonsets = false;
  bool delete_emptydir_data = false;
  bool force = false;
  std::string timeout = "0s";
};

// kubectl's words (k8s.io/kubectl/pkg/drain/filters.go), so that people and scripts
// that know kubectl recognise them.
constexpr std::string_view kDaemonSetFatal =
    "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
constexpr std::string_view kDaemonSetWarning = "ignoring DaemonSet-managed Pods";
constexpr std::string_view kLocalStorageFatal =
    "Pods with local storage (use --delete-emptydir-data to override)";
constexpr std::string_view kLocalStorageWarning = "deleting Pods with local storage";
constexpr std::string_view kUnmanagedFatal =
    "Pods declare no controller (use --force to override)";
constexpr std::string_view kUnmanagedWarning = "deleting Pods that declare no controller";

constexpr auto kPollInterval = std::chrono::milliseconds(500);

// What drain does with one pod, and what it says about it.
struct Verdict {
  enum Action { kDelete, kSkip, kRefuse };
  Action action = kDelete;
  std::string message;  // why it refuses, or a warning; may be empty for kDelete
};

const v1::OwnerReference* ControllerOf(const v1::ObjectMeta& meta) {
  for (const auto& ref : meta.owner_references()) {
    if (ref.controller()) return &ref;
  }
  return nullptr;
}

bool HasLocalStorage(const v1::PodSpec& spec) {
  for (const auto& v : spec.volumes()) {
    if (v.has_empty_dir()) return true;
  }
  return false;
}

std::string PodKey(const v1::ObjectMeta& meta) {
  return reef::StrCat(meta.namespace_(), "/", meta.name());
}

// kubectl's filters in its order: DaemonSet pods, local storage, unmanaged pods. A
// finished pod goes whatever it is.
Verdict Judge(const v1::Pod& pod, const DrainOptions& opts,
              const std::set<std::string>& daemonsets) {
  const std::string& phase = pod.status().phase();
  if (phase == "Succeeded" || phase == "Failed") return {};
  Verdict verdict;
  const v1::OwnerReference* owner = ControllerOf(pod.metadata());
  if (owner != nullptr && owner->kind() == "DaemonSet") {
    if (!daemonsets.contains(reef::StrCat(pod.metadata().namespace_(), "/", owner->name()))) {
      // An orphan: no controller would bring it back.
      std::string gone = reef::StrCat("daemonsets.apps \"", owner->name(), "\" not found");
      if (!opts.force) return {Verdict::kRefuse, gone};
      verdict = {Verdict::kDelete, gone};
    } else if (!opts.ignore_daemonsets) {
      return {Verdict::kRefuse, std::string(kDaemonSetFatal)};
    } else {
      return {Verdict::kSkip, std::string(kDaemonSetWarning)};
    }
  }
  if (HasLocalStorage(pod.spec())) {
    if (!opts.delete_emptydir_data) return {Verdict::kRefuse, std::string(kLocalStorageFatal)};
    verdict = {Verdict::kDelete, std::string(kLocalStorageWarning)};
  }
  if (owner == nullptr) {
    if (!opts.force) return {Verdict::kRefuse, std::string(kUnmanagedFatal)};
    verdict = {Verdict::kDelete, std::string(kUnmanagedWarning)};
  }
  return verdict;
}

// "message: ns/a, ns/b" per message, in the order the messages first came up.
std::vector<std::string> GroupByMessage(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> pods;
  for (const auto& [message, pod] : items) {
    if (!pods.contains(message)) order.push_back(message);
    pods[message].push_back(pod);
  }
  std::vector<std::string> out;
  for (const std::string& message : order) {
    out.push_back(reef::StrCat(message, ": ", absl::StrJoin(pods[message], ", ")));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Pod>> PodsOn(Client& client, const std::string& node) {
  ASSIGN_OR_RETURN(v1::ListResponse list, client.ListObjects("Pod", "", ""));
  std::vector<v1::Pod> pods;
  for (const auto& o : list.items()) {
    if (o.pod().spec().node_name() == node) pods.push_back(o.pod());
  }
  return pods;
}

absl::StatusOr<std::set<std::string>> DaemonSets(Client& client) {
  ASSIGN_OR_RETURN(v1::ListResponse list, client.ListObjects("DaemonSet", "", ""));
  std::set<std::string> keys;
  for (const auto& o : list.items()) keys.insert(PodKey(manifest::Meta(o)));
  return keys;
}

absl::Status DeletePod(Client& client, const v1::Pod& pod) {
  v1::DeleteRequest request;
  request.set_kind("Pod");
  request.set_namespace_(pod.metadata().namespace_());
  request.set_name(pod.metadata().name());
  v1::DeleteResponse response;
  auto ctx = client.Context();
  grpc::Status status = client.api().Delete(ctx.get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return absl::OkStatus();  // gone already
  return client.Explain(status, reef::StrCat("delete pod ", PodKey(pod.metadata())));
}

// Waits until none of `pods` (by uid: a namesake made since is another pod) is on the
// node, printing each as it goes. A zero timeout waits as long as it takes.
absl::Status WaitUntilGone(Client& client, const std::string& node, std::vector<v1::Pod> pods,
                           absl::Duration timeout) {
  const absl::Time deadline = timeout == absl::ZeroDuration() ? absl::InfiniteFuture()
                                                              : absl::Now() + timeout;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<v1::Pod> present, PodsOn(client, node));
    std::set<std::string> uids;
    for (const v1::Pod& p : present) uids.insert(p.metadata().uid());
    std::vector<v1::Pod> remaining;
    for (v1::Pod& p : pods) {
      if (uids.contains(p.metadata().uid())) {
        remaining.push_back(std::move(p));
      } else {
        std::cout << "pod/" << p.metadata().name() << " deleted\n" << std::flush;
      }
    }
    pods = std::move(remaining);
    if (pods.empty()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      std::vector<std::string> keys;
      for (const v1::Pod& p : pods) keys.push_back(PodKey(p.metadata()));
      return absl::DeadlineExceededError(
          reef::StrCat("drain did not complete within ", absl::FormatDuration(timeout),
                       "; still on the node: ", absl::StrJoin(keys, ", ")));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

absl::Status Drain(Client& client, const DrainOptions& opts, absl::Duration timeout) {
  RETURN_IF_ERROR(SetUnschedulable(client, opts.node, true));
  ASSIGN_OR_RETURN(std::vector<v1::Pod> pods, PodsOn(client, opts.node));
  ASSIGN_OR_RETURN(std::set<std::string> daemonsets, DaemonSets(client));

  std::vector<v1::Pod> doomed;
  std::vector<std::pair<std::string, std::string>> refusals, warnings;
  for (v1::Pod& pod : pods) {
    Verdict v = Judge(pod, opts, daemonsets);
    if (v.action == Verdict::kRefuse) {
      refusals.emplace_back(reef::StrCat("cannot delete ", v.message), PodKey(pod.metadata()));
      continue;
    }
    if (!v.message.empty()) warnings.emplace_back(v.message, PodKey(pod.metadata()));
    if (v.action == Verdict::kDelete) doomed.push_back(std::move(pod));
  }
  if (!refusals.empty()) {
    return absl::FailedPreconditionError(
        reef::StrCat("unable to drain node \"", opts.node, "\" (it stays cordoned):\n",
                     absl::StrJoin(GroupByMessage(refusals), "\n")));
  }
  if (!warnings.empty()) {
    std::cerr << "Warning: " << absl::StrJoin(GroupByMessage(warnings), "; ") << "\n";
  }
  for (const v1::Pod& pod : doomed) RETURN_IF_ERROR(DeletePod(client, pod));
  RETURN_IF_ERROR(WaitUntilGone(client, opts.node, std::move(doomed), timeout));
  std::cout << "node/" << opts.node << " drained\n";
  return absl::OkStatus();
}

int RunDrain(const DrainOptions& opts, const GlobalOptions& globals) {
  absl::Duration timeout;
  if (!absl::ParseDuration(opts.timeout, &timeout) || timeout < absl::ZeroDuration()) {
    return PrintError(absl::InvalidArgumentError(reef::StrCat(
        "--timeout \"", opts.timeout, "\": expected a duration such as 90s, 5m or 0 (no limit)")));
  }
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  absl::Status s = Drain(**client, opts, timeout);
  return s.ok() ? 0 : PrintError(s);
}

}  // namespace

void SetupDrain(CLI::App& root, CommandContext& ctx) {
  auto opts = std::make_shared<DrainOptions>();
  CLI::App* cmd = root.add_subcommand(
      "drain", "Cordon a node and delete its pods, so that their controllers move them");
  cmd->add_option("node", opts->node, "the node")->required();
  cmd->add_flag("--ignore-daemonsets", opts->ignore_daemonsets,
                "leave DaemonSet pods where they are instead of refusing");
  cmd->add_flag("--delete-emptydir-data", opts->delete_emptydir_data,
                "delete pods with emptyDir volumes, and their data");
  cmd->add_flag("--force", opts->force,
                "also delete pods that no controller would recreate");
  cmd->add_option("--timeout", opts->timeout,
                  "give up after this long, e.g. 90s or 5m (0: wait as long as it takes)")
      ->capture_default_str();
  cmd->callback([opts, &ctx] { ctx.exit_code = RunDrain(*opts, ctx.globals); });
}

}  // namespace reef::cli
