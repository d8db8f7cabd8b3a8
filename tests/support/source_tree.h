#pragma once
// Files of the source tree (manifests/examples, ...) for tests: ctest sets
// REEF_SOURCE_DIR to the repository's root.

#include <string>
#include <string_view>

namespace reef::testing {

// The repository's root; throws when REEF_SOURCE_DIR is not set.
std::string SourceDir();

// A file below the root, e.g. "manifests/examples/pod.yaml"; throws naming the path
// when it cannot be read.
std::string ReadSourceFile(std::string_view relative_path);

}  // namespace reef::testing
