#include "controller/pki/join_tokens.h"

#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"

namespace reef::controller {

absl::StatusOr<JoinToken> CheckJoinToken(store::Store& store, std::string_view text,
                                         std::string_view ca_sha256, absl::Time now) {
  ASSIGN_OR_RETURN(JoinToken token, JoinToken::Parse(text));
  if (token.ca_sha256 != ca_sha256) {
    return absl::UnauthenticatedError(reef::StrCat("the token pins CA sha256:", token.ca_sha256,
                                                   ", which is not this cluster's CA (sha256:",
                                                   ca_sha256, ")"));
  }
  store::Key key{"Secret", std::string(kJoinTokenNamespace), JoinTokenSecretName(token.id)};
  auto secret = store.Get(key);
  if (absl::IsNotFound(secret.status())) {
    return absl::UnauthenticatedError(
        reef::StrCat("join token \"", token.id, "\" is unknown or has been revoked"));
  }
  RETURN_IF_ERROR(secret.status());
  auto record = JoinTokenRecord::FromSecret(*secret);
  if (!record.ok()) {
    return Annotate(record.status(), reef::StrCat("join token \"", token.id, "\": Secret ",
                                                  kJoinTokenNamespace, "/", key.name));
  }
  if (!record->KeyMatches(token.key)) {
    return absl::UnauthenticatedError(reef::StrCat("join token \"", token.id, "\": wrong secret"));
  }
  if (record->expires && *record->expires <= now) {
    return absl::UnauthenticatedError(reef::StrCat("join token \"", token.id, "\" expired at ",
                                                   FormatTimestamp(*record->expires)));
  }
  return token;
}

absl::StatusOr<std::string> EnsureNodeToken(store::Store& store, const std::string& data_dir,
                                            std::string_view ca_sha256) {
  std::string path = data_dir + "/node-token";
  auto existing = ReadFileLimited(path, 4096);
  if (existing.ok()) {
    auto token = JoinToken::Parse(*existing);
    if (token.ok() && token->ca_sha256 == ca_sha256) return path;
    REEF_LOG(Warning) << path << " does not hold a token for this cluster's CA; writing a new one";
  } else if (!absl::IsNotFound(existing.status())) {
    return existing.status();
  }
  JoinToken token = JoinToken::Generate(ca_sha256);
  JoinTokenRecord record =
      JoinTokenRecord::For(token, std::nullopt, reef::StrCat("the node-token file, made at first start"));
  RETURN_IF_ERROR(store.Update([&](store::Txn& txn) { return txn.Create(record.ToSecret()).status(); })
                      .status());
  // The Secret first: a file whose token the store does not know would be useless.
  RETURN_IF_ERROR(WriteFileAtomic(path, token.ToString() + "\n", 0600));
  return path;
}

}  // namespace reef::controller
