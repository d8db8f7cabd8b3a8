#include "controller/server/api_service.h"

#include <set>

#include "absl/strings/str_join.h"
#include "api/manifest/defaults.h"
#include "api/manifest/validate.h"
#include "common/grpc_status.h"
#include "common/version.h"
#include "controller/server/auth.h"
#include "controller/server/logs_reactor.h"
#include "controller/server/watch_reactor.h"

namespace reef::controller {
namespace {

using manifest::KindOf;
using manifest::Meta;
using store::Key;
using store::KeyOf;

grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

// The one status a dry run returns from its transaction so that nothing commits.
const absl::Status& DryRunRollback() {
  static const absl::Status* s = new absl::Status(absl::CancelledError("dry run: rolled back"));
  return *s;
}

absl::Status Prepare(v1::Object* object) {
  const manifest::KindInfo* kind = KindOf(*object);
  if (kind == nullptr) return absl::InvalidArgumentError("object has no kind set");
  manifest::ClearStatus(object);  // status belongs to the controller and agents
  manifest::ApplyDefaults(object);
  manifest::FieldErrors errors = manifest::Validate(*object);
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const auto& e : errors) {
    lines.push_back(reef::StrCat(manifest::DisplayName(*object), ": ",
                                 e.path.empty() ? "" : reef::StrCat(e.path, ": "), e.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

// For `apply --subresource=status`: only what finds the object and the status itself
// are checked; the spec is not read.
absl::Status PrepareStatus(v1::Object* object) {
  if (KindOf(*object) == nullptr) return absl::InvalidArgumentError("object has no kind set");
  manifest::ApplyDefaults(object);  // the default namespace
  manifest::FieldErrors errors = manifest::ValidateForStatus(*object);
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const auto& e : errors) {
    lines.push_back(reef::StrCat(manifest::DisplayName(*object), ": ",
                                 e.path.empty() ? "" : reef::StrCat(e.path, ": "), e.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

absl::Status CheckNamespace(store::Txn& txn, const v1::Object& object) {
  const manifest::KindInfo* kind = KindOf(object);
  if (!kind->namespaced) return absl::OkStatus();
  const std::string& ns = Meta(object).namespace_();
  if (txn.Get(Key{"Namespace", "", ns}).ok()) return absl::OkStatus();
  return absl::NotFoundError(reef::StrCat(manifest::DisplayName(object), ": namespace \"", ns,
                                          "\" not found (create it first, or in the same apply)"));
}

// A Pod's node, once bound, is kept when a manifest without spec.nodeName is applied
// again (as kubectl apply's merge keeps fields the manifest does not set): clearing
// it would unbind the pod, and its agent would stop it for the scheduler to start it
// again. Moving a bound pod to another node is refused, as in Kubernetes.
absl::Status KeepPodBinding(const v1::Object& existing, v1::Object* object) {
  if (!existing.has_pod() || !object->has_pod()) return absl::OkStatus();
  const std::string& bound = existing.pod().spec().node_name();
  std::string* wanted = object->mutable_pod()->mutable_spec()->mutable_node_name();
  if (bound.empty() || *wanted == bound) return absl::OkStatus();
  if (wanted->empty()) {
    *wanted = bound;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(reef::StrCat(manifest::DisplayName(*object),
                                                 ": spec.nodeName: the pod is bound to node \"", bound,
                                                 "\" and cannot move to \"", *wanted,
                                                 "\" (delete it and create it again)"));
}

absl::StatusOr<v1::ApplyResult> ApplyOne(store::Txn& txn, v1::Object object) {
  RETURN_IF_ERROR(CheckNamespace(txn, object));
  v1::ApplyResult result;
  auto existing = txn.Get(KeyOf(object));
  if (absl::IsNotFound(existing.status())) {
    if (!Meta(object).resource_version().empty()) {
      // The writer read an object that has since been deleted: its view is stale.
      return store::ConflictError(object);
    }
    ASSIGN_OR_RETURN(*result.mutable_object(), txn.Create(std::move(object)));
    result.set_outcome(v1::ApplyResult::CREATED);
    return result;
  }
  RETURN_IF_ERROR(existing.status());
  manifest::CopyStatus(*existing, &object);
  RETURN_IF_ERROR(KeepPodBinding(*existing, &object));
  ASSIGN_OR_RETURN(*result.mutable_object(), txn.Update(std::move(object)));
  bool unchanged = Meta(result.object()).resource_version() == Meta(*existing).resource_version();
  result.set_outcome(unchanged ? v1::ApplyResult::UNCHANGED : v1::ApplyResult::CONFIGURED);
  return result;
}

// The stored object with `object`'s status: metadata and spec stay as they are.
absl::StatusOr<v1::ApplyResult> ApplyStatusOne(store::Txn& txn, const v1::Object& object) {
  ASSIGN_OR_RETURN(v1::Object stored, txn.Get(KeyOf(object)));
  const std::string& rv = Meta(object).resource_version();
  if (!rv.empty() && rv != Meta(stored).resource_version()) return store::ConflictError(object);
  std::string before = Meta(stored).resource_version();
  manifest::CopyStatus(object, &stored);
  v1::ApplyResult result;
  ASSIGN_OR_RETURN(*result.mutable_object(), txn.Update(std::move(stored)));
  bool unchanged = Meta(result.object()).resource_version() == before;
  result.set_outcome(unchanged ? v1::ApplyResult::UNCHANGED : v1::ApplyResult::CONFIGURED);
  return result;
}

void AddDeleted(const Key& key, v1::DeleteResponse* resp) {
  v1::ObjectKey* out = resp->add_deleted();
  out->set_kind(key.kind);
  out->set_namespace_(key.ns);
  out->set_name(key.name);
}

// Deletes `key` and, depth first, whatever it owns through ownerReferences. Appends
// the deleted keys to `resp`.
absl::Status DeleteCascading(store::Txn& txn, const Key& key, const std::string& resource_version,
                             v1::DeleteResponse* resp) {
  ASSIGN_OR_RETURN(v1::Object gone, txn.Delete(key, resource_version));
  AddDeleted(key, resp);
  const std::string& uid = Meta(gone).uid();
  if (key.kind == "Namespace") {
    // Everything in it goes, whatever owns what: one list per kind.
    for (const manifest::KindInfo& kind : manifest::AllKinds()) {
      if (!kind.namespaced) continue;
      ASSIGN_OR_RETURN(auto items, txn.List(store::ListOptions{std::string(kind.kind), key.name, {}}));
      for (const v1::Object& item : items) {
        RETURN_IF_ERROR(txn.Delete(KeyOf(item), "").status());
        AddDeleted(KeyOf(item), resp);
      }
    }
    return absl::OkStatus();
  }
  if (key.ns.empty()) return absl::OkStatus();  // cluster-scoped objects own nothing here
  for (const manifest::KindInfo& kind : manifest::AllKinds()) {
    if (!kind.namespaced) continue;
    // Owners and dependents share a namespace.
    ASSIGN_OR_RETURN(auto items, txn.List(store::ListOptions{std::string(kind.kind), key.ns, {}}));
    for (const v1::Object& item : items) {
      bool owned = false;
      for (const auto& ref : Meta(item).owner_references()) owned |= ref.uid() == uid;
      if (!owned) continue;
      absl::Status s = DeleteCascading(txn, KeyOf(item), "", resp);
      if (!s.ok() && !absl::IsNotFound(s)) return s;  // already gone through another owner
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<const manifest::KindInfo*> RequestKind(const std::string& kind) {
  const manifest::KindInfo* k = manifest::FindKind(kind);
  if (k == nullptr) return absl::InvalidArgumentError(reef::StrCat("unknown kind \"", kind, "\""));
  return k;
}

absl::Status ApiServiceImpl::DoApply(const v1::ApplyRequest& req, v1::ApplyResponse* resp) {
  if (req.objects().empty()) return absl::InvalidArgumentError("nothing to apply");
  bool status_only = req.subresource() == "status";
  if (!status_only && !req.subresource().empty()) {
    return absl::InvalidArgumentError(
        reef::StrCat("unknown subresource \"", req.subresource(), "\": only status is supported"));
  }
  std::vector<v1::Object> objects(req.objects().begin(), req.objects().end());
  std::set<std::string> keys;
  for (v1::Object& o : objects) {
    RETURN_IF_ERROR(status_only ? PrepareStatus(&o) : Prepare(&o));
    if (!keys.insert(store::ToString(KeyOf(o))).second) {
      return absl::InvalidArgumentError(
          reef::StrCat(manifest::DisplayName(o), ": appears twice in one apply"));
    }
  }
  // Namespaces first, so that a manifest may create a namespace and fill it.
  std::vector<size_t> order(objects.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(),
                        [&](size_t i) { return objects[i].has_namespace_(); });
  std::vector<v1::ApplyResult> results(objects.size());
  auto revision = store_->Update([&](store::Txn& txn) -> absl::Status {
    for (size_t i : order) {
      ASSIGN_OR_RETURN(results[i], status_only ? ApplyStatusOne(txn, objects[i])
                                               : ApplyOne(txn, objects[i]));
    }
    return req.dry_run() ? DryRunRollback() : absl::OkStatus();
  });
  if (!revision.ok() && revision.status() != DryRunRollback()) return revision.status();
  for (auto& r : results) *resp->add_results() = std::move(r);
  resp->set_revision(revision.ok() ? *revision : store_->Revision());
  return absl::OkStatus();
}

absl::Status ApiServiceImpl::DoDelete(const v1::DeleteRequest& req, v1::DeleteResponse* resp) {
  ASSIGN_OR_RETURN(const manifest::KindInfo* kind, RequestKind(req.kind()));
  Key key{std::string(kind->kind), kind->namespaced ? req.namespace_() : "", req.name()};
  if (kind->namespaced && key.ns.empty()) key.ns = "default";
  if (key.kind == "Namespace" && key.name == "default") {
    return absl::FailedPreconditionError("namespace \"default\" cannot be deleted");
  }
  ASSIGN_OR_RETURN(int64_t revision, store_->Update([&](store::Txn& txn) {
    resp->clear_deleted();
    return DeleteCascading(txn, key, req.resource_version(), resp);
  }));
  resp->set_revision(revision);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ApiServiceImpl::Apply(grpc::CallbackServerContext* ctx,
                                                const v1::ApplyRequest* req,
                                                v1::ApplyResponse* resp) {
  if (absl::Status s = RequireAdmin(*ctx, "apply"); !s.ok()) return Respond(ctx, s);
  return Respond(ctx, DoApply(*req, resp));
}

grpc::ServerUnaryReactor* ApiServiceImpl::Get(grpc::CallbackServerContext* ctx,
                                              const v1::GetRequest* req, v1::Object* resp) {
  if (absl::Status s = RequireAdmin(*ctx, "get"); !s.ok()) return Respond(ctx, s);
  auto kind = RequestKind(req->kind());
  if (!kind.ok()) return Respond(ctx, kind.status());
  Key key{req->kind(), (*kind)->namespaced ? req->namespace_() : "", req->name()};
  if ((*kind)->namespaced && key.ns.empty()) key.ns = "default";
  auto object = store_->Get(key);
  if (object.ok()) *resp = std::move(*object);
  return Respond(ctx, object.status());
}

grpc::ServerUnaryReactor* ApiServiceImpl::List(grpc::CallbackServerContext* ctx,
                                               const v1::ListRequest* req,
                                               v1::ListResponse* resp) {
  if (absl::Status s = RequireAdmin(*ctx, "list"); !s.ok()) return Respond(ctx, s);
  auto kind = RequestKind(req->kind());
  if (!kind.ok()) return Respond(ctx, kind.status());
  auto selector = manifest::Selector::Parse(req->label_selector());
  if (!selector.ok()) return Respond(ctx, selector.status());
  auto list = store_->List(store::ListOptions{req->kind(), req->namespace_(), *selector});
  if (!list.ok()) return Respond(ctx, list.status());
  for (auto& item : list->items) *resp->add_items() = std::move(item);
  resp->set_revision(list->revision);
  return Respond(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* ApiServiceImpl::Delete(grpc::CallbackServerContext* ctx,
                                                 const v1::DeleteRequest* req,
                                                 v1::DeleteResponse* resp) {
  if (absl::Status s = RequireAdmin(*ctx, "delete"); !s.ok()) return Respond(ctx, s);
  return Respond(ctx, DoDelete(*req, resp));
}

grpc::ServerWriteReactor<v1::WatchEvent>* ApiServiceImpl::Watch(grpc::CallbackServerContext* ctx,
                                                                const v1::WatchRequest* req) {
  if (absl::Status s = RequireAdmin(*ctx, "watch"); !s.ok()) return RefuseStream<v1::WatchEvent>(s);
  return WatchReactor::Start(store_, *req);
}

grpc::ServerWriteReactor<v1::LogsChunk>* ApiServiceImpl::Logs(grpc::CallbackServerContext* ctx,
                                                             const v1::LogsRequest* req) {
  if (absl::Status s = RequireAdmin(*ctx, "logs"); !s.ok()) return RefuseStream<v1::LogsChunk>(s);
  return LogsReactor::Start(store_, agents_, *req);
}

grpc::ServerUnaryReactor* ApiServiceImpl::Top(grpc::CallbackServerContext* ctx, const v1::TopRequest* req,
                                              v1::TopResponse* resp) {
  if (absl::Status s = RequireAdmin(*ctx, "top"); !s.ok()) return Respond(ctx, s);
  if (metrics_ == nullptr) return Respond(ctx, absl::UnavailableError("this controller serves no metrics"));
  return Respond(ctx, metrics_->Top(*req, resp));
}

grpc::ServerUnaryReactor* ApiServiceImpl::Version(grpc::CallbackServerContext* ctx,
                                                  const v1::VersionRequest* req,
                                                  v1::VersionResponse* resp) {
  (void)req;
  if (absl::Status s = RequireAdmin(*ctx, "version"); !s.ok()) return Respond(ctx, s);
  resp->set_version(kVersion);
  resp->set_git_commit(kGitCommit);
  resp->set_platform(kPlatform);
  resp->set_revision(store_->Revision());
  return Respond(ctx, absl::OkStatus());
}

}  // namespace reef::controller
