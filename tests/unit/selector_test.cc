#include "api/manifest/selector.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <string_view>

#include "google/protobuf/map.h"

namespace reef::manifest {
namespace {

using Labels = std::map<std::string, std::string>;

Selector MustParse(std::string_view text) {
  auto s = Selector::Parse(text);
  REQUIRE_MESSAGE(s.ok(), s.status().message());
  return *std::move(s);
}

std::string ParseError(std::string_view text) {
  auto s = Selector::Parse(text);
  REQUIRE_MESSAGE(!s.ok(), "\"" << std::string(text) << "\" parsed, but should have failed");
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(s.status().message());
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

const Labels kWeb = {{"app", "web"}, {"tier", "front"}, {"env", "prod"}};
const Labels kDb = {{"app", "db"}, {"env", "dev"}, {"legacy", ""}};
const Labels kNone = {};

TEST_CASE("the empty selector matches everything") {
  for (std::string_view text : {"", " ", "\t"}) {
    Selector s = MustParse(text);
    CHECK(s.empty());
    CHECK(s.Matches(kWeb));
    CHECK(s.Matches(kNone));
    CHECK(s.ToString() == "");
  }
  CHECK(Selector().Matches(kDb));
}

TEST_CASE("equality: =, == and !=") {
  Selector eq = MustParse("app=web");
  CHECK(eq.Matches(kWeb));
  CHECK_FALSE(eq.Matches(kDb));
  CHECK_FALSE(eq.Matches(kNone));

  Selector eq2 = MustParse("app==web");
  CHECK(eq2.Matches(kWeb));
  CHECK_FALSE(eq2.Matches(kDb));
  CHECK(eq2.ToString() == "app=web");

  // As in Kubernetes, != also matches objects without the label.
  Selector ne = MustParse("app!=web");
  CHECK_FALSE(ne.Matches(kWeb));
  CHECK(ne.Matches(kDb));
  CHECK(ne.Matches(kNone));

  // An empty value is a value: "legacy=" matches the label set to "".
  Selector empty = MustParse("legacy=");
  CHECK(empty.Matches(kDb));
  CHECK_FALSE(empty.Matches(kWeb));
}

TEST_CASE("set-based: in and notin") {
  Selector in = MustParse("env in (prod,staging)");
  CHECK(in.Matches(kWeb));
  CHECK_FALSE(in.Matches(kDb));
  CHECK_FALSE(in.Matches(kNone));

  Selector notin = MustParse("env notin (prod,staging)");
  CHECK_FALSE(notin.Matches(kWeb));
  CHECK(notin.Matches(kDb));
  CHECK(notin.Matches(kNone));  // no label: not in the set

  Selector one = MustParse("app in (db)");
  CHECK(one.Matches(kDb));
  CHECK_FALSE(one.Matches(kWeb));
}

TEST_CASE("existence: key and !key") {
  Selector exists = MustParse("legacy");
  CHECK(exists.Matches(kDb));
  CHECK_FALSE(exists.Matches(kWeb));

  Selector absent = MustParse("!legacy");
  CHECK_FALSE(absent.Matches(kDb));
  CHECK(absent.Matches(kWeb));
  CHECK(absent.Matches(kNone));
}

TEST_CASE("terms are ANDed") {
  Selector s = MustParse("app=web,env in (prod),!legacy,tier");
  CHECK(s.Matches(kWeb));
  CHECK_FALSE(s.Matches(kDb));
  Labels almost = kWeb;
  almost["legacy"] = "yes";
  CHECK_FALSE(s.Matches(almost));
  almost = kWeb;
  almost.erase("tier");
  CHECK_FALSE(s.Matches(almost));
}

TEST_CASE("whitespace around terms, operators and values is ignored") {
  Selector s = MustParse("  app = web ,  env  in  ( prod , staging ) , ! legacy , tier != back  ");
  CHECK(s.Matches(kWeb));
  CHECK_FALSE(s.Matches(kDb));
  CHECK(s.ToString() == "app=web,env in (prod,staging),!legacy,tier!=back");
  CHECK(MustParse("env in(prod)").Matches(kWeb));
  CHECK(MustParse("app == web").Matches(kWeb));
}

TEST_CASE("prefixed keys and values with dots, dashes and underscores") {
  Labels labels = {{"reef.dev/tier", "edge-1"}, {"app.kubernetes.io/name", "my_app.v2"}};
  Selector s = MustParse("reef.dev/tier=edge-1,app.kubernetes.io/name in (my_app.v2,other)");
  CHECK(s.Matches(labels));
  CHECK_FALSE(MustParse("reef.dev/tier!=edge-1").Matches(labels));
}

TEST_CASE("ToString parses back to the same selector") {
  for (std::string_view text : {"app=web", "app!=web", "env in (a,b)", "env notin (a)", "tier",
                                "!legacy", "app=web,env in (prod,staging),!legacy,tier!=db"}) {
    Selector s = MustParse(text);
    CHECK(s.ToString() == text);
    Selector again = MustParse(s.ToString());
    CHECK(again.ToString() == s.ToString());
    CHECK(again.Matches(kWeb) == s.Matches(kWeb));
    CHECK(again.Matches(kDb) == s.Matches(kDb));
  }
}

TEST_CASE("syntax errors name the selector") {
  SUBCASE("bad keys") {
    std::string msg = ParseError("-app=web");
    CHECK(msg.rfind("label selector \"-app=web\": ", 0) == 0);
    CHECK(Contains(msg, "\"-app\""));
    CHECK(Contains(ParseError("a b=c"), "\"a b\""));
    CHECK(Contains(ParseError("=web"), "label selector \"=web\""));
    CHECK(Contains(ParseError("Ab_/x=y"), "label selector"));
    CHECK(Contains(ParseError(std::string(64, 'k') + "=v"), "63"));
    CHECK(Contains(ParseError("!"), "label selector \"!\""));
    CHECK(Contains(ParseError("!app=web"), "label selector \"!app=web\""));
  }
  SUBCASE("bad values") {
    CHECK(Contains(ParseError("app=we b"), "\"we b\""));
    CHECK(Contains(ParseError("app=-web"), "\"-web\""));
    CHECK(Contains(ParseError("a=b=c"), "label selector \"a=b=c\""));
    CHECK(Contains(ParseError("env in (a,b c)"), "\"b c\""));
  }
  SUBCASE("unbalanced parentheses") {
    CHECK(Contains(ParseError("env in (a,b"), "missing ')'"));
    CHECK(Contains(ParseError("env in (a"), "missing ')'"));
    CHECK(Contains(ParseError("env in a,b)"), "label selector \"env in a,b)\""));
    CHECK(Contains(ParseError("env in ((a))"), "label selector"));
  }
  SUBCASE("bad set operators") {
    CHECK(Contains(ParseError("env within (a)"), "expected \"KEY in (V1,V2)\""));
    CHECK(Contains(ParseError("env (a)"), "expected \"KEY in (V1,V2)\""));
    CHECK(Contains(ParseError("in (a)"), "expected \"KEY in (V1,V2)\""));
  }
  SUBCASE("empty terms") {
    CHECK(Contains(ParseError("app=web,,tier"), "empty term"));
    CHECK(Contains(ParseError("app=web,"), "empty term"));
    CHECK(Contains(ParseError(",app=web"), "empty term"));
    CHECK(Contains(ParseError(" , "), "empty term"));
  }
}

TEST_CASE("FromProto: matchLabels and matchExpressions") {
  reef::v1::LabelSelector proto;
  (*proto.mutable_match_labels())["app"] = "web";
  (*proto.mutable_match_labels())["tier"] = "front";
  auto* in = proto.add_match_expressions();
  in->set_key("env");
  in->set_operator_("In");
  in->add_values("prod");
  in->add_values("staging");
  auto* notin = proto.add_match_expressions();
  notin->set_key("zone");
  notin->set_operator_("NotIn");
  notin->add_values("lab");
  auto* exists = proto.add_match_expressions();
  exists->set_key("tier");
  exists->set_operator_("Exists");
  auto* absent = proto.add_match_expressions();
  absent->set_key("legacy");
  absent->set_operator_("DoesNotExist");

  auto s = Selector::FromProto(proto);
  REQUIRE(s.ok());
  // matchLabels come first, sorted, then the expressions in order.
  CHECK(s->ToString() == "app=web,tier=front,env in (prod,staging),zone notin (lab),tier,!legacy");
  CHECK(s->Matches(kWeb));
  CHECK_FALSE(s->Matches(kDb));
  Labels in_lab = kWeb;
  in_lab["zone"] = "lab";
  CHECK_FALSE(s->Matches(in_lab));

  // The protobuf map overload agrees.
  google::protobuf::Map<std::string, std::string> pmap;
  for (const auto& [k, v] : kWeb) pmap[k] = v;
  CHECK(s->Matches(pmap));
  pmap["legacy"] = "1";
  CHECK_FALSE(s->Matches(pmap));

  // An empty LabelSelector is the empty selector.
  auto empty = Selector::FromProto(reef::v1::LabelSelector());
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("FromProto: bad operators and values") {
  auto with = [](std::string op, std::vector<std::string> values) {
    reef::v1::LabelSelector proto;
    auto* e = proto.add_match_expressions();
    e->set_key("env");
    e->set_operator_(op);
    for (const std::string& v : values) e->add_values(v);
    return Selector::FromProto(proto);
  };
  auto bad = with("Equals", {"prod"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()) ==
        "operator \"Equals\": must be In, NotIn, Exists or DoesNotExist");
  // Operators are case-sensitive, as in Kubernetes.
  CHECK_FALSE(with("in", {"prod"}).ok());
  CHECK_FALSE(with("", {}).ok());

  auto no_values = with("In", {});
  REQUIRE_FALSE(no_values.ok());
  CHECK(Contains(std::string(no_values.status().message()), "In needs at least one value"));
  CHECK_FALSE(with("NotIn", {}).ok());

  auto values = with("Exists", {"x"});
  REQUIRE_FALSE(values.ok());
  CHECK(Contains(std::string(values.status().message()), "Exists takes no values"));
  CHECK_FALSE(with("DoesNotExist", {"x"}).ok());

  CHECK(with("In", {"prod"}).ok());
  CHECK(with("Exists", {}).ok());
}

}  // namespace
}  // namespace reef::manifest
