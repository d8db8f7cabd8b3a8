#include "cli/update.h"

namespace reef::cli {
namespace {

// Conflicts come from writers that raced us once; a handful of rounds is plenty.
constexpr int kAttempts = 5;

}  // namespace

absl::StatusOr<UpdateResult> UpdateObject(Client& client, std::string_view kind,
                                          const std::string& ns, const std::string& name,
                                          const Mutation& mutate) {
  grpc::Status status;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ASSIGN_OR_RETURN(reef::v1::Object object, client.GetObject(kind, ns, name));
    ASSIGN_OR_RETURN(bool changed, mutate(object));
    if (!changed) return UpdateResult{std::move(object), false};
    // The object carries the resourceVersion it was read at: a write in between
    // makes this one a conflict (Aborted) rather than undoing it.
    reef::v1::ApplyRequest request;
    *request.add_objects() = std::move(object);
    reef::v1::ApplyResponse response;
    auto ctx = client.Context();
    status = client.api().Apply(ctx.get(), request, &response);
    if (status.ok() && response.results_size() == 1) {
      return UpdateResult{response.results(0).object(), true};
    }
    if (status.error_code() != grpc::StatusCode::ABORTED) break;
  }
  if (status.ok()) return absl::InternalError("apply: the controller returned no result");
  return client.Explain(status, reef::StrCat("update ", kind, " ", name));
}

}  // namespace reef::cli
