#include "agent/image/reference.h"

#include <cctype>

#include "absl/strings/str_format.h"

namespace reef::agent::image {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;
constexpr std::string_view kDockerHubRegistry = "registry-1.docker.io";
constexpr std::string_view kLegacyDockerHubDomain = "index.docker.io";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+
bool ValidPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    const bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool ValidDomainComponent(std::string_view c) {
  if (c.empty() || !IsAlnum(c.front()) || !IsAlnum(c.back())) return false;
  for (char ch : c) {
    if (!IsAlnum(ch) && ch != '-') return false;
  }
  return true;
}

bool ValidPort(std::string_view port) {
  return !port.empty() && port.size() <= 5 &&
         port.find_first_not_of("0123456789") == std::string_view::npos;
}

// host[:port], host a domain name, an IPv4 address or [IPv6].
bool ValidDomain(std::string_view domain) {
  std::string_view host = domain;
  if (domain.starts_with('[')) {
    const size_t close = domain.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    if (domain.substr(1, close - 1).find_first_not_of("0123456789abcdefABCDEF:") !=
        std::string_view::npos) {
      return false;
    }
    std::string_view rest = domain.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && ValidPort(rest.substr(1)));
  }
  const size_t colon = domain.find(':');
  if (colon != std::string_view::npos) {
    if (!ValidPort(domain.substr(colon + 1))) return false;
    host = domain.substr(0, colon);
  }
  while (true) {
    const size_t dot = host.find('.');
    if (!ValidDomainComponent(host.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    host.remove_prefix(dot + 1);
  }
}

bool ValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength || !IsWordChar(tag.front())) return false;
  for (char c : tag) {
    if (!IsWordChar(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool HasUpper(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<Reference> Reference::Parse(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrFormat("invalid reference \"%s\": %s", text, why));
  };
  if (text.empty()) return invalid("empty");
  if (Digest::FromHex(text).ok()) {
    return invalid("cannot specify a 64-character hexadecimal string as a repository name");
  }
  Reference ref;
  std::string_view name = text;

  if (const size_t at = name.find('@'); at != std::string_view::npos) {
    auto digest = Digest::Parse(name.substr(at + 1));
    if (!digest.ok()) return invalid(ToStd(digest.status().message()));
    ref.digest_ = *std::move(digest);
    name = name.substr(0, at);
  }
  // A tag's ':' comes after the last '/' (an earlier one belongs to a port).
  const size_t last_slash = name.rfind('/');
  const size_t colon = name.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    std::string_view tag = name.substr(colon + 1);
    if (!ValidTag(tag)) return invalid(absl::StrFormat("invalid tag \"%s\"", tag));
    ref.tag_ = std::string(tag);
    name = name.substr(0, colon);
  }
  if (name.empty()) return invalid("missing repository name");
  if (name.size() > kMaxNameLength) {
    return invalid(
        absl::StrFormat("repository name must not be more than %d characters", kMaxNameLength));
  }

  std::string_view remainder = name;
  const size_t slash = name.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = name.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        HasUpper(first)) {
      if (!ValidDomain(first))
        return invalid(absl::StrFormat("invalid registry host \"%s\"", first));
      ref.domain_ =
          first == kLegacyDockerHubDomain ? std::string(kDockerHubDomain) : std::string(first);
      remainder = name.substr(slash + 1);
    }
  }
  if (ref.domain_.empty()) ref.domain_ = std::string(kDockerHubDomain);
  if (HasUpper(remainder)) return invalid("repository name must be lowercase");
  if (remainder.empty()) return invalid("missing repository name");
  for (std::string_view rest = remainder;;) {
    const size_t sep = rest.find('/');
    if (!ValidPathComponent(rest.substr(0, sep))) {
      return invalid(
          absl::StrFormat("invalid repository path component \"%s\"", rest.substr(0, sep)));
    }
    if (sep == std::string_view::npos) break;
    rest.remove_prefix(sep + 1);
  }
  ref.path_ = std::string(remainder);
  if (ref.domain_ == kDockerHubDomain && ref.path_.find('/') == std::string::npos) {
    ref.path_ = "library/" + ref.path_;
  }
  if (ref.tag_.empty() && ref.digest_.empty()) ref.tag_ = "latest";
  return ref;
}

std::string Reference::Repository() const { return domain_ + "/" + path_; }

std::string Reference::ToString() const {
  std::string out = Repository();
  if (!tag_.empty()) out += ":" + tag_;
  if (!digest_.empty()) out += "@" + digest_.ToString();
  return out;
}

std::string Reference::RegistryHost() const {
  return domain_ == kDockerHubDomain ? std::string(kDockerHubRegistry) : domain_;
}

std::string Reference::ManifestReference() const {
  return digest_.empty() ? tag_ : digest_.ToString();
}

Reference Reference::AtDigest(const Digest& digest) const {
  Reference ref = *this;
  ref.tag_.clear();
  ref.digest_ = digest;
  return ref;
}

}  // namespace reef::agent::image
