#pragma once

#include <string>
#include <vector>

namespace reef::manifest {

// One problem with one field of an object: "spec.replicas: must be >= 0".
// line/column (1-based) point into the source document when known, else 0.
struct FieldError {
  std::string path;
  std::string message;
  int line = 0;
  int column = 0;
};

using FieldErrors = std::vector<FieldError>;

}  // namespace reef::manifest
