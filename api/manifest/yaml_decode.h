#pragma once
// YAML -> proto through reflection, with Kubernetes' JSON field names. Internal to the
// manifest library (yaml-cpp does not leak out of it).
//
// Strict as Kubernetes' strict decoding: an unknown field, a duplicate key, a number
// where a string belongs (image: 123) or a string where a number belongs are errors
// that name the field path; decoding goes on after an error so that one pass reports
// every problem in a document.

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "api/manifest/field_error.h"
#include "api/manifest/object.h"

namespace reef::manifest {

struct DecodeState {
  FieldErrors errors;
  // Field path -> (line, column), 1-based, for every field decoded, so that later
  // validation errors can point into the source too.
  std::map<std::string, std::pair<int, int>> marks;
  // Nodes still allowed to visit: bounds the work an alias bomb can cause.
  int64_t node_budget = 200'000;

  void Error(const std::string& path, const YAML::Node& at, std::string message);
};

// Decodes one document (a mapping with apiVersion and kind). Returns nullopt when
// the kind cannot be determined; field errors go to `state`.
std::optional<Object> DecodeDocument(const YAML::Node& doc, DecodeState* state);

}  // namespace reef::manifest
