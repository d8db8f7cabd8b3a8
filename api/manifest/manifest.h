#pragma once
// Manifest files -> validated objects: multi-document YAML (or JSON), decoded
// strictly, defaulted and validated as a whole before anything is written.

#include <string>
#include <vector>

#include "api/manifest/object.h"
#include "common/status.h"

namespace reef::manifest {

// A manifest larger than this is refused before it is parsed. Kubernetes' API server
// takes requests up to 3 MiB.
inline constexpr size_t kMaxManifestBytes = 3 * 1024 * 1024;

struct ParseOptions {
  // `reefctl -n NS`: objects without a namespace go there; one that names another
  // namespace is an error, as with kubectl.
  std::string namespace_override;
  // The documents carry status for existing objects (`apply --subresource=status`):
  // validated with ValidateForStatus, so a spec may be left out.
  bool status_only = false;
};

// Parses every document of `text` (`source` names it in errors: a file name or
// "<stdin>"). Empty documents are skipped; a `kind: List` contributes its items.
// Any error in any document fails the whole manifest with InvalidArgument; its
// message has one line per problem, e.g.
//   web.yaml:14:9: document 2 (Deployment default/web): spec.template.spec.affinity: field not supported
absl::StatusOr<std::vector<Object>> ParseManifest(std::string_view source, std::string_view text,
                                                  const ParseOptions& options = {});

}  // namespace reef::manifest
