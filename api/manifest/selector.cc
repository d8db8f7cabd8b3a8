#include "api/manifest/selector.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/manifest/names.h"
#include "common/strings.h"

namespace reef::manifest {
namespace {

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(reef::StrCat("label selector \"", text, "\": ", why));
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitTerms(absl::string_view text) {
  std::vector<std::string> terms;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  terms.push_back(cur);
  return terms;
}

template <typename Labels>
bool MatchesImpl(const std::vector<Selector::Requirement>& reqs, const Labels& labels) {
  for (const auto& r : reqs) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    auto in = [&] {
      return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    };
    switch (r.op) {
      case Selector::Op::kEquals:
      case Selector::Op::kIn:
        if (!in()) return false;
        break;
      case Selector::Op::kNotEquals:
      case Selector::Op::kNotIn:
        if (in()) return false;
        break;
      case Selector::Op::kExists:
        if (!has) return false;
        break;
      case Selector::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<Selector> Selector::Parse(std::string_view text_in) {
  absl::string_view text = ToAbsl(text_in);
  Selector s;
  if (absl::StripAsciiWhitespace(text).empty()) return s;
  for (const std::string& raw : SplitTerms(text)) {
    absl::string_view term = absl::StripAsciiWhitespace(raw);
    if (term.empty()) return Bad(text, "empty term");
    Requirement r;
    size_t pos;
    if (term[0] == '!') {
      r.key = std::string(absl::StripAsciiWhitespace(term.substr(1)));
      r.op = Op::kDoesNotExist;
    } else if ((pos = term.find("!=")) != absl::string_view::npos) {
      r.key = std::string(absl::StripAsciiWhitespace(term.substr(0, pos)));
      r.op = Op::kNotEquals;
      r.values.emplace_back(absl::StripAsciiWhitespace(term.substr(pos + 2)));
    } else if ((pos = term.find('=')) != absl::string_view::npos) {
      r.key = std::string(absl::StripAsciiWhitespace(term.substr(0, pos)));
      r.op = Op::kEquals;
      size_t skip = (pos + 1 < term.size() && term[pos + 1] == '=') ? 2 : 1;
      r.values.emplace_back(absl::StripAsciiWhitespace(term.substr(pos + skip)));
    } else if (size_t open = term.find('('); open != absl::string_view::npos) {
      if (term.back() != ')') return Bad(text, reef::StrCat("missing ')' in \"", term, "\""));
      std::vector<std::string> words =
          absl::StrSplit(term.substr(0, open), ' ', absl::SkipWhitespace());
      if (words.size() != 2 || (words[1] != "in" && words[1] != "notin")) {
        return Bad(text, reef::StrCat("expected \"KEY in (V1,V2)\" or \"KEY notin (...)\", got \"",
                                      term, "\""));
      }
      r.key = words[0];
      r.op = words[1] == "in" ? Op::kIn : Op::kNotIn;
      for (absl::string_view v :
           absl::StrSplit(term.substr(open + 1, term.size() - open - 2), ',')) {
        r.values.emplace_back(absl::StripAsciiWhitespace(v));
      }
    } else {
      r.key = std::string(term);
      r.op = Op::kExists;
    }
    if (absl::Status st = ValidateLabelKey(r.key); !st.ok()) return Bad(text, st.message());
    for (const std::string& v : r.values) {
      if (absl::Status st = ValidateLabelValue(v); !st.ok()) return Bad(text, st.message());
    }
    s.requirements_.push_back(std::move(r));
  }
  return s;
}

absl::StatusOr<Selector> Selector::FromProto(const reef::v1::LabelSelector& selector) {
  Selector s;
  std::map<std::string, std::string> sorted(selector.match_labels().begin(),
                                            selector.match_labels().end());
  for (const auto& [k, v] : sorted) s.requirements_.push_back({k, Op::kEquals, {v}});
  for (const auto& e : selector.match_expressions()) {
    Requirement r{e.key(), Op::kIn, {e.values().begin(), e.values().end()}};
    if (e.operator_() == "In") r.op = Op::kIn;
    else if (e.operator_() == "NotIn") r.op = Op::kNotIn;
    else if (e.operator_() == "Exists") r.op = Op::kExists;
    else if (e.operator_() == "DoesNotExist") r.op = Op::kDoesNotExist;
    else {
      return absl::InvalidArgumentError(reef::StrCat(
          "operator \"", e.operator_(), "\": must be In, NotIn, Exists or DoesNotExist"));
    }
    bool wants_values = r.op == Op::kIn || r.op == Op::kNotIn;
    if (wants_values == r.values.empty()) {
      return absl::InvalidArgumentError(
          reef::StrCat("operator ", e.operator_(),
                       wants_values ? " needs at least one value" : " takes no values"));
    }
    s.requirements_.push_back(std::move(r));
  }
  return s;
}

bool Selector::Matches(const google::protobuf::Map<std::string, std::string>& labels) const {
  return MatchesImpl(requirements_, labels);
}

bool Selector::Matches(const std::map<std::string, std::string>& labels) const {
  return MatchesImpl(requirements_, labels);
}

std::string Selector::ToString() const {
  std::vector<std::string> terms;
  for (const auto& r : requirements_) {
    switch (r.op) {
      case Op::kEquals: terms.push_back(reef::StrCat(r.key, "=", r.values[0])); break;
      case Op::kNotEquals: terms.push_back(reef::StrCat(r.key, "!=", r.values[0])); break;
      case Op::kIn:
        terms.push_back(reef::StrCat(r.key, " in (", absl::StrJoin(r.values, ","), ")"));
        break;
      case Op::kNotIn:
        terms.push_back(reef::StrCat(r.key, " notin (", absl::StrJoin(r.values, ","), ")"));
        break;
      case Op::kExists: terms.push_back(r.key); break;
      case Op::kDoesNotExist: terms.push_back(reef::StrCat("!", r.key)); break;
    }
  }
  return absl::StrJoin(terms, ",");
}

}  // namespace reef::manifest
