#include "agent/runtime/env.h"

#include <algorithm>

namespace reef::agent::runtime {

void EnvList::Set(std::string_view name, std::string_view value) {
  auto it =
      std::find_if(vars_.begin(), vars_.end(), [&](const auto& v) { return v.first == name; });
  if (it != vars_.end()) {
    it->second = std::string(value);
  } else {
    vars_.emplace_back(std::string(name), std::string(value));
  }
}

void EnvList::SetEntry(std::string_view entry) {
  size_t eq = entry.find('=');
  if (eq == std::string_view::npos) {
    Set(entry, "");
  } else {
    Set(entry.substr(0, eq), entry.substr(eq + 1));
  }
}

std::optional<std::string> EnvList::Get(std::string_view name) const {
  for (const auto& [n, v] : vars_) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::vector<std::string> EnvList::Entries() const {
  std::vector<std::string> out;
  out.reserve(vars_.size());
  for (const auto& [n, v] : vars_) out.push_back(n + "=" + v);
  return out;
}

std::string ExpandVars(std::string_view text, const EnvList& env) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i++];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    size_t close = text[i + 1] == '(' ? text.find(')', i + 2) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out += text[i++];
      continue;
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    std::optional<std::string> value = name.empty() ? std::nullopt : env.Get(name);
    out += value ? *value : std::string(text.substr(i, close - i + 1));
    i = close + 1;
  }
  return out;
}

}  // namespace reef::agent::runtime
