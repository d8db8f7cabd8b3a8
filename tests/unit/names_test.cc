#include "api/manifest/names.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace reef::manifest {
namespace {

// The message of a status that must be InvalidArgument.
std::string Message(const absl::Status& status) {
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("ValidateDns1123Subdomain") {
  for (std::string_view ok : {"a", "0", "web", "my-app", "web.example.com", "a.b.c",
                              "1-2.3-4", "a--b", "x1.y2"}) {
    INFO(std::string(ok));
    CHECK(ValidateDns1123Subdomain(ok).ok());
  }
  CHECK(ValidateDns1123Subdomain(std::string(253, 'a')).ok());
  CHECK(ValidateDns1123Subdomain(std::string(100, 'a') + "." + std::string(100, 'b')).ok());

  for (std::string_view bad : {"", "My_App", "Web", "-a", "a-", ".a", "a.", "a..b",
                               "a.-b", "a-.b", "a_b", "a b", "a/b", "ä", "a*"}) {
    INFO(std::string(bad));
    CHECK_FALSE(ValidateDns1123Subdomain(bad).ok());
  }
  CHECK(Message(ValidateDns1123Subdomain("My_App")) ==
        "\"My_App\": a lowercase RFC 1123 subdomain must consist of lower case "
        "alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character");
  const std::string too_long(254, 'a');
  CHECK(Message(ValidateDns1123Subdomain(too_long)) ==
        "\"" + too_long + "\": must be no more than 253 characters");
  // Both problems are reported together.
  const std::string both = Message(ValidateDns1123Subdomain(std::string(254, 'A')));
  CHECK(Contains(both, "must be no more than 253 characters; a lowercase RFC 1123"));
}

TEST_CASE("ValidateDns1123Label") {
  for (std::string_view ok : {"a", "9", "web", "web-1", "123-abc", "a--b"}) {
    INFO(std::string(ok));
    CHECK(ValidateDns1123Label(ok).ok());
  }
  CHECK(ValidateDns1123Label(std::string(63, 'z')).ok());

  for (std::string_view bad : {"", "a.b", "Web", "-a", "a-", "a_b", "a b", "web!"}) {
    INFO(std::string(bad));
    CHECK_FALSE(ValidateDns1123Label(bad).ok());
  }
  CHECK(Message(ValidateDns1123Label("web.1")) ==
        "\"web.1\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
        "characters or '-', and must start and end with an alphanumeric character");
  const std::string too_long(64, 'a');
  CHECK(Message(ValidateDns1123Label(too_long)) ==
        "\"" + too_long + "\": must be no more than 63 characters");
}

TEST_CASE("ValidateLabelKey") {
  for (std::string_view ok :
       {"app", "App", "a", "9", "my_key", "my.key-1", "MyName", "reef.dev/tier",
        "example.com/MyName", "kubernetes.io/hostname", "a/b", "x.y.z/A_b.C-d"}) {
    INFO(std::string(ok));
    CHECK(ValidateLabelKey(ok).ok());
  }
  CHECK(ValidateLabelKey(std::string(63, 'k')).ok());
  CHECK(ValidateLabelKey(std::string(253, 'p') + "/" + std::string(63, 'n')).ok());

  for (std::string_view bad : {"", "_app", "app_", "-app", "app.", "a b", "a:b", "/app",
                               "reef.dev/", "Reef.dev/app", "a/b/c", "-x.dev/app",
                               "x.dev/-app", "x_y/app"}) {
    INFO(std::string(bad));
    CHECK_FALSE(ValidateLabelKey(bad).ok());
  }
  CHECK(Message(ValidateLabelKey("_app")) ==
        "\"_app\": name part must consist of alphanumeric characters, '-', '_' or '.', "
        "and must start and end with an alphanumeric character");
  CHECK(Message(ValidateLabelKey("")) == "\"\": name part must be non-empty");
  CHECK(Message(ValidateLabelKey("/app")) == "\"/app\": prefix part must be non-empty");
  CHECK(Message(ValidateLabelKey("reef.dev/")) == "\"reef.dev/\": name part must be non-empty");
  CHECK(Message(ValidateLabelKey("Reef.dev/app")) ==
        "\"Reef.dev/app\": prefix part a lowercase RFC 1123 subdomain must consist of "
        "lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character");
  CHECK(Contains(Message(ValidateLabelKey("a/b/c")),
                 "\"a/b/c\": a qualified name must consist of"));
  CHECK(Contains(Message(ValidateLabelKey(std::string(64, 'k'))),
                 "name part must be no more than 63 characters"));
  CHECK(Contains(Message(ValidateLabelKey(std::string(254, 'p') + "/x")),
                 "prefix part must be no more than 253 characters"));
  // Problems in both parts are all reported.
  const std::string both = Message(ValidateLabelKey("X/_y"));
  CHECK(Contains(both, "prefix part a lowercase RFC 1123 subdomain"));
  CHECK(Contains(both, "; name part must consist of"));
}

TEST_CASE("ValidateLabelValue") {
  for (std::string_view ok : {"", "v1", "MyValue", "my_value", "12345", "a.b-c_d", "x"}) {
    INFO(std::string(ok));
    CHECK(ValidateLabelValue(ok).ok());
  }
  CHECK(ValidateLabelValue(std::string(63, 'v')).ok());

  for (std::string_view bad : {"-v", "v-", "_v", "v.", "a b", "a/b", "a:b", "é"}) {
    INFO(std::string(bad));
    CHECK_FALSE(ValidateLabelValue(bad).ok());
  }
  CHECK(Message(ValidateLabelValue("v 1")) ==
        "\"v 1\": a valid label must be an empty string or consist of alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character");
  const std::string too_long(64, 'v');
  CHECK(Message(ValidateLabelValue(too_long)) ==
        "\"" + too_long + "\": must be no more than 63 characters");
}

TEST_CASE("ValidateConfigMapKey") {
  for (std::string_view ok : {"key", "KEY_NAME", "key-name", "key.name", ".env", "a..b",
                              "-", "_", "0", "config.yaml", "...x."}) {
    INFO(std::string(ok));
    // "...x." starts with "..", so it is the exception in this list.
    if (ok == "...x.") {
      CHECK_FALSE(ValidateConfigMapKey(ok).ok());
    } else {
      CHECK(ValidateConfigMapKey(ok).ok());
    }
  }
  CHECK(ValidateConfigMapKey(std::string(253, 'k')).ok());

  CHECK(Message(ValidateConfigMapKey("")) == "\"\": must be non-empty");
  CHECK(Message(ValidateConfigMapKey(".")) == "\".\": must not be '.'");
  CHECK(Message(ValidateConfigMapKey("..")) == "\"..\": must not be '..'");
  CHECK(Message(ValidateConfigMapKey("..data")) == "\"..data\": must not start with '..'");
  CHECK(Message(ValidateConfigMapKey("a/b")) ==
        "\"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' "
        "or '.'");
  CHECK_FALSE(ValidateConfigMapKey("a b").ok());
  CHECK_FALSE(ValidateConfigMapKey("a:b").ok());
  CHECK_FALSE(ValidateConfigMapKey("../etc").ok());
  const std::string too_long(254, 'k');
  CHECK(Message(ValidateConfigMapKey(too_long)) ==
        "\"" + too_long + "\": must be no more than 253 characters");
  // A non-printable value is escaped in the message rather than printed raw.
  CHECK(Message(ValidateConfigMapKey(std::string_view("a\0b", 3))).find("\"a\\000b\"") ==
        0);
}

TEST_CASE("ValidateEnvVarName") {
  for (std::string_view ok : {"PATH", "my.env-name", "MY_ENV.NAME", "MyEnvName1", "_",
                              "-x", ".x", "a..b", "x9"}) {
    INFO(std::string(ok));
    CHECK(ValidateEnvVarName(ok).ok());
  }
  for (std::string_view bad : {"", "1ABC", "9", "A B", "A=B", "A$", "é", ".", "..",
                               "..x"}) {
    INFO(std::string(bad));
    CHECK_FALSE(ValidateEnvVarName(bad).ok());
  }
  CHECK(Message(ValidateEnvVarName("1ABC")) ==
        "\"1ABC\": a valid environment variable name must consist of alphabetic "
        "characters, digits, '_', '-', or '.', and must not start with a digit");
  CHECK(Message(ValidateEnvVarName("")) == "\"\": must be non-empty");
  CHECK(Message(ValidateEnvVarName("..")) == "\"..\": must not be '..'");
  CHECK(Message(ValidateEnvVarName("..x")) == "\"..x\": must not start with '..'");
}

TEST_CASE("ValidatePortNumber") {
  CHECK(ValidatePortNumber(1).ok());
  CHECK(ValidatePortNumber(80).ok());
  CHECK(ValidatePortNumber(65535).ok());
  CHECK(Message(ValidatePortNumber(0)) == "port 0: must be between 1 and 65535, inclusive");
  CHECK(Message(ValidatePortNumber(65536)) ==
        "port 65536: must be between 1 and 65535, inclusive");
  CHECK_FALSE(ValidatePortNumber(-80).ok());
  CHECK_FALSE(ValidatePortNumber(std::numeric_limits<int64_t>::max()).ok());
  CHECK_FALSE(ValidatePortNumber(std::numeric_limits<int64_t>::min()).ok());
}

}  // namespace
}  // namespace reef::manifest
