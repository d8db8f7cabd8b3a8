#pragma once
// Registry authentication as Docker clients do it: requests go out anonymously until a
// host answers 401 with a WWW-Authenticate challenge; then
//   Basic  -> the configured username/password on every request to that host;
//   Bearer -> GET <realm>?service=<service>&scope=repository:<repo>:pull (with basic
//             credentials when configured), and "Bearer <token>" on the retried request.
// What a host asked for is remembered, so later requests (another repository, another
// pull) authenticate up front; tokens are cached per realm, service, scope and user
// until shortly before they expire.
//
// Thread safety: all methods may be called from any thread.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/image/http_client.h"
#include "agent/image/registries_config.h"
#include "common/clock.h"

namespace reef::agent::image {

struct AuthChallenge {
  std::string scheme;                         // lowercase: "basic", "bearer"
  std::map<std::string, std::string> params;  // lowercase names: realm, service, scope, error
};

// Parses a WWW-Authenticate value, which may hold several challenges:
// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
std::vector<AuthChallenge> ParseAuthChallenges(std::string_view header);

// "Basic dXNlcjpwYXNz".
std::string BasicAuthorization(const Credentials& credentials);

// "repository:library/busybox:pull".
std::string PullScope(std::string_view repository_path);

class Authorizer {
 public:
  Authorizer(HttpClient* http, const RegistriesConfig* config, const Clock* clock);
  Authorizer(const Authorizer&) = delete;
  Authorizer& operator=(const Authorizer&) = delete;

  // The Authorization header for a request to `host` needing `scope`, from what that
  // host asked for before (fetching a token if the cached one is missing or old).
  // Empty when the host has not challenged us yet.
  absl::StatusOr<std::string> Authorization(const std::string& host, const std::string& scope,
                                            const Credentials& credentials);

  // After `host` answered 401 to a request sent with Authorization `sent` (maybe
  // empty): learns the challenge and returns the Authorization to retry with.
  // Unauthenticated when nothing new can be tried (no credentials for a Basic
  // challenge, credentials or a fresh token refused).
  absl::StatusOr<std::string> OnUnauthorized(const std::string& host, const std::string& scope,
                                             const Credentials& credentials,
                                             const HttpHeaders& response_headers,
                                             const std::string& sent);

 private:
  struct Token {
    std::string value;
    absl::Time expires;
  };

  absl::StatusOr<std::string> BearerFor(const AuthChallenge& challenge, const std::string& scope,
                                        const Credentials& credentials, bool force_fetch);
  absl::StatusOr<Token> FetchToken(const AuthChallenge& challenge, const std::string& scope,
                                   const Credentials& credentials);

  HttpClient* const http_;
  const RegistriesConfig* const config_;
  const Clock* const clock_;
  absl::Mutex mu_;
  std::map<std::string, AuthChallenge> challenges_ ABSL_GUARDED_BY(mu_);  // by host
  std::map<std::string, Token> tokens_ ABSL_GUARDED_BY(mu_);  // by realm|service|scope|user
};

}  // namespace reef::agent::image
