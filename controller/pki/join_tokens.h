#pragma once
// Join tokens on the controller's side: checking a presented token against the
// Secrets that record them, and the node-token every cluster starts with.

#include <string>

#include "common/join_token.h"
#include "controller/store/store.h"

namespace reef::controller {

// Checks a token a joining node presents. Returns the parsed token, or why it is
// refused, each reason its own message:
//   InvalidArgument   malformed
//   Unauthenticated   for another cluster's CA, unknown or revoked id, wrong key,
//                     expired (checked after the key, so only a key holder learns it)
absl::StatusOr<JoinToken> CheckJoinToken(store::Store& store, std::string_view text,
                                         std::string_view ca_sha256, absl::Time now);

// DATA_DIR/node-token (0600): a token with no expiry, made at first start and kept
// after, recorded as a join-token Secret like the others. Made again when the file
// is missing or pins another CA. Returns the file's path.
absl::StatusOr<std::string> EnsureNodeToken(store::Store& store, const std::string& data_dir,
                                            std::string_view ca_sha256);

}  // namespace reef::controller
