#include "api/manifest/yaml_decode.h"

#include <charconv>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "reef/v1/options.pb.h"

namespace reef::manifest {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// What a YAML 1.2 (core schema) plain scalar resolves to. Quoted scalars are strings.
enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

bool IsPlain(const YAML::Node& n) { return n.Tag() == "?" || n.Tag().empty(); }

bool IsIntText(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  return s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool IsFloatText(std::string_view s) {
  if (s == ".inf" || s == "-.inf" || s == "+.inf" || s == ".nan" || s == ".Inf" ||
      s == ".NaN" || s == ".INF" || s == ".NAN")
    return true;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  size_t i = 0, digits = 0;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_start = i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == exp_start) return false;
  }
  return i == s.size();
}

ScalarType Classify(const YAML::Node& n) {
  if (n.IsNull()) return ScalarType::kNull;
  if (!IsPlain(n)) return ScalarType::kString;
  const std::string& s = n.Scalar();
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarType::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return ScalarType::kBool;
  if (IsIntText(s)) return ScalarType::kInt;
  if (IsFloatText(s)) return ScalarType::kFloat;
  return ScalarType::kString;
}

std::string Describe(const YAML::Node& n) {
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  switch (Classify(n)) {
    case ScalarType::kNull: return "null";
    case ScalarType::kBool: return reef::StrCat("the boolean ", n.Scalar());
    case ScalarType::kInt:
    case ScalarType::kFloat: return reef::StrCat("the number ", n.Scalar());
    case ScalarType::kString: return reef::StrCat("the string \"", n.Scalar(), "\"");
  }
  return "a value";
}

// Proto3 string fields must hold UTF-8 (the wire parser rejects anything else, and
// so does the JSON writer), and yaml-cpp passes invalid bytes through.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int more;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) more = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) more = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) more = 3, cp = c & 0x07, min = 0x10000;
    else return false;
    for (int k = 1; k <= more; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past Unicode are invalid.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += more + 1;
  }
  return true;
}

const FieldDescriptor* FindByJsonName(const google::protobuf::Descriptor* d, std::string_view key) {
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == key) return d->field(i);
  }
  return nullptr;
}

// Fields whose string value may be written as a YAML number: quantities ("cpu: 1")
// and IntOrString ("port: 8080").
bool AcceptsNumbers(const FieldDescriptor* f) {
  return f->options().GetExtension(reef::v1::quantity) ||
         f->options().GetExtension(reef::v1::int_or_string);
}

class Decoder {
 public:
  explicit Decoder(DecodeState* st) : st_(st) {}

  void DecodeMessage(const YAML::Node& node, Message* msg, const std::string& path,
                     const std::set<std::string>& skip_keys = {}) {
    if (!Spend(node, path)) return;
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      st_->Error(path, node, reef::StrCat("expected a mapping, got ", Describe(node)));
      return;
    }
    std::set<std::string> seen;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        st_->Error(path, kv.first, "a key must be a plain string");
        continue;
      }
      const std::string& key = kv.first.Scalar();
      std::string child = path.empty() ? key : reef::StrCat(path, ".", key);
      if (!seen.insert(key).second) {
        st_->Error(child, kv.first, "duplicate field");
        continue;
      }
      if (skip_keys.count(key)) continue;
      Mark(child, kv.second.IsDefined() && !kv.second.IsNull() ? kv.second : kv.first);
      const FieldDescriptor* f = FindByJsonName(msg->GetDescriptor(), key);
      if (f == nullptr) {
        st_->Error(child, kv.first, "field not supported");
        continue;
      }
      DecodeField(kv.second, msg, f, child);
    }
  }

 private:
  bool Spend(const YAML::Node& node, const std::string& path) {
    if (--st_->node_budget >= 0) return true;
    if (st_->node_budget == -1) {
      st_->Error(path, node, "document too complex (too many nodes after alias expansion)");
    }
    return false;
  }

  void Mark(const std::string& path, const YAML::Node& node) {
    YAML::Mark m = node.Mark();
    if (m.line >= 0) st_->marks.emplace(path, std::make_pair(m.line + 1, m.column + 1));
  }

  void DecodeField(const YAML::Node& node, Message* msg, const FieldDescriptor* f,
                   const std::string& path) {
    const Reflection* r = msg->GetReflection();
    if (f->is_map()) {
      DecodeMap(node, msg, f, path);
    } else if (f->is_repeated()) {
      if (node.IsNull()) return;
      if (!node.IsSequence()) {
        st_->Error(path, node, reef::StrCat("expected a list, got ", Describe(node)));
        return;
      }
      for (size_t i = 0; i < node.size(); ++i) {
        std::string item = reef::StrCat(path, "[", i, "]");
        Mark(item, node[i]);
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          DecodeMessage(node[i], r->AddMessage(msg, f), item);
        } else {
          DecodeScalar(node[i], msg, f, f, item);
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      // A present but empty message matters ("emptyDir: {}" picks the volume type).
      DecodeMessage(node, r->MutableMessage(msg, f), path);
    } else {
      DecodeScalar(node, msg, f, f, path);
    }
  }

  void DecodeMap(const YAML::Node& node, Message* msg, const FieldDescriptor* f,
                 const std::string& path) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      st_->Error(path, node, reef::StrCat("expected a mapping, got ", Describe(node)));
      return;
    }
    const FieldDescriptor* key_f = f->message_type()->map_key();
    const FieldDescriptor* value_f = f->message_type()->map_value();
    std::set<std::string> seen;
    for (const auto& kv : node) {
      if (!Spend(kv.second, path)) return;
      if (!kv.first.IsScalar()) {
        st_->Error(path, kv.first, "a key must be a plain string");
        continue;
      }
      const std::string& key = kv.first.Scalar();
      std::string child = reef::StrCat(path, "[", key, "]");
      Mark(child, kv.second.IsDefined() && !kv.second.IsNull() ? kv.second : kv.first);
      if (!seen.insert(key).second) {
        st_->Error(child, kv.first, "duplicate key");
        continue;
      }
      if (!IsValidUtf8(key)) {
        st_->Error(path, kv.first, "a key is not valid UTF-8");
        continue;
      }
      Message* entry = msg->GetReflection()->AddMessage(msg, f);
      entry->GetReflection()->SetString(entry, key_f, key);
      // The map field carries the annotations (quantity) for its values.
      DecodeScalar(kv.second, entry, value_f, f, child);
    }
  }

  // `annotated` is the field whose options apply (the map field for map values).
  void DecodeScalar(const YAML::Node& node, Message* msg, const FieldDescriptor* f,
                    const FieldDescriptor* annotated, const std::string& path) {
    if (!Spend(node, path)) return;
    if (!node.IsScalar() && !node.IsNull()) {
      st_->Error(path, node, reef::StrCat("expected a single value, got ", Describe(node)));
      return;
    }
    const Reflection* r = msg->GetReflection();
    ScalarType type = Classify(node);
    const std::string text = node.IsNull() ? "" : node.Scalar();
    auto set_string = [&](std::string v) {
      if (f->is_repeated()) r->AddString(msg, f, std::move(v));
      else r->SetString(msg, f, std::move(v));
    };
    switch (f->type()) {
      case FieldDescriptor::TYPE_STRING:
        if (type == ScalarType::kNull && !f->is_repeated()) return;
        if (!IsValidUtf8(text)) {
          st_->Error(path, node, "not valid UTF-8");
          return;
        }
        if (type == ScalarType::kString || type == ScalarType::kNull ||
            (AcceptsNumbers(annotated) &&
             (type == ScalarType::kInt || type == ScalarType::kFloat))) {
          set_string(text);
        } else {
          st_->Error(path, node,
                     reef::StrCat("expected a string, got ", Describe(node), " (quote it: \"",
                                  text, "\")"));
        }
        return;
      case FieldDescriptor::TYPE_BYTES: {
        if (type == ScalarType::kNull) return;
        std::string bytes;
        if (!absl::Base64Unescape(text, &bytes)) {
          st_->Error(path, node, "not valid base64");
          return;
        }
        set_string(std::move(bytes));
        return;
      }
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_INT64: {
        if (type == ScalarType::kNull) return;
        int64_t v = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data() + (text[0] == '+'), end, v);
        bool is32 = f->type() == FieldDescriptor::TYPE_INT32;
        if (type != ScalarType::kInt || ec != std::errc() || ptr != end ||
            (is32 && (v < INT32_MIN || v > INT32_MAX))) {
          st_->Error(path, node,
                     type == ScalarType::kInt
                         ? reef::StrCat("integer ", text, " out of range")
                         : reef::StrCat("expected an integer, got ", Describe(node)));
          return;
        }
        if (is32) {
          f->is_repeated() ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
        } else {
          f->is_repeated() ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
        }
        return;
      }
      case FieldDescriptor::TYPE_BOOL: {
        if (type == ScalarType::kNull) return;
        if (type != ScalarType::kBool) {
          st_->Error(path, node, reef::StrCat("expected true or false, got ", Describe(node)));
          return;
        }
        bool v = text[0] == 't' || text[0] == 'T';
        f->is_repeated() ? r->AddBool(msg, f, v) : r->SetBool(msg, f, v);
        return;
      }
      default:
        st_->Error(path, node, "field type not supported by the decoder");
    }
  }

  DecodeState* st_;
};

std::string KnownKinds() {
  std::vector<std::string> names;
  for (const KindInfo& k : AllKinds()) names.emplace_back(k.kind);
  return absl::StrJoin(names, ", ");
}

}  // namespace

void DecodeState::Error(const std::string& path, const YAML::Node& at, std::string message) {
  YAML::Mark m = at.Mark();
  errors.push_back({path, std::move(message), m.line >= 0 ? m.line + 1 : 0,
                    m.line >= 0 ? m.column + 1 : 0});
}

std::optional<Object> DecodeDocument(const YAML::Node& doc, DecodeState* state) {
  if (!doc.IsMap()) {
    state->Error("", doc,
                 reef::StrCat("a manifest must be a mapping with apiVersion and kind, got ",
                              Describe(doc)));
    return std::nullopt;
  }
  const YAML::Node kind_node = doc["kind"];
  const YAML::Node version_node = doc["apiVersion"];
  if (!kind_node.IsDefined() || !kind_node.IsScalar() || kind_node.Scalar().empty()) {
    state->Error("kind", kind_node.IsDefined() ? kind_node : doc, "required (e.g. kind: Deployment)");
    return std::nullopt;
  }
  const KindInfo* kind = FindKind(kind_node.Scalar());
  if (kind == nullptr) {
    state->Error("kind", kind_node,
                 reef::StrCat("unknown kind \"", kind_node.Scalar(), "\" (Reef serves ",
                              KnownKinds(), ")"));
    return std::nullopt;
  }
  if (!version_node.IsDefined() || !version_node.IsScalar()) {
    state->Error("apiVersion", doc, reef::StrCat("required (", kind->kind, " is ", kind->api_version, ")"));
    return std::nullopt;
  }
  if (version_node.Scalar() != kind->api_version) {
    state->Error("apiVersion", version_node,
                 reef::StrCat("unknown apiVersion \"", version_node.Scalar(), "\" for ",
                              kind->kind, " (Reef serves it as ", kind->api_version, ")"));
    return std::nullopt;
  }
  Object object = NewObject(*kind);
  Decoder(state).DecodeMessage(doc, MutableInner(&object), "", {"kind", "apiVersion"});
  return object;
}

}  // namespace reef::manifest
