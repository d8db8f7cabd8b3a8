#include "api/manifest/codec.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "reef/v1/options.pb.h"

namespace reef::manifest {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using Json = nlohmann::ordered_json;

bool IsIntegerText(const std::string& s) {
  size_t start = (!s.empty() && s[0] == '-') ? 1 : 0;
  return s.size() > start && s.size() - start <= 18 &&
         s.find_first_not_of("0123456789", start) == std::string::npos;
}

Json ScalarToJson(const Message& m, const FieldDescriptor* f, int index,
                  const FieldDescriptor* annotated) {
  const auto* r = m.GetReflection();
  bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      if (f->type() == FieldDescriptor::TYPE_BYTES) return absl::Base64Escape(s);
      if (annotated->options().GetExtension(reef::v1::int_or_string) && IsIntegerText(s)) {
        return std::stoll(s);
      }
      return s;
    }
    default:
      return nullptr;
  }
}

Json MessageToJson(const Message& m);

Json FieldToJson(const Message& m, const FieldDescriptor* f) {
  const auto* r = m.GetReflection();
  if (f->is_map()) {
    const FieldDescriptor* key_f = f->message_type()->map_key();
    const FieldDescriptor* value_f = f->message_type()->map_value();
    std::vector<std::pair<std::string, Json>> entries;
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      const Message& e = r->GetRepeatedMessage(m, f, i);
      entries.emplace_back(e.GetReflection()->GetString(e, key_f),
                           ScalarToJson(e, value_f, -1, f));
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    Json out = Json::object();
    for (auto& [k, v] : entries) out[k] = std::move(v);
    return out;
  }
  if (f->is_repeated()) {
    Json out = Json::array();
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      out.push_back(f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
                        ? MessageToJson(r->GetRepeatedMessage(m, f, i))
                        : ScalarToJson(m, f, i, f));
    }
    return out;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return MessageToJson(r->GetMessage(m, f));
  return ScalarToJson(m, f, -1, f);
}

Json MessageToJson(const Message& m) {
  Json out = Json::object();
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    bool present = f->is_repeated() ? r->FieldSize(m, f) > 0 : r->HasField(m, f);
    if (present) out[f->json_name()] = FieldToJson(m, f);
  }
  return out;
}

Json ObjectToJson(const Object& object) {
  const KindInfo* kind = KindOf(object);
  Json out = Json::object();
  if (kind == nullptr) return out;
  out["apiVersion"] = kind->api_version;
  out["kind"] = kind->kind;
  Json fields = MessageToJson(Inner(object));
  for (auto& [k, v] : fields.items()) out[k] = std::move(v);
  return out;
}

Json ListJson(const std::vector<Object>& items) {
  Json list = Json::object();
  list["apiVersion"] = "v1";
  list["items"] = Json::array();
  for (const Object& o : items) list["items"].push_back(ObjectToJson(o));
  list["kind"] = "List";
  return list;
}

// ---- A small YAML emitter for JSON trees ------------------------------------------
// Written here rather than through yaml-cpp's emitter so that strings that would
// read back as another type ("true", "1.0", "0755") are always quoted.

bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const std::vector<std::string> kReserved = {
      "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
      "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
      "y", "Y", "n", "N", ".inf", ".nan"};
  if (std::find(kReserved.begin(), kReserved.end(), s) != kReserved.end()) return true;
  // Anything a YAML reader could take for a number ("1", "-1", ".5", "1e3", "0x1f",
  // "1_000", "1:20" as YAML 1.1 reads it); "25%" and "64Mi" stay plain.
  char c = s[0];
  if ((isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-') &&
      s.find_first_not_of("0123456789+-.eE_:xXoObBaAcCdDfF") == std::string::npos)
    return true;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`= ").find(c) != std::string_view::npos) return true;
  if (s.back() == ' ' || s.back() == ':') return true;
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch == 0x7f) return true;
  }
  return s.find(": ") != std::string::npos || s.find(" #") != std::string::npos;
}

std::string Quoted(const std::string& s) { return Json(s).dump(); }

// Multi-line text as a literal block ("|"), as kubectl prints ConfigMap data.
bool FitsLiteralBlock(const std::string& s) {
  if (s.find('\n') == std::string::npos) return false;
  if (s.size() >= 2 && s[s.size() - 1] == '\n' && s[s.size() - 2] == '\n') return false;
  if (s[0] == ' ' || s[0] == '\n') return false;
  for (unsigned char ch : s) {
    if ((ch < 0x20 && ch != '\n') || ch == 0x7f) return false;
  }
  for (absl::string_view line : absl::StrSplit(s, '\n')) {
    if (!line.empty() && line.back() == ' ') return false;
  }
  return true;
}

std::string ScalarText(const Json& v, int indent) {
  if (v.is_null()) return "null";
  if (v.is_boolean() || v.is_number()) return v.dump();
  const std::string& s = v.get_ref<const std::string&>();
  if (FitsLiteralBlock(s)) {
    std::string out = s.back() == '\n' ? "|" : "|-";
    std::string body = s.back() == '\n' ? s.substr(0, s.size() - 1) : s;
    for (absl::string_view line : absl::StrSplit(body, '\n')) {
      out += "\n";
      if (!line.empty()) out += std::string(indent, ' ') + std::string(line);
    }
    return out;
  }
  return NeedsQuotes(s) ? Quoted(s) : s;
}

bool IsEmptyContainer(const Json& v) { return (v.is_object() || v.is_array()) && v.empty(); }

void EmitYaml(const Json& v, int indent, std::string* out);

// Emits `v` as the value after "key:" or "- ".
void EmitValue(const Json& v, int indent, std::string* out) {
  if (IsEmptyContainer(v)) {
    *out += v.is_object() ? " {}\n" : " []\n";
  } else if (v.is_object()) {
    *out += "\n";
    EmitYaml(v, indent + 2, out);
  } else if (v.is_array()) {
    // kubectl style: list items at the same indentation as their key.
    *out += "\n";
    EmitYaml(v, indent, out);
  } else {
    *out += " " + ScalarText(v, indent + 2) + "\n";
  }
}

void EmitYaml(const Json& v, int indent, std::string* out) {
  std::string pad(indent, ' ');
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      *out += pad + (NeedsQuotes(k) ? Quoted(k) : k) + ":";
      EmitValue(child, indent, out);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_object() && !item.empty()) {
        // "- " then the first key on the same line, the rest indented under it.
        std::string nested;
        EmitYaml(item, indent + 2, &nested);
        *out += pad + "- " + nested.substr(indent + 2);
      } else {
        *out += pad + "-";
        EmitValue(item, indent, out);
      }
    }
  } else {
    *out += pad + ScalarText(v, indent) + "\n";
  }
}

std::string YamlText(const Json& v) {
  std::string out;
  EmitYaml(v, 0, &out);
  return out;
}

}  // namespace

std::string ToYaml(const Object& object) { return YamlText(ObjectToJson(object)); }
std::string ToJson(const Object& object) { return ObjectToJson(object).dump(4) + "\n"; }
std::string ListToYaml(const std::vector<Object>& items) { return YamlText(ListJson(items)); }
std::string ListToJson(const std::vector<Object>& items) { return ListJson(items).dump(4) + "\n"; }

}  // namespace reef::manifest
