#pragma once
// Reading untrusted JSON (registry answers, archive metadata) without exceptions: every
// accessor checks the type and names the field path in its error, e.g.
// `config.Env[2]: expected a string`.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace reef::agent::image::json {

using Json = nlohmann::json;

// InvalidArgument "<what>: invalid JSON: ..." on a syntax error; nested deeper than
// nlohmann's parser allows also fails cleanly.
absl::StatusOr<Json> Parse(std::string_view text, std::string_view what);

// A member of `object`, nullptr when absent or null. Fails when `object` is no object.
absl::StatusOr<const Json*> Member(const Json& object, std::string_view key, std::string_view path);

// Typed members. Optional ones yield their default when absent or null.
absl::StatusOr<std::string> String(const Json& object, std::string_view key, std::string_view path,
                                   bool required);
absl::StatusOr<int64_t> Int(const Json& object, std::string_view key, std::string_view path,
                            bool required);
absl::StatusOr<std::vector<std::string>> StringList(const Json& object, std::string_view key,
                                                    std::string_view path);
absl::StatusOr<std::map<std::string, std::string>> StringMap(const Json& object,
                                                             std::string_view key,
                                                             std::string_view path);

// "a.b" from "a" and "b"; "b" when `path` is empty.
std::string Join(std::string_view path, std::string_view key);

}  // namespace reef::agent::image::json
