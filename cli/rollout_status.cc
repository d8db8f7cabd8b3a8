// reefctl rollout status (deployment|daemonset)/NAME [--timeout D] [--watch=false]:
// follows the object until its rollout is complete, printing kubectl's messages.

#include <optional>
#include <thread>

#include "absl/strings/str_format.h"
#include "api/manifest/object.h"
#include "cli/rollout.h"

namespace reef::cli {

absl::StatusOr<RolloutProgress> RolloutProgressOf(const v1::Object& object) {
  if (object.has_deployment()) {
    const v1::Deployment& d = object.deployment();
    const std::string& name = d.metadata().name();
    const v1::DeploymentStatus& s = d.status();
    if (d.metadata().generation() > s.observed_generation()) {
      return RolloutProgress{"Waiting for deployment spec update to be observed...", false};
    }
    for (const auto& c : s.conditions()) {
      if (c.type() == "Progressing" && c.reason() == "ProgressDeadlineExceeded") {
        return absl::DeadlineExceededError(absl::StrFormat("deployment \"%s\" exceeded its progress deadline", name));
      }
    }
    int32_t replicas = d.spec().has_replicas() ? d.spec().replicas() : 1;
    if (s.updated_replicas() < replicas) {
      return RolloutProgress{
          absl::StrFormat("Waiting for deployment \"%s\" rollout to finish: %d out of %d new replicas have been updated...",
                          name, s.updated_replicas(), replicas),
          false};
    }
    if (s.replicas() > s.updated_replicas()) {
      return RolloutProgress{
          absl::StrFormat("Waiting for deployment \"%s\" rollout to finish: %d old replicas are pending termination...",
                          name, s.replicas() - s.updated_replicas()),
          false};
    }
    if (s.available_replicas() < s.updated_replicas()) {
      return RolloutProgress{
          absl::StrFormat("Waiting for deployment \"%s\" rollout to finish: %d of %d updated replicas are available...",
                          name, s.available_replicas(), s.updated_replicas()),
          false};
    }
    return RolloutProgress{absl::StrFormat("deployment \"%s\" successfully rolled out", name), true};
  }
  if (object.has_daemon_set()) {
    const v1::DaemonSet& ds = object.daemon_set();
    const std::string& name = ds.metadata().name();
    const v1::DaemonSetStatus& s = ds.status();
    if (ds.spec().update_strategy().type() == "OnDelete") {
      return absl::FailedPreconditionError("rollout status is only available for RollingUpdate strategy type");
    }
    if (ds.metadata().generation() > s.observed_generation()) {
      return RolloutProgress{"Waiting for daemon set spec update to be observed...", false};
    }
    if (s.updated_number_scheduled() < s.desired_number_scheduled()) {
      return RolloutProgress{
          absl::StrFormat("Waiting for daemon set \"%s\" rollout to finish: %d out of %d new pods have been updated...",
                          name, s.updated_number_scheduled(), s.desired_number_scheduled()),
          false};
    }
    if (s.number_available() < s.desired_number_scheduled()) {
      return RolloutProgress{
          absl::StrFormat("Waiting for daemon set \"%s\" rollout to finish: %d of %d updated pods are available...",
                          name, s.number_available(), s.desired_number_scheduled()),
          false};
    }
    return RolloutProgress{absl::StrFormat("daemon set \"%s\" successfully rolled out", name), true};
  }
  return absl::InvalidArgumentError("rollout status is only available for deployments and daemonsets");
}

namespace {

// Prints the message when it differs from the last one. Returns the exit code once
// the rollout is done or failed.
std::optional<int> Show(const v1::Object& object, std::string* last) {
  absl::StatusOr<RolloutProgress> progress = RolloutProgressOf(object);
  if (!progress.ok()) return PrintError(progress.status());
  if (progress->message != *last) {
    std::cout << progress->message << std::endl;
    *last = progress->message;
  }
  if (progress->done) return 0;
  return std::nullopt;
}

}  // namespace

int RunRolloutStatus(const std::vector<std::string>& args, const std::string& timeout_text, bool watch,
                     const GlobalOptions& globals) {
  auto target = ResolveKindAndName(args);
  if (!target.ok()) return PrintError(target.status());
  auto [kind, name] = *target;
  absl::Duration timeout;
  if (!absl::ParseDuration(timeout_text, &timeout) || timeout < absl::ZeroDuration()) {
    return PrintError(absl::InvalidArgumentError(
        reef::StrCat("--timeout \"", timeout_text, "\": expected a duration such as 30s or 5m")));
  }
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  std::string ns = EffectiveNamespace(*kind, globals, false);
  auto object = (*client)->GetObject(kind->kind, ns, name);
  if (!object.ok()) return PrintError(object.status());
  std::string last;
  if (auto code = Show(*object, &last)) return *code;
  if (!watch) return 0;

  absl::Time deadline = timeout > absl::ZeroDuration() ? absl::Now() + timeout : absl::InfiniteFuture();
  int64_t revision = std::stoll(manifest::Meta(*object).resource_version());
  auto backoff = std::chrono::milliseconds(250);
  while (true) {
    v1::WatchRequest request;
    request.set_kind(std::string(kind->kind));
    request.set_namespace_(ns);
    request.set_from_revision(revision);
    auto ctx = (*client)->StreamContext();
    if (deadline != absl::InfiniteFuture()) ctx->set_deadline(absl::ToChronoTime(deadline));
    auto reader = (*client)->api().Watch(ctx.get(), request);
    v1::WatchEvent event;
    bool in_snapshot = false;  // after a RESET, until its BOOKMARK
    while (reader->Read(&event)) {
      backoff = std::chrono::milliseconds(250);
      if (event.type() == v1::WatchEvent::RESET) in_snapshot = true;
      if (event.type() == v1::WatchEvent::BOOKMARK) in_snapshot = false;
      if (!in_snapshot && event.revision() > revision) revision = event.revision();
      if (!event.has_object() || manifest::Meta(event.object()).name() != name) continue;
      if (event.type() == v1::WatchEvent::DELETED) {
        ctx->TryCancel();
        reader->Finish();
        return PrintError(absl::NotFoundError(reef::StrCat(manifest::ResourceName(event.object()), " was deleted")));
      }
      if (event.type() == v1::WatchEvent::ADDED || event.type() == v1::WatchEvent::MODIFIED) {
        if (auto code = Show(event.object(), &last)) {
          ctx->TryCancel();
          reader->Finish();
          return *code;
        }
      }
    }
    grpc::Status status = reader->Finish();
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED || absl::Now() >= deadline) {
      return PrintError(absl::DeadlineExceededError("timed out waiting for the condition"));
    }
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
      return PrintError((*client)->Explain(status, "watch"));
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace reef::cli
