#include "agent/image/json_fields.h"

#include "absl/strings/str_format.h"

namespace reef::agent::image::json {
namespace {

absl::Status TypeError(std::string_view path, std::string_view expected) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: expected %s", path, expected));
}

}  // namespace

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return reef::StrCat(path, ".", key);
}

absl::StatusOr<Json> Parse(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: invalid JSON: %s", what, e.what()));
  }
}

absl::StatusOr<const Json*> Member(const Json& object, std::string_view key,
                                   std::string_view path) {
  if (!object.is_object()) return TypeError(path.empty() ? "document" : path, "an object");
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<std::string> String(const Json& object, std::string_view key, std::string_view path,
                                   bool required) {
  const std::string field = Join(path, key);
  ASSIGN_OR_RETURN(const Json* value, Member(object, key, path));
  if (value == nullptr) {
    if (required) return absl::InvalidArgumentError(absl::StrFormat("%s: required", field));
    return std::string();
  }
  if (!value->is_string()) return TypeError(field, "a string");
  return value->get<std::string>();
}

absl::StatusOr<int64_t> Int(const Json& object, std::string_view key, std::string_view path,
                            bool required) {
  const std::string field = Join(path, key);
  ASSIGN_OR_RETURN(const Json* value, Member(object, key, path));
  if (value == nullptr) {
    if (required) return absl::InvalidArgumentError(absl::StrFormat("%s: required", field));
    return 0;
  }
  if (!value->is_number_integer()) return TypeError(field, "an integer");
  return value->get<int64_t>();
}

absl::StatusOr<std::vector<std::string>> StringList(const Json& object, std::string_view key,
                                                    std::string_view path) {
  const std::string field = Join(path, key);
  ASSIGN_OR_RETURN(const Json* value, Member(object, key, path));
  std::vector<std::string> out;
  if (value == nullptr) return out;
  if (!value->is_array()) return TypeError(field, "a list of strings");
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_string()) return TypeError(absl::StrFormat("%s[%d]", field, i), "a string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> StringMap(const Json& object,
                                                             std::string_view key,
                                                             std::string_view path) {
  const std::string field = Join(path, key);
  ASSIGN_OR_RETURN(const Json* value, Member(object, key, path));
  std::map<std::string, std::string> out;
  if (value == nullptr) return out;
  if (!value->is_object()) return TypeError(field, "an object of strings");
  for (const auto& [k, v] : value->items()) {
    if (!v.is_string()) return TypeError(Join(field, k), "a string");
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

}  // namespace reef::agent::image::json
