#include "controller/store/store.h"

#include "api/manifest/kinds.h"

namespace reef::store {
namespace {

std::string GroupResource(std::string_view kind) {
  const manifest::KindInfo* k = manifest::FindKind(kind);
  if (k == nullptr) return std::string(kind);
  // "deployment.apps" -> "deployments.apps", as in Kubernetes' messages.
  std::string_view gr = k->group_resource;
  size_t dot = gr.find('.');
  return dot == std::string_view::npos ? std::string(k->plural)
                                       : reef::StrCat(k->plural, gr.substr(dot));
}

}  // namespace

Key KeyOf(const Object& object) {
  const manifest::KindInfo* kind = manifest::KindOf(object);
  const auto& meta = manifest::Meta(object);
  return Key{kind ? std::string(kind->kind) : "", meta.namespace_(), meta.name()};
}

std::string ToString(const Key& key) {
  return key.ns.empty() ? reef::StrCat(key.kind, " ", key.name)
                        : reef::StrCat(key.kind, " ", key.ns, "/", key.name);
}

absl::Status ConflictError(const Object& object) {
  Key key = KeyOf(object);
  return absl::AbortedError(reef::StrCat(
      "Operation cannot be fulfilled on ", GroupResource(key.kind), " \"", key.name,
      "\": the object has been modified (resourceVersion ", manifest::Meta(object).resource_version(),
      " is stale); get the latest version and try again"));
}

absl::Status NotFoundError(const Key& key) {
  std::string where = key.ns.empty() ? "" : reef::StrCat(" in namespace \"", key.ns, "\"");
  return absl::NotFoundError(
      reef::StrCat(GroupResource(key.kind), " \"", key.name, "\" not found", where));
}

}  // namespace reef::store
