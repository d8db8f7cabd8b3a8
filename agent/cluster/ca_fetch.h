#pragma once
// Fetching the cluster CA before the agent trusts anything: the first step of a join.

#include <string>

#include "absl/time/time.h"
#include "common/status.h"

namespace reef::agent {

// Opens a TLS connection to the controller at `server` (HOST:PORT) without
// verifying it, and looks in the certificate chain it presents for the certificate
// whose sha256 (of its DER) is `expected_sha256`: the CA a join token pins. Returns
// that CA's PEM once the server's own certificate verifies against it.
//
// Nothing secret is sent on this connection. A chain without the pinned CA is
// FailedPrecondition: "the controller at X presents CA sha256:... but the token
// expects sha256:...". An unreachable server is Unavailable.
absl::StatusOr<std::string> FetchClusterCa(const std::string& server, std::string_view expected_sha256,
                                           absl::Duration timeout = absl::Seconds(10));

}  // namespace reef::agent
