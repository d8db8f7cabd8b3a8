#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "agent/volumes/env_resolve.h"
#include "tests/unit/volumes_fake_source.h"

namespace reef::agent::volumes {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct EnvFixture {
  reef::v1::Pod pod;
  reef::v1::Container* c;
  testing::FakeSource source;

  EnvFixture() {
    pod.mutable_metadata()->set_name("reader");
    pod.mutable_metadata()->set_namespace_("shop");
    c = pod.mutable_spec()->add_containers();
    c->set_name("app");
  }

  reef::v1::EnvFromSource* FromConfigMap(const std::string& name, const std::string& prefix = "") {
    auto* from = c->add_env_from();
    from->set_prefix(prefix);
    from->mutable_config_map_ref()->set_name(name);
    return from;
  }
  reef::v1::EnvFromSource* FromSecret(const std::string& name, const std::string& prefix = "") {
    auto* from = c->add_env_from();
    from->set_prefix(prefix);
    from->mutable_secret_ref()->set_name(name);
    return from;
  }
  reef::v1::KeySelector* ConfigMapKey(const std::string& env, const std::string& name,
                                      const std::string& key) {
    auto* var = c->add_env();
    var->set_name(env);
    auto* ref = var->mutable_value_from()->mutable_config_map_key_ref();
    ref->set_name(name);
    ref->set_key(key);
    return ref;
  }
  reef::v1::KeySelector* SecretKey(const std::string& env, const std::string& name,
                                   const std::string& key) {
    auto* var = c->add_env();
    var->set_name(env);
    auto* ref = var->mutable_value_from()->mutable_secret_key_ref();
    ref->set_name(name);
    ref->set_key(key);
    return ref;
  }

  ResolvedEnv Resolve() {
    auto env = ResolveEnv(pod, *c, source);
    REQUIRE_MESSAGE(env.ok(), env.status());
    return *env;
  }
  absl::Status Error() { return ResolveEnv(pod, *c, source).status(); }
};

TEST_CASE("volumes envFrom: every data key of a ConfigMap and a Secret, prefixed, in order") {
  EnvFixture f;
  f.source.PutConfigMap("shop", "cfg", {{"b", "2"}, {"a", "1"}}, {{"bin", "ignored"}});
  f.source.PutSecret("shop", "creds", {{"user", "admin"}, {"pass", "s3cret"}});
  f.FromConfigMap("cfg", "CFG_");
  f.FromSecret("creds");
  ResolvedEnv env = f.Resolve();
  CHECK(env.env_from ==
        Pairs{{"CFG_a", "1"}, {"CFG_b", "2"}, {"pass", "s3cret"}, {"user", "admin"}});
  CHECK(env.value_from.empty());
}

TEST_CASE("volumes envFrom: a later source overrides an earlier one, keeping the first position") {
  EnvFixture f;
  f.source.PutConfigMap("shop", "base", {{"MODE", "slow"}, {"PORT", "80"}});
  f.source.PutConfigMap("shop", "override", {{"MODE", "fast"}});
  f.FromConfigMap("base");
  f.FromConfigMap("override");
  CHECK(f.Resolve().env_from == Pairs{{"MODE", "fast"}, {"PORT", "80"}});
}

TEST_CASE("volumes envFrom: keys that are not valid env names are skipped") {
  EnvFixture f;
  f.source.PutConfigMap("shop", "cfg", {{"1st", "x"}, {"ok.name", "y"}, {"has space", "z"}});
  f.FromConfigMap("cfg");
  CHECK(f.Resolve().env_from == Pairs{{"ok.name", "y"}});
  // A prefix can make a key valid, as in Kubernetes.
  EnvFixture g;
  g.source.PutConfigMap("shop", "cfg", {{"1st", "x"}});
  g.FromConfigMap("cfg", "P_");
  CHECK(g.Resolve().env_from == Pairs{{"P_1st", "x"}});
}

TEST_CASE("volumes envFrom: a missing object is an error naming the container, unless optional") {
  EnvFixture f;
  f.FromConfigMap("sensor-config");
  absl::Status s = f.Error();
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(s.message() == "container \"app\": configmap \"sensor-config\" not found");

  EnvFixture g;
  g.FromSecret("db");
  CHECK(g.Error().message() == "container \"app\": secret \"db\" not found");

  EnvFixture h;
  h.FromConfigMap("gone")->mutable_config_map_ref()->set_optional(true);
  h.FromSecret("gone-too")->mutable_secret_ref()->set_optional(true);
  CHECK(h.Resolve().env_from.empty());
}

TEST_CASE("volumes valueFrom: values by env name, from ConfigMaps and Secrets") {
  EnvFixture f;
  f.source.PutConfigMap("shop", "cfg", {{"mode", "fast"}});
  f.source.PutSecret("shop", "creds", {{"pass", std::string("p\0w", 3)}});
  f.ConfigMapKey("MODE", "cfg", "mode");
  f.SecretKey("PASS", "creds", "pass");
  auto* plain = f.c->add_env();
  plain->set_name("PLAIN");
  plain->set_value("v");
  ResolvedEnv env = f.Resolve();
  CHECK(env.value_from.size() == 2);
  CHECK(env.value_from["MODE"] == "fast");
  CHECK(env.value_from["PASS"] == std::string("p\0w", 3));
  CHECK(env.env_from.empty());
}

TEST_CASE("volumes valueFrom: a later entry of the same name wins") {
  EnvFixture f;
  f.source.PutConfigMap("shop", "cfg", {{"a", "1"}, {"b", "2"}});
  f.ConfigMapKey("X", "cfg", "a");
  f.ConfigMapKey("X", "cfg", "b");
  CHECK(f.Resolve().value_from.at("X") == "2");
}

TEST_CASE("volumes valueFrom: missing keys and objects, as the kubelet words them") {
  EnvFixture f;
  f.source.PutConfigMap("shop", "cfg", {{"mode", "fast"}});
  f.ConfigMapKey("LEVEL", "cfg", "level");
  CHECK(f.Error().message() == "container \"app\": couldn't find key level in ConfigMap shop/cfg");

  EnvFixture g;
  g.source.PutSecret("shop", "creds", {});
  g.SecretKey("PASS", "creds", "pass");
  CHECK(g.Error().message() == "container \"app\": couldn't find key pass in Secret shop/creds");

  EnvFixture h;
  h.SecretKey("PASS", "nope", "pass");
  CHECK(h.Error().code() == absl::StatusCode::kNotFound);
  CHECK(h.Error().message() == "container \"app\": secret \"nope\" not found");
}

TEST_CASE("volumes valueFrom: optional refs to a missing key or object leave the name out") {
  EnvFixture f;
  f.source.PutConfigMap("shop", "cfg", {{"mode", "fast"}});
  f.ConfigMapKey("LEVEL", "cfg", "level")->set_optional(true);
  f.ConfigMapKey("OTHER", "absent", "x")->set_optional(true);
  f.SecretKey("PASS", "absent", "pass")->set_optional(true);
  f.ConfigMapKey("MODE", "cfg", "mode");
  ResolvedEnv env = f.Resolve();
  CHECK(env.value_from.size() == 1);
  CHECK(env.value_from.at("MODE") == "fast");
}

TEST_CASE("volumes env: lookups use the pod's namespace, default when it has none") {
  EnvFixture f;
  f.source.PutConfigMap("default", "cfg", {{"a", "1"}});
  f.source.PutConfigMap("shop", "cfg", {{"a", "shop"}});
  f.ConfigMapKey("A", "cfg", "a");
  CHECK(f.Resolve().value_from.at("A") == "shop");
  f.pod.mutable_metadata()->clear_namespace_();
  CHECK(f.Resolve().value_from.at("A") == "1");
}

TEST_CASE("volumes env: SecretData merges stringData over data") {
  reef::v1::Secret s;
  (*s.mutable_data())["a"] = "from-data";
  (*s.mutable_data())["b"] = "b";
  (*s.mutable_string_data())["a"] = "from-string";
  auto data = SecretData(s);
  CHECK(data.at("a") == "from-string");
  CHECK(data.at("b") == "b");
}

}  // namespace
}  // namespace reef::agent::volumes
