#include "api/manifest/names.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reef::manifest {
namespace {

// Rule texts as Kubernetes words them, so users can search for them.
constexpr absl::string_view kDns1123SubdomainRule =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character";
constexpr absl::string_view kDns1123LabelRule =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
    "'-', and must start and end with an alphanumeric character";
constexpr absl::string_view kQualifiedNameRule =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character";
constexpr absl::string_view kLabelValueRule =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', "
    "'_' or '.', and must start and end with an alphanumeric character";
constexpr absl::string_view kConfigMapKeyRule =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
constexpr absl::string_view kEnvVarNameRule =
    "a valid environment variable name must consist of alphabetic characters, digits, "
    "'_', '-', or '.', and must not start with a digit";
constexpr absl::string_view kNonEmpty = "must be non-empty";

using Problems = std::vector<std::string>;

// Debian's abseil keeps absl::string_view distinct from std::string_view.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string MaxLength(size_t max) {
  return absl::StrCat("must be no more than ", max, " characters");
}

absl::Status Result(std::string_view value, const Problems& problems) {
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("\"", absl::CEscape(Absl(value)), "\": ",
                                                 absl::StrJoin(problems, "; ")));
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesDns1123Label(std::string_view v) {
  if (v.empty() || !IsLowerAlnum(v.front()) || !IsLowerAlnum(v.back())) return false;
  for (char c : v) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// Dot-separated DNS-1123 labels (without the per-label length limit, as in k8s).
bool MatchesDns1123Subdomain(std::string_view v) {
  while (true) {
    const size_t dot = v.find('.');
    if (!MatchesDns1123Label(v.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    v.remove_prefix(dot + 1);
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedNamePart(std::string_view v) {
  if (v.empty() || !IsAlnum(v.front()) || !IsAlnum(v.back())) return false;
  for (char c : v) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

Problems Dns1123SubdomainProblems(std::string_view v) {
  Problems problems;
  if (v.size() > kDns1123SubdomainMaxLength) {
    problems.push_back(MaxLength(kDns1123SubdomainMaxLength));
  }
  if (!MatchesDns1123Subdomain(v)) problems.emplace_back(kDns1123SubdomainRule);
  return problems;
}

// Kubernetes refuses these so a key used as a file name cannot escape its directory.
void AddChDirProblems(std::string_view v, Problems& problems) {
  if (v == ".") {
    problems.emplace_back("must not be '.'");
  } else if (v == "..") {
    problems.emplace_back("must not be '..'");
  } else if (v.starts_with("..")) {
    problems.emplace_back("must not start with '..'");
  }
}

}  // namespace

absl::Status ValidateDns1123Subdomain(std::string_view value) {
  return Result(value, Dns1123SubdomainProblems(value));
}

absl::Status ValidateDns1123Label(std::string_view value) {
  Problems problems;
  if (value.size() > kDns1123LabelMaxLength) {
    problems.push_back(MaxLength(kDns1123LabelMaxLength));
  }
  if (!MatchesDns1123Label(value)) problems.emplace_back(kDns1123LabelRule);
  return Result(value, problems);
}

absl::Status ValidateLabelKey(std::string_view value) {
  Problems problems;
  std::string_view name = value;
  const size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      return Result(value, {absl::StrCat(
                               "a qualified name ", kQualifiedNameRule,
                               " with an optional DNS subdomain prefix and '/' (e.g. "
                               "'example.com/MyName')")});
    }
    const std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      problems.push_back(absl::StrCat("prefix part ", kNonEmpty));
    } else {
      for (const std::string& problem : Dns1123SubdomainProblems(prefix)) {
        problems.push_back(absl::StrCat("prefix part ", problem));
      }
    }
  }
  if (name.empty()) {
    problems.push_back(absl::StrCat("name part ", kNonEmpty));
  } else {
    if (name.size() > kQualifiedNameMaxLength) {
      problems.push_back(absl::StrCat("name part ", MaxLength(kQualifiedNameMaxLength)));
    }
    if (!MatchesQualifiedNamePart(name)) {
      problems.push_back(absl::StrCat("name part ", kQualifiedNameRule));
    }
  }
  return Result(value, problems);
}

absl::Status ValidateLabelValue(std::string_view value) {
  Problems problems;
  if (value.size() > kLabelValueMaxLength) {
    problems.push_back(MaxLength(kLabelValueMaxLength));
  }
  if (!value.empty() && !MatchesQualifiedNamePart(value)) {
    problems.emplace_back(kLabelValueRule);
  }
  return Result(value, problems);
}

absl::Status ValidateConfigMapKey(std::string_view value) {
  if (value.empty()) return Result(value, {std::string(kNonEmpty)});
  Problems problems;
  if (value.size() > kConfigMapKeyMaxLength) {
    problems.push_back(MaxLength(kConfigMapKeyMaxLength));
  }
  for (char c : value) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      problems.emplace_back(kConfigMapKeyRule);
      break;
    }
  }
  AddChDirProblems(value, problems);
  return Result(value, problems);
}

absl::Status ValidateEnvVarName(std::string_view value) {
  if (value.empty()) return Result(value, {std::string(kNonEmpty)});
  Problems problems;
  bool matches = !IsDigit(value.front());
  for (char c : value) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') matches = false;
  }
  if (!matches) problems.emplace_back(kEnvVarNameRule);
  AddChDirProblems(value, problems);
  return Result(value, problems);
}

absl::Status ValidatePortNumber(int64_t port) {
  if (port >= 1 && port <= 65535) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("port ", port, ": must be between 1 and 65535, inclusive"));
}

}  // namespace reef::manifest
