#include <doctest/doctest.h>

#include <string>

#include "agent/image/auth.h"
#include "agent/image/fake_http_client.h"
#include "common/clock.h"

namespace reef::agent::image {
namespace {

TEST_CASE("WWW-Authenticate challenges parse") {
  auto bearer = ParseAuthChallenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  REQUIRE(bearer.size() == 1);
  CHECK(bearer[0].scheme == "bearer");
  CHECK(bearer[0].params.at("realm") == "https://auth.docker.io/token");
  CHECK(bearer[0].params.at("service") == "registry.docker.io");
  CHECK(bearer[0].params.at("scope") == "repository:library/busybox:pull");

  auto two = ParseAuthChallenges(
      R"(Basic realm="reef test", Bearer realm="http://t/token",error="insufficient_scope",scope="a:b:pull,push")");
  REQUIRE(two.size() == 2);
  CHECK(two[0].scheme == "basic");
  CHECK(two[0].params.at("realm") == "reef test");
  CHECK(two[1].params.at("error") == "insufficient_scope");
  CHECK(two[1].params.at("scope") == "a:b:pull,push");

  auto odd = ParseAuthChallenges(R"(BEARER Realm = "x\"y" , service=svc)");
  REQUIRE(odd.size() == 1);
  CHECK(odd[0].params.at("realm") == "x\"y");
  CHECK(odd[0].params.at("service") == "svc");

  CHECK(ParseAuthChallenges("").empty());
  CHECK(ParseAuthChallenges("Negotiate abc==").size() == 1);  // token68: scheme kept, ignored
  CHECK(BasicAuthorization({"user", "pass"}) == "Basic dXNlcjpwYXNz");
}

struct TokenServer {
  int issued = 0;
  std::string last_url;
  std::string last_authorization;
  int expires_in = 300;
  FakeHttpClient http{[this](const HttpRequest& r) {
    last_url = r.url;
    last_authorization = r.headers.Get("Authorization").value_or("");
    FakeAnswer a;
    if (last_authorization == BasicAuthorization({"bad", "pw"})) {
      a.status = 401;
      return a;
    }
    a.body =
        reef::StrCat(R"({"access_token":"tok)", ++issued, R"(","expires_in":)", expires_in, "}");
    return a;
  }};
};

HttpHeaders Challenge(std::string value) {
  HttpHeaders h;
  h.Add("Www-Authenticate", std::move(value));  // any case
  return h;
}

TEST_CASE("bearer tokens are fetched with service and scope, cached, and renewed") {
  TokenServer server;
  RegistriesConfig config;
  FakeClock clock;
  Authorizer auth(&server.http, &config, &clock);
  const std::string scope = PullScope("library/busybox");

  // Nothing known about the host: anonymous first.
  CHECK(auth.Authorization("reg:5000", scope, {})->empty());

  auto header = auth.OnUnauthorized(
      "reg:5000", scope, {"alice", "pw"},
      Challenge(R"(Bearer realm="https://auth.test/token",service="my registry")"), "");
  REQUIRE_MESSAGE(header.ok(), header.status().ToString());
  CHECK(*header == "Bearer tok1");
  CHECK(
      server.last_url ==
      "https://auth.test/token?service=my%20registry&scope=repository%3Alibrary%2Fbusybox%3Apull");
  CHECK(server.last_authorization == BasicAuthorization({"alice", "pw"}));

  // Cached for the scope; another repository needs its own token, fetched up front.
  CHECK(*auth.Authorization("reg:5000", scope, {"alice", "pw"}) == "Bearer tok1");
  CHECK(*auth.Authorization("reg:5000", PullScope("other"), {"alice", "pw"}) == "Bearer tok2");
  CHECK(server.issued == 2);

  // Renewed shortly before it expires.
  clock.Advance(absl::Seconds(295));
  CHECK(*auth.Authorization("reg:5000", scope, {"alice", "pw"}) == "Bearer tok3");

  // A refused token is fetched afresh once; refused again, the error is clear.
  auto again =
      auth.OnUnauthorized("reg:5000", scope, {"alice", "pw"},
                          Challenge(R"(Bearer realm="https://auth.test/token")"), "Bearer tok3");
  CHECK(*again == "Bearer tok4");
}

TEST_CASE("basic challenges use the configured credentials, once") {
  TokenServer server;
  RegistriesConfig config;
  FakeClock clock;
  Authorizer auth(&server.http, &config, &clock);
  const HttpHeaders basic = Challenge(R"(Basic realm="r")");

  auto none = auth.OnUnauthorized("reg", "s", {}, basic, "");
  CHECK(absl::IsUnauthenticated(none.status()));
  CHECK(std::string(none.status().message()).find("no credentials are configured") !=
        std::string::npos);

  auto with = auth.OnUnauthorized("reg", "s", {"u", "p"}, basic, "");
  CHECK(*with == BasicAuthorization({"u", "p"}));
  // Later requests authenticate up front.
  CHECK(*auth.Authorization("reg", "s", {"u", "p"}) == BasicAuthorization({"u", "p"}));
  auto refused = auth.OnUnauthorized("reg", "s", {"u", "p"}, basic, *with);
  CHECK(absl::IsUnauthenticated(refused.status()));
  CHECK(std::string(refused.status().message()).find("refused the credentials of user \"u\"") !=
        std::string::npos);
  CHECK(server.issued == 0);
}

TEST_CASE("token server failures are errors that say so") {
  TokenServer server;
  RegistriesConfig config;
  FakeClock clock;
  Authorizer auth(&server.http, &config, &clock);
  auto refused = auth.OnUnauthorized("reg", "s", {"bad", "pw"},
                                     Challenge(R"(Bearer realm="https://auth.test/token")"), "");
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::IsUnauthenticated(refused.status()));
  CHECK(std::string(refused.status().message()).find("fetch token") != std::string::npos);

  auto no_realm = auth.OnUnauthorized("reg", "s", {}, Challenge(R"(Bearer service="x")"), "");
  CHECK(std::string(no_realm.status().message()).find("without a realm") != std::string::npos);
  auto bad_realm =
      auth.OnUnauthorized("reg", "s", {}, Challenge(R"(Bearer realm="file:///etc/passwd")"), "");
  CHECK(std::string(bad_realm.status().message()).find("not an http(s) URL") != std::string::npos);
  auto no_challenge = auth.OnUnauthorized("reg", "s", {}, HttpHeaders(), "");
  CHECK(absl::IsUnauthenticated(no_challenge.status()));
}

}  // namespace
}  // namespace reef::agent::image
