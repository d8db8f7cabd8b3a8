#include "api/manifest/manifest.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "api/manifest/defaults.h"
#include "api/manifest/validate.h"
#include "api/manifest/yaml_decode.h"
#include "common/files.h"

namespace reef::manifest {
namespace {

// The mark of the longest recorded prefix of `path`, so that an error on a field the
// author never wrote (a missing spec.containers) points at its parent.
std::pair<int, int> FindMark(const DecodeState& st, std::string path) {
  while (true) {
    auto it = st.marks.find(path);
    if (it != st.marks.end()) return it->second;
    size_t cut = path.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) return {0, 0};
    path.resize(cut);
  }
}

std::string DocumentLabel(int index, const std::optional<Object>& object) {
  if (!object) return reef::StrCat("document ", index);
  return reef::StrCat("document ", index, " (", DisplayName(*object), ")");
}

std::string FormatError(std::string_view source, int line, int column, const std::string& doc,
                        const FieldError& e) {
  std::string where = line > 0 ? reef::StrCat(source, ":", line, ":", column) : std::string(source);
  std::string field = e.path.empty() ? "" : reef::StrCat(e.path, ": ");
  return reef::StrCat(where, ": ", doc, ": ", field, e.message);
}

// Decodes, defaults and validates one document (or the items of a List) into `out`,
// appending one formatted line per problem to `errors`. `node_budget` is shared by
// every document and List item, so that aliases repeated across them cannot multiply
// the work the budget bounds.
void ParseDocument(std::string_view source, int index, const YAML::Node& doc,
                   const ParseOptions& options, bool in_list, int64_t* node_budget,
                   std::vector<Object>* out, std::vector<std::string>* errors) {
  // A missing key is an invalid node whose IsScalar() throws: test IsDefined() first.
  // Items are not searched for Lists again: an alias can make a List its own item.
  if (!in_list && doc.IsMap() && doc["kind"].IsDefined() && doc["kind"].IsScalar() &&
      doc["kind"].Scalar() == "List" && doc["items"].IsDefined() && doc["items"].IsSequence()) {
    for (const YAML::Node& item : doc["items"]) {
      ParseDocument(source, index, item, options, true, node_budget, out, errors);
    }
    return;
  }
  DecodeState st;
  st.node_budget = *node_budget;
  std::optional<Object> object = DecodeDocument(doc, &st);
  *node_budget = std::max<int64_t>(st.node_budget, 0);
  if (object) {
    ObjectMeta* meta = MutableMeta(&*object);
    const std::string& ns_override = options.namespace_override;
    if (!ns_override.empty() && KindOf(*object)->namespaced) {
      if (meta->namespace_().empty()) {
        meta->set_namespace_(ns_override);
      } else if (meta->namespace_() != ns_override) {
        st.errors.push_back({"metadata.namespace",
                             reef::StrCat("\"", meta->namespace_(), "\" does not match the namespace \"",
                                          ns_override, "\" given with -n")});
      }
    }
    // Defaulted even when decoding failed, so that messages name the object as the
    // server would ("Deployment default/web"). Validation errors would repeat what
    // decoding already reported; validate only a cleanly decoded document.
    ApplyDefaults(&*object);
    if (st.errors.empty()) {
      for (FieldError& e : options.status_only ? ValidateForStatus(*object) : Validate(*object)) {
        st.errors.push_back(std::move(e));
      }
    }
  }
  std::string label = DocumentLabel(index, object);
  for (const FieldError& e : st.errors) {
    auto [line, column] = e.line > 0 ? std::make_pair(e.line, e.column) : FindMark(st, e.path);
    if (line == 0) {
      YAML::Mark m = doc.Mark();
      line = m.line + 1;
      column = m.column + 1;
    }
    errors->push_back(FormatError(source, line, column, label, e));
  }
  if (object && st.errors.empty()) out->push_back(std::move(*object));
}

}  // namespace

absl::StatusOr<std::vector<Object>> ParseManifest(std::string_view source, std::string_view text,
                                                  const ParseOptions& options) {
  if (text.size() > kMaxManifestBytes) {
    return absl::InvalidArgumentError(SizeLimitMessage(source, text.size(), kMaxManifestBytes));
  }
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(reef::StrCat(source, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": invalid YAML: ", e.msg));
  }
  std::vector<Object> objects;
  std::vector<std::string> errors;
  int64_t node_budget = DecodeState().node_budget;
  int index = 0;
  for (const YAML::Node& doc : docs) {
    ++index;
    if (doc.IsNull()) continue;  // "---" with nothing under it
    ParseDocument(source, index, doc, options, false, &node_budget, &objects, &errors);
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return objects;
}

}  // namespace reef::manifest
