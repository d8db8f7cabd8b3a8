#include "agent/image/auth.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "agent/image/json_fields.h"

namespace reef::agent::image {
namespace {

constexpr uint64_t kMaxTokenAnswerBytes = 1 << 20;
// Docker's default when the token server does not say (distribution's token spec).
constexpr absl::Duration kDefaultTokenLifetime = absl::Seconds(60);
// Renew this long before expiry, so a token does not run out mid-request.
constexpr absl::Duration kTokenExpiryMargin = absl::Seconds(10);

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  size_t pos() const { return pos_; }
  void Reset(size_t pos) { pos_ = pos; }
  char Peek() const { return done() ? '\0' : s_[pos_]; }
  void SkipSpaces() {
    while (!done() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  std::string Token() {
    const size_t start = pos_;
    while (!done() && IsTokenChar(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  // A quoted-string with backslash escapes, the opening quote already seen.
  std::string Quoted() {
    std::string out;
    while (!done() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out += s_[pos_++];
    }
    Consume('"');
    return out;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::string Lower(std::string s) { return absl::AsciiStrToLower(s); }

// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += c;
    } else {
      out += absl::StrFormat("%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// "https://auth.example:8443/token" -> "auth.example:8443".
std::string UrlHost(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep != std::string_view::npos) url.remove_prefix(sep + 3);
  return std::string(url.substr(0, url.find_first_of("/?#")));
}

const AuthChallenge* Pick(const std::vector<AuthChallenge>& challenges) {
  for (const AuthChallenge& c : challenges) {
    if (c.scheme == "bearer") return &c;
  }
  for (const AuthChallenge& c : challenges) {
    if (c.scheme == "basic") return &c;
  }
  return nullptr;
}

std::string TokenKey(const AuthChallenge& c, const std::string& scope, const Credentials& creds) {
  auto param = [&](const char* name) {
    auto it = c.params.find(name);
    return it == c.params.end() ? std::string() : it->second;
  };
  return reef::StrCat(param("realm"), "|", param("service"), "|", scope, "|", creds.username);
}

}  // namespace

std::vector<AuthChallenge> ParseAuthChallenges(std::string_view header) {
  std::vector<AuthChallenge> out;
  Scanner scan(header);
  while (true) {
    scan.SkipSpaces();
    while (scan.Consume(',')) scan.SkipSpaces();
    AuthChallenge challenge;
    challenge.scheme = Lower(scan.Token());
    if (challenge.scheme.empty()) break;
    while (true) {
      scan.SkipSpaces();
      const size_t start = scan.pos();
      std::string name = scan.Token();
      scan.SkipSpaces();
      if (name.empty() || !scan.Consume('=')) {
        scan.Reset(start);  // not a parameter: the next challenge's scheme
        break;
      }
      scan.SkipSpaces();
      std::string value = scan.Consume('"') ? scan.Quoted() : scan.Token();
      challenge.params[Lower(std::move(name))] = std::move(value);
      scan.SkipSpaces();
      if (!scan.Consume(',')) break;
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

std::string BasicAuthorization(const Credentials& c) {
  return "Basic " + absl::Base64Escape(reef::StrCat(c.username, ":", c.password));
}

std::string PullScope(std::string_view repository_path) {
  return reef::StrCat("repository:", repository_path, ":pull");
}

Authorizer::Authorizer(HttpClient* http, const RegistriesConfig* config, const Clock* clock)
    : http_(http), config_(config), clock_(clock) {}

absl::StatusOr<std::string> Authorizer::Authorization(const std::string& host,
                                                      const std::string& scope,
                                                      const Credentials& credentials) {
  AuthChallenge challenge;
  {
    absl::MutexLock lock(&mu_);
    auto it = challenges_.find(host);
    if (it == challenges_.end()) return std::string();
    challenge = it->second;
  }
  if (challenge.scheme == "basic") {
    return credentials.empty() ? std::string() : BasicAuthorization(credentials);
  }
  return BearerFor(challenge, scope, credentials, /*force_fetch=*/false);
}

absl::StatusOr<std::string> Authorizer::OnUnauthorized(const std::string& host,
                                                       const std::string& scope,
                                                       const Credentials& credentials,
                                                       const HttpHeaders& response_headers,
                                                       const std::string& sent) {
  std::vector<AuthChallenge> challenges;
  for (const std::string& value : response_headers.GetAll("WWW-Authenticate")) {
    for (AuthChallenge& c : ParseAuthChallenges(value)) challenges.push_back(std::move(c));
  }
  const AuthChallenge* challenge = Pick(challenges);
  if (challenge == nullptr) {
    return absl::UnauthenticatedError(
        absl::StrFormat("%s answered 401 without a Basic or Bearer challenge", host));
  }
  {
    absl::MutexLock lock(&mu_);
    challenges_[host] = *challenge;
  }
  if (challenge->scheme == "basic") {
    if (credentials.empty()) {
      return absl::UnauthenticatedError(absl::StrFormat(
          "%s requires authentication and no credentials are configured for it", host));
    }
    const std::string header = BasicAuthorization(credentials);
    if (header == sent) {
      return absl::UnauthenticatedError(
          absl::StrFormat("%s refused the credentials of user \"%s\"", host, credentials.username));
    }
    return header;
  }
  if (challenge->params.find("realm") == challenge->params.end()) {
    return absl::UnauthenticatedError(
        absl::StrFormat("%s answered 401 with a Bearer challenge without a realm", host));
  }
  // A refused token may be stale or too narrow: fetch a fresh one, once.
  const bool refused_bearer = sent.starts_with("Bearer ");
  ASSIGN_OR_RETURN(std::string header,
                   BearerFor(*challenge, scope, credentials, /*force_fetch=*/refused_bearer));
  if (header == sent) {
    std::string why = credentials.empty() ? "anonymous access" : "the token";
    if (auto it = challenge->params.find("error"); it != challenge->params.end()) {
      why += " (" + it->second + ")";
    }
    return absl::UnauthenticatedError(
        absl::StrFormat("%s refused %s for scope %s", host, why, scope));
  }
  return header;
}

absl::StatusOr<std::string> Authorizer::BearerFor(const AuthChallenge& challenge,
                                                  const std::string& scope,
                                                  const Credentials& credentials,
                                                  bool force_fetch) {
  const std::string key = TokenKey(challenge, scope, credentials);
  if (!force_fetch) {
    absl::MutexLock lock(&mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end() && clock_->Now() < it->second.expires) {
      return "Bearer " + it->second.value;
    }
  }
  // Fetched without the lock: a slow token server must not stall other registries.
  ASSIGN_OR_RETURN(Token token, FetchToken(challenge, scope, credentials));
  std::string header = "Bearer " + token.value;
  absl::MutexLock lock(&mu_);
  tokens_[key] = std::move(token);
  return header;
}

absl::StatusOr<Authorizer::Token> Authorizer::FetchToken(const AuthChallenge& challenge,
                                                         const std::string& scope,
                                                         const Credentials& credentials) {
  const std::string& realm = challenge.params.at("realm");
  if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
    return absl::UnauthenticatedError(
        absl::StrFormat("token realm \"%s\" is not an http(s) URL", realm));
  }
  HttpRequest request;
  request.url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (auto it = challenge.params.find("service"); it != challenge.params.end()) {
    request.url += "service=" + QueryEscape(it->second) + "&";
  }
  request.url += "scope=" + QueryEscape(scope);
  // The registry may name a scope of its own (wider, or for another repository).
  if (auto it = challenge.params.find("scope");
      it != challenge.params.end() && it->second != scope) {
    request.url += "&scope=" + QueryEscape(it->second);
  }
  request.headers.Add("Accept", "application/json");
  if (!credentials.empty()) request.headers.Add("Authorization", BasicAuthorization(credentials));
  request.tls = config_->ConfigFor(UrlHost(realm)).tls;
  request.max_body_bytes = kMaxTokenAnswerBytes;
  request.total_timeout = absl::Seconds(30);

  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(HttpResponse response, http_->Do(request));
  if (response.status != 200) {
    return Annotate(HttpError(request, response), "fetch token");
  }
  auto fail = [](const absl::Status& s) { return Annotate(s, "fetch token: answer"); };
  auto doc = json::Parse(response.body, "token answer");
  if (!doc.ok()) return fail(doc.status());
  auto token = json::String(*doc, "token", "", /*required=*/false);
  if (!token.ok()) return fail(token.status());
  if (token->empty()) {
    token = json::String(*doc, "access_token", "", /*required=*/false);
    if (!token.ok()) return fail(token.status());
  }
  if (token->empty()) return fail(absl::UnauthenticatedError("no token or access_token"));
  auto expires_in = json::Int(*doc, "expires_in", "", /*required=*/false);
  if (!expires_in.ok()) return fail(expires_in.status());
  absl::Duration lifetime = *expires_in > 0 ? absl::Seconds(*expires_in) : kDefaultTokenLifetime;
  lifetime -= std::min(kTokenExpiryMargin, lifetime / 2);
  return Token{*std::move(token), now + lifetime};
}

}  // namespace reef::agent::image
