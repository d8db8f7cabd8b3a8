#include "api/manifest/codec.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/manifest/manifest.h"
#include "api/manifest/object.h"
#include "tests/support/source_tree.h"

namespace reef::manifest {
namespace {

using namespace reef::v1;

std::string ReadExampleFile(std::string_view name) {
  return reef::testing::ReadSourceFile(std::string("manifests/examples/") + std::string(name));
}

std::vector<Object> Parse(std::string_view text) {
  auto objects = ParseManifest("codec.yaml", text);
  REQUIRE_MESSAGE(objects.ok(), objects.status().message() << "\nin:\n" << text);
  return *std::move(objects);
}

Object ParseOne(std::string_view text) {
  std::vector<Object> objects = Parse(text);
  REQUIRE(objects.size() == 1);
  return objects[0];
}

// A string with its unprintable bytes escaped, for failure messages.
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", ch);
      out += hex;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

#define CHECK_CONTAINS(haystack, needle) \
  CHECK_MESSAGE(Contains(haystack, needle), "\"" << (haystack) << "\" lacks \"" << (needle) << "\"")

// object -> YAML -> object -> YAML: the objects are equal and the second YAML is the
// first, byte for byte. Returns the YAML.
std::string CheckStableYaml(const Object& object) {
  std::string first = ToYaml(object);
  Object again = ParseOne(first);
  CHECK_MESSAGE(Equal(object, again), "changed by a YAML round trip:\n" << first << "\nreads back as:\n"
                                                                         << ToYaml(again));
  std::string second = ToYaml(again);
  CHECK_MESSAGE(first == second, "first:\n" << first << "\nsecond:\n" << second);
  return first;
}

// A defaulted object from a manifest, ready for round trips.
Object Defaulted(std::string_view text) { return ParseOne(text); }

constexpr std::string_view kRollingDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  strategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 25%
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - name: http
          containerPort: 80
        livenessProbe:
          httpGet:
            port: http
        readinessProbe:
          tcpSocket:
            port: 80
)";

// Strings that a careless writer would emit so that they read back as something else.
const std::vector<std::string>& TrickyStrings() {
  static const auto* strings = new std::vector<std::string>{
      // YAML 1.1 and 1.2 booleans, nulls and numbers.
      "true", "false", "True", "FALSE", "yes", "no", "on", "off", "y", "n", "null", "Null", "~",
      "1", "1.0", "-1", "+1", ".5", "1e3", "1E-3", "0755", "0x1F", "0o17", "1_000", "12:30:00",
      ".inf", "-.inf", ".nan", "2024-01-02",
      // Empty, spaces and YAML syntax characters.
      "", " ", " leading space", "trailing space ", "a: b", "a:b", "key:", "a #b", "#x", "a#b",
      "- item", "-", "--", "---", "...", "? x", "?", ":x", "[x]", "{x: y}", "*ref", "&anchor",
      "!tag", "!!str", "|", ">", "%YAML", "@at", "`tick", "'single'", "\"double\"",
      "it's", "back\\slash", ",comma", "=", "<<",
      // Multi-line text, with and without a trailing newline, and awkward variants.
      "multi\nline\n", "multi\nline", "multi\nline\n\n", "\nleading newline", "a\n\nb\n",
      "  indented\nmulti", "line \nwith trailing space", "#!/bin/sh\necho hi\n",
      "key: value\nlist: [1, 2]\n", "- a\n- b", "---\n...\n",
      // Control characters.
      "tab\there", "\t", "crlf\r\nline", "bell\x07", "del\x7f",
      // Unicode.
      "héllo wörld", "温度センサー", "emoji 🚀", "ünïcödé\nmulti-line ✓\n", "é: ü",
  };
  return *strings;
}

// ---- Order and shape -------------------------------------------------------------

TEST_CASE("apiVersion and kind come first, unset fields are left out") {
  Object cm = Defaulted("metadata:\n  name: a\nkind: ConfigMap\napiVersion: v1\n");
  CHECK(ToYaml(cm) ==
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: a\n"
        "  namespace: default\n");
  CHECK(ToJson(cm) ==
        "{\n"
        "    \"apiVersion\": \"v1\",\n"
        "    \"kind\": \"ConfigMap\",\n"
        "    \"metadata\": {\n"
        "        \"name\": \"a\",\n"
        "        \"namespace\": \"default\"\n"
        "    }\n"
        "}\n");

  Object d = Defaulted(kRollingDeployment);
  CHECK(ToYaml(d).rfind("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n", 0) == 0);
  CHECK(ToJson(d).rfind("{\n    \"apiVersion\": \"apps/v1\",\n    \"kind\": \"Deployment\",\n", 0) == 0);
}

TEST_CASE("map keys are sorted and empty messages are kept") {
  Object pod = Defaulted(R"(apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    zone: b
    app: web
    tier: front
spec:
  containers:
  - name: c
    image: busybox:1.36
  volumes:
  - name: scratch
    emptyDir: {}
)");
  std::string yaml = CheckStableYaml(pod);
  CHECK_CONTAINS(yaml, "  labels:\n    app: web\n    tier: front\n    zone: b\n");
  CHECK_CONTAINS(yaml, "  - name: scratch\n    emptyDir: {}\n");
}

// ---- Round trips -----------------------------------------------------------------

TEST_CASE("every example is stable through YAML") {
  for (std::string_view name : {"deployment.yaml", "daemonset.yaml", "pod.yaml", "configmap.yaml"}) {
    INFO(std::string(name));
    for (const Object& o : Parse(ReadExampleFile(name))) CheckStableYaml(o);
  }
}

TEST_CASE("every example is stable through JSON") {
  for (std::string_view name : {"deployment.yaml", "daemonset.yaml", "pod.yaml", "configmap.yaml"}) {
    INFO(std::string(name));
    for (const Object& o : Parse(ReadExampleFile(name))) {
      std::string json = ToJson(o);
      Object again = ParseOne(json);
      CHECK(Equal(o, again));
      CHECK(ToJson(again) == json);
      CHECK(ToYaml(again) == ToYaml(o));
    }
  }
}

TEST_CASE("tricky strings survive YAML and JSON round trips") {
  Object cm = Defaulted("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tricky\n");
  auto* data = cm.mutable_config_map()->mutable_data();
  auto* annotations = cm.mutable_config_map()->mutable_metadata()->mutable_annotations();
  for (size_t i = 0; i < TrickyStrings().size(); ++i) {
    std::string key = "k" + std::to_string(100 + i);
    (*data)[key] = TrickyStrings()[i];
    (*annotations)["reef.dev/" + key] = TrickyStrings()[i];
  }
  std::string yaml = CheckStableYaml(cm);
  Object back = ParseOne(yaml);
  for (size_t i = 0; i < TrickyStrings().size(); ++i) {
    const std::string& s = TrickyStrings()[i];
    std::string key = "k" + std::to_string(100 + i);
    CAPTURE(s);
    CHECK(back.config_map().data().at(key) == s);
    CHECK(back.config_map().metadata().annotations().at("reef.dev/" + key) == s);
  }
  CHECK(Equal(ParseOne(ToJson(cm)), cm));

  // A multi-line value is written as a literal block, as kubectl writes it.
  CHECK_CONTAINS(yaml, ": |-\n    multi\n    line\n");
  CHECK_CONTAINS(yaml, ": |\n    multi\n    line\n");
  // Values that would read as another type are quoted.
  CHECK_CONTAINS(yaml, ": \"true\"\n");
  CHECK_CONTAINS(yaml, ": \"1.0\"\n");
  CHECK_CONTAINS(yaml, ": \"0755\"\n");
  CHECK_CONTAINS(yaml, ": \"\"\n");
  CHECK_CONTAINS(yaml, ": \"a: b\"\n");
  CHECK_CONTAINS(yaml, ": \" leading space\"\n");
  CHECK_CONTAINS(yaml, ": \"#x\"\n");
  CHECK_CONTAINS(yaml, ": héllo wörld\n");
}

TEST_CASE("tricky strings in lists, env values and keys") {
  Object pod = Defaulted(R"(apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: busybox:1.36
)");
  Container* c = pod.mutable_pod()->mutable_spec()->mutable_containers(0);
  for (size_t i = 0; i < TrickyStrings().size(); ++i) {
    c->add_command(TrickyStrings()[i]);
    EnvVar* e = c->add_env();
    e->set_name("V" + std::to_string(i));
    e->set_value(TrickyStrings()[i]);
  }
  CheckStableYaml(pod);
  CHECK(Equal(ParseOne(ToJson(pod)), pod));

  // Data keys and label values that read as other types.
  Object cm = Defaulted("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keys\n");
  for (std::string key : {"true", "1", "1.0", "on", "null", "y", "0755", ".hidden", "-dash", "_u",
                          "a.b", "1e3"}) {
    (*cm.mutable_config_map()->mutable_data())[key] = key;
  }
  for (std::string value : {"true", "1.0", "0755", "", "yes", "1e3"}) {
    (*cm.mutable_config_map()->mutable_metadata()->mutable_labels())["v" + value] = value;
  }
  CheckStableYaml(cm);
  CHECK(Equal(ParseOne(ToJson(cm)), cm));
}

// ---- IntOrString and bytes ---------------------------------------------------------

TEST_CASE("IntOrString is written as an int when numeric, else as a string") {
  Object d = Defaulted(kRollingDeployment);
  const auto& ru = d.deployment().spec().strategy().rolling_update();
  CHECK(ru.max_surge() == "1");
  CHECK(ru.max_unavailable() == "25%");

  std::string yaml = CheckStableYaml(d);
  CHECK_CONTAINS(yaml, "      maxSurge: 1\n");
  CHECK_MESSAGE((Contains(yaml, "      maxUnavailable: \"25%\"\n") ||
                 Contains(yaml, "      maxUnavailable: 25%\n")),
                yaml);
  CHECK_CONTAINS(yaml, "            port: http\n");
  CHECK_CONTAINS(yaml, "            port: 80\n");

  std::string json = ToJson(d);
  CHECK_CONTAINS(json, "\"maxSurge\": 1\n");
  CHECK_CONTAINS(json, "\"maxUnavailable\": \"25%\"");
  CHECK_CONTAINS(json, "\"port\": \"http\"");
  CHECK_CONTAINS(json, "\"port\": 80");

  // A DaemonSet's defaults (1 and 0) are ints too.
  Object ds = ParseOne(ReadExampleFile("daemonset.yaml"));
  CHECK_CONTAINS(ToYaml(ds), "      maxUnavailable: 1\n      maxSurge: 0\n");
}

TEST_CASE("bytes are base64 in YAML and JSON") {
  Object s = Defaulted(R"(apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  blob: AP8QIA==
stringData:
  password: hello
)");
  CHECK(s.secret().data().at("blob") == std::string("\x00\xff\x10\x20", 4));
  CHECK(s.secret().data().at("password") == "hello");
  std::string yaml = CheckStableYaml(s);
  CHECK_CONTAINS(yaml, "  blob: AP8QIA==\n");
  CHECK_CONTAINS(yaml, "  password: aGVsbG8=\n");
  CHECK_FALSE(Contains(yaml, "stringData"));
  CHECK_CONTAINS(ToJson(s), "\"password\": \"aGVsbG8=\"");
  CHECK(Equal(ParseOne(ToJson(s)), s));

  Object cm = Defaulted(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bin}\nbinaryData: {logo.png: iVBORw0KGgo=}\n");
  CHECK(cm.config_map().binary_data().at("logo.png") == "\x89PNG\r\n\x1a\n");
  CHECK_CONTAINS(CheckStableYaml(cm), "  logo.png: iVBORw0KGgo=\n");

  auto bad = ParseManifest("bad.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: \"not base64!\"}\n");
  REQUIRE_FALSE(bad.ok());
  CHECK_CONTAINS(std::string(bad.status().message()), "data[k]: not valid base64");
}

// ---- Lists and JSON ------------------------------------------------------------------

TEST_CASE("ListToYaml is a kind: List that parses back") {
  std::vector<Object> items;
  for (std::string_view name : {"configmap.yaml", "pod.yaml", "deployment.yaml", "daemonset.yaml"}) {
    items.push_back(ParseOne(ReadExampleFile(name)));
  }
  std::string yaml = ListToYaml(items);
  CHECK(yaml.rfind("apiVersion: v1\n", 0) == 0);
  CHECK_CONTAINS(yaml, "\nkind: List\n");
  CHECK_CONTAINS(yaml, "items:\n- apiVersion: v1\n  kind: ConfigMap\n");
  std::vector<Object> back = Parse(yaml);
  REQUIRE(back.size() == items.size());
  for (size_t i = 0; i < items.size(); ++i) CHECK(Equal(back[i], items[i]));
  CHECK(ListToYaml(back) == yaml);

  std::string json = ListToJson(items);
  CHECK_CONTAINS(json, "\"kind\": \"List\"");
  back = Parse(json);
  REQUIRE(back.size() == items.size());
  for (size_t i = 0; i < items.size(); ++i) CHECK(Equal(back[i], items[i]));

  // An empty list too.
  CHECK(Parse(ListToYaml({})).empty());
  CHECK(Parse(ListToJson({})).empty());
}

TEST_CASE("JSON output parses back through ParseManifest") {
  Object pod = ParseOne(ReadExampleFile("pod.yaml"));
  std::string json = ToJson(pod);
  CHECK(json.front() == '{');
  CHECK_CONTAINS(json, "\"restartPolicy\": \"OnFailure\"");
  CHECK_CONTAINS(json, "\"defaultMode\": 420");
  Object back = ParseOne(json);
  CHECK(Equal(back, pod));
}

TEST_CASE("generated strings survive YAML and JSON round trips") {
  // Strings glued from YAML's awkward pieces, with a fixed seed so failures repeat.
  const std::vector<std::string> atoms = {
      " ", ":", "#", "-", "\n", "\"", "'", "a", "1", ".", "\t", "é", "[", "{", ",", "!", "&",
      "*", "|", ">", "%", "@", "`", "?", "~", "\\", "e", "0", "\r", "=", "<", "null", "true",
      "---", "...", "\xe2\x80\xa8" /* U+2028 */, "\xc2\x85" /* U+0085 */};
  uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  Object base = Defaulted(R"(apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: busybox:1.36
)");
  int failures = 0;
  for (int n = 0; n < 3000 && failures < 5; ++n) {
    std::string s;
    for (size_t len = next() % 9; len > 0; --len) s += atoms[next() % atoms.size()];
    Object pod = base;
    Container* c = pod.mutable_pod()->mutable_spec()->mutable_containers(0);
    c->add_command(s);
    c->add_command(s + "\n");
    c->add_args("a\n" + s);
    EnvVar* e = c->add_env();
    e->set_name("V");
    e->set_value(s + "\nb");
    (*pod.mutable_pod()->mutable_metadata()->mutable_annotations())["a"] = s;

    std::string yaml = ToYaml(pod);
    auto back = ParseManifest("fuzz.yaml", yaml);
    bool yaml_ok = back.ok() && back->size() == 1 && Equal((*back)[0], pod) &&
                   ToYaml((*back)[0]) == yaml;
    auto from_json = ParseManifest("fuzz.json", ToJson(pod));
    bool json_ok = from_json.ok() && from_json->size() == 1 && Equal((*from_json)[0], pod);
    if (!yaml_ok || !json_ok) {
      ++failures;
      CHECK_MESSAGE(yaml_ok, "YAML round trip of " << Quoted(s) << " fails:\n" << yaml);
      CHECK_MESSAGE(json_ok, "JSON round trip of " << Quoted(s) << " fails");
    }
  }
  CHECK(failures == 0);
}

}  // namespace
}  // namespace reef::manifest
