#include "api/manifest/manifest.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "api/manifest/object.h"
#include "tests/support/source_tree.h"

namespace reef::manifest {
namespace {

using namespace reef::v1;

// A file of manifests/examples, read from the source tree that ctest names.
std::string ReadExample(std::string_view name) {
  return reef::testing::ReadSourceFile(std::string("manifests/examples/") + std::string(name));
}

std::vector<Object> MustParse(std::string_view text, const ParseOptions& options = {}) {
  auto objects = ParseManifest("test.yaml", text, options);
  REQUIRE_MESSAGE(objects.ok(), objects.status().message());
  return *std::move(objects);
}

Object MustParseOne(std::string_view text) {
  std::vector<Object> objects = MustParse(text);
  REQUIRE(objects.size() == 1);
  return objects[0];
}

// The message of a manifest that must fail with InvalidArgument.
std::string ParseError(std::string_view text, std::string_view source = "test.yaml",
                       const ParseOptions& options = {}) {
  auto objects = ParseManifest(source, text, options);
  REQUIRE_MESSAGE(!objects.ok(), "parsed, but should have failed:\n" << text);
  CHECK(objects.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(objects.status().message());
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

#define CHECK_CONTAINS(haystack, needle) \
  CHECK_MESSAGE(Contains(haystack, needle), "\"" << (haystack) << "\" lacks \"" << (needle) << "\"")

// A minimal valid Deployment to break in one place at a time.
constexpr std::string_view kWebDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
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
)";

std::string ConfigMapYaml(std::string_view name) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + std::string(name) +
         "\ndata:\n  k: v\n";
}

// ---- The examples shipped in manifests/examples -----------------------------------

TEST_CASE("every example in manifests/examples parses") {
  SUBCASE("deployment.yaml") {
    Object o = MustParseOne(ReadExample("deployment.yaml"));
    REQUIRE(o.has_deployment());
    const Deployment& d = o.deployment();
    CHECK(d.metadata().name() == "web");
    CHECK(d.metadata().namespace_() == "default");
    CHECK(d.spec().replicas() == 2);
    CHECK(d.spec().selector().match_labels().at("app") == "web");
    REQUIRE(d.spec().template_().spec().containers_size() == 1);
    const Container& c = d.spec().template_().spec().containers(0);
    CHECK(c.image() == "busybox:1.36");
    CHECK(c.image_pull_policy() == "IfNotPresent");
    REQUIRE(c.ports_size() == 1);
    CHECK(c.ports(0).container_port() == 80);
    CHECK(c.ports(0).host_port() == 8080);
    CHECK(c.ports(0).protocol() == "TCP");
    CHECK(c.resources().requests().at("cpu") == "50m");
    CHECK(c.resources().limits().at("memory") == "32Mi");
    REQUIRE(c.has_readiness_probe());
    CHECK(c.readiness_probe().http_get().port() == "80");
    CHECK(c.readiness_probe().http_get().scheme() == "HTTP");
    REQUIRE(c.env_size() == 1);
    CHECK(c.env(0).name() == "SITE_NAME");
    REQUIRE(c.command_size() == 3);
    CHECK(Contains(c.command(2), "httpd -f -p 80 -h /www"));
  }
  SUBCASE("daemonset.yaml") {
    Object o = MustParseOne(ReadExample("daemonset.yaml"));
    REQUIRE(o.has_daemon_set());
    const PodSpec& spec = o.daemon_set().spec().template_().spec();
    REQUIRE(spec.volumes_size() == 1);
    CHECK(spec.volumes(0).host_path().path() == "/var/log");
    REQUIRE(spec.containers(0).volume_mounts_size() == 1);
    CHECK(spec.containers(0).volume_mounts(0).read_only());
    REQUIRE(spec.tolerations_size() == 1);
    CHECK(spec.tolerations(0).operator_() == "Exists");
    CHECK(spec.containers(0).image() == "busybox:1.36");
  }
  SUBCASE("pod.yaml") {
    Object o = MustParseOne(ReadExample("pod.yaml"));
    REQUIRE(o.has_pod());
    const PodSpec& spec = o.pod().spec();
    CHECK(o.pod().metadata().name() == "sensor-reader");
    CHECK(spec.restart_policy() == "OnFailure");
    REQUIRE(spec.volumes_size() == 1);
    CHECK(spec.volumes(0).config_map().name() == "sensor-config");
    REQUIRE(spec.containers(0).env_size() == 1);
    CHECK(spec.containers(0).env(0).value_from().config_map_key_ref().name() == "sensor-config");
  }
  SUBCASE("configmap.yaml") {
    Object o = MustParseOne(ReadExample("configmap.yaml"));
    REQUIRE(o.has_config_map());
    CHECK(o.config_map().metadata().name() == "sensor-config");
    const std::string& conf = o.config_map().data().at("sensors.conf");
    CHECK(conf.back() == '\n');
    CHECK(Contains(conf, "\ntemp0"));
  }
}

TEST_CASE("the pod's configMap references resolve in configmap.yaml") {
  Object pod = MustParseOne(ReadExample("pod.yaml"));
  Object cm = MustParseOne(ReadExample("configmap.yaml"));
  const auto& data = cm.config_map().data();
  const PodSpec& spec = pod.pod().spec();
  CHECK(spec.volumes(0).config_map().name() == cm.config_map().metadata().name());
  for (const KeyToPath& item : spec.volumes(0).config_map().items()) {
    CHECK_MESSAGE(data.count(item.key()), item.key());
  }
  for (const EnvVar& e : spec.containers(0).env()) {
    CHECK_MESSAGE(data.count(e.value_from().config_map_key_ref().key()), e.name());
  }
}

TEST_CASE("the examples apply together as one multi-document manifest") {
  std::string all;
  for (std::string_view name : {"configmap.yaml", "pod.yaml", "deployment.yaml", "daemonset.yaml"}) {
    all += "---\n" + ReadExample(name);
  }
  std::vector<Object> objects = MustParse(all);
  REQUIRE(objects.size() == 4);
  CHECK(objects[0].has_config_map());
  CHECK(objects[1].has_pod());
  CHECK(objects[2].has_deployment());
  CHECK(objects[3].has_daemon_set());
}

// ---- Manifests copied verbatim from the Kubernetes documentation --------------------

// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/
constexpr std::string_view kNginxDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
)";

// https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/
constexpr std::string_view kFluentdDaemonSet = R"(apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      # these tolerations are to have the daemonset runnable on control plane nodes
      # remove them if your control plane nodes should not run pods
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      - key: node-role.kubernetes.io/master
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      # it may be desirable to set a high priority class to ensure that a DaemonSet Pod
      # preempts running Pods
      # priorityClassName: important
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
)";

// https://kubernetes.io/docs/concepts/configuration/configmap/ (the trailing spaces
// after the properties are in the page's source too).
constexpr std::string_view kGameDemoConfigMap = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: game-demo
data:
  # property-like keys; each key maps to a simple value
  player_initial_lives: "3"
  ui_properties_file_name: "user-interface.properties"

  # file-like keys
  game.properties: |
    enemy.types=aliens,monsters
    player.maximum-lives=5    
  user-interface.properties: |
    color.good=purple
    color.bad=yellow
    allow.textmode=true    
)";

// The Pod that consumes game-demo, from the same page.
constexpr std::string_view kConfigMapDemoPod = R"(apiVersion: v1
kind: Pod
metadata:
  name: configmap-demo-pod
spec:
  containers:
    - name: demo
      image: alpine
      command: ["sleep", "3600"]
      env:
        # Define the environment variable
        - name: PLAYER_INITIAL_LIVES # Notice that the case is different here
                                     # from the key name in the ConfigMap.
          valueFrom:
            configMapKeyRef:
              name: game-demo           # The ConfigMap this value comes from.
              key: player_initial_lives # The key to fetch.
        - name: UI_PROPERTIES_FILE_NAME
          valueFrom:
            configMapKeyRef:
              name: game-demo
              key: ui_properties_file_name
      volumeMounts:
      - name: config
        mountPath: "/config"
        readOnly: true
  volumes:
  # You set volumes at the Pod level, then mount them into containers inside that Pod
  - name: config
    configMap:
      # Provide the name of the ConfigMap you want to mount.
      name: game-demo
      # An array of keys from the ConfigMap to create as files
      items:
      - key: "game.properties"
        path: "game.properties"
      - key: "user-interface.properties"
        path: "user-interface.properties"
)";

// https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
constexpr std::string_view kLivenessExecPod = R"(apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: liveness-exec
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/busybox
    args:
    - /bin/sh
    - -c
    - touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600
    livenessProbe:
      exec:
        command:
        - cat
        - /tmp/healthy
      initialDelaySeconds: 5
      periodSeconds: 5
)";

// https://kubernetes.io/docs/concepts/configuration/secret/
constexpr std::string_view kDotfileSecret = R"(apiVersion: v1
kind: Secret
metadata:
  name: dotfile-secret
data:
  .secret-file: dmFsdWUtMg0KDQo=
)";

TEST_CASE("manifests from the Kubernetes documentation parse unchanged") {
  SUBCASE("nginx-deployment") {
    Object o = MustParseOne(kNginxDeployment);
    REQUIRE(o.has_deployment());
    CHECK(o.deployment().metadata().name() == "nginx-deployment");
    CHECK(o.deployment().spec().replicas() == 3);
    const Container& c = o.deployment().spec().template_().spec().containers(0);
    CHECK(c.image() == "nginx:1.14.2");
    CHECK(c.ports(0).container_port() == 80);
  }
  SUBCASE("fluentd-elasticsearch DaemonSet") {
    Object o = MustParseOne(kFluentdDaemonSet);
    REQUIRE(o.has_daemon_set());
    const DaemonSet& ds = o.daemon_set();
    CHECK(ds.metadata().namespace_() == "kube-system");
    CHECK(ds.spec().template_().spec().tolerations_size() == 2);
    CHECK(ds.spec().template_().spec().termination_grace_period_seconds() == 30);
    const Container& c = ds.spec().template_().spec().containers(0);
    CHECK(c.resources().limits().at("memory") == "200Mi");
    CHECK(c.resources().requests().at("cpu") == "100m");
  }
  SUBCASE("game-demo ConfigMap") {
    Object o = MustParseOne(kGameDemoConfigMap);
    REQUIRE(o.has_config_map());
    const auto& data = o.config_map().data();
    CHECK(data.size() == 4);
    CHECK(data.at("player_initial_lives") == "3");
    CHECK(data.at("game.properties") == "enemy.types=aliens,monsters\nplayer.maximum-lives=5    \n");
  }
  SUBCASE("configmap-demo-pod") {
    Object o = MustParseOne(kConfigMapDemoPod);
    REQUIRE(o.has_pod());
    const Container& c = o.pod().spec().containers(0);
    CHECK(c.env_size() == 2);
    CHECK(c.env(0).value_from().config_map_key_ref().key() == "player_initial_lives");
    CHECK(c.volume_mounts(0).mount_path() == "/config");
    CHECK(o.pod().spec().volumes(0).config_map().items_size() == 2);
  }
  SUBCASE("liveness-exec Pod") {
    Object o = MustParseOne(kLivenessExecPod);
    REQUIRE(o.has_pod());
    const Probe& p = o.pod().spec().containers(0).liveness_probe();
    CHECK(p.exec().command_size() == 2);
    CHECK(p.initial_delay_seconds() == 5);
    CHECK(p.period_seconds() == 5);
  }
  SUBCASE("dotfile Secret") {
    Object o = MustParseOne(kDotfileSecret);
    REQUIRE(o.has_secret());
    CHECK(o.secret().data().at(".secret-file") == "value-2\r\n\r\n");
  }
}

// ---- Defaults ------------------------------------------------------------------------

TEST_CASE("defaults are applied as Kubernetes applies them") {
  Object o = MustParseOne(kWebDeployment);
  const Deployment& d = o.deployment();
  CHECK(d.metadata().namespace_() == "default");
  CHECK(d.spec().replicas() == 1);
  CHECK(d.spec().strategy().type() == "RollingUpdate");
  CHECK(d.spec().strategy().rolling_update().max_unavailable() == "25%");
  CHECK(d.spec().strategy().rolling_update().max_surge() == "25%");
  CHECK(d.spec().revision_history_limit() == 10);
  CHECK(d.spec().progress_deadline_seconds() == 600);
  const PodSpec& spec = d.spec().template_().spec();
  CHECK(spec.restart_policy() == "Always");
  CHECK(spec.termination_grace_period_seconds() == 30);
  CHECK(spec.containers(0).image_pull_policy() == "IfNotPresent");
}

TEST_CASE("imagePullPolicy defaults on the image's tag") {
  struct Case {
    std::string_view image;
    std::string_view policy;
  };
  for (Case c : {Case{"nginx", "Always"}, Case{"nginx:latest", "Always"},
                 Case{"nginx:1.25", "IfNotPresent"}, Case{"busybox:1.36", "IfNotPresent"},
                 Case{"localhost:5000/app", "Always"}, Case{"localhost:5000/app:latest", "Always"},
                 Case{"localhost:5000/app:v2", "IfNotPresent"},
                 Case{"registry.k8s.io/busybox", "Always"},
                 Case{"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                      "IfNotPresent"}}) {
    INFO(std::string(c.image));
    std::string text = R"(apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: )" + std::string(c.image) + "\n";
    Object o = MustParseOne(text);
    CHECK(o.pod().spec().containers(0).image_pull_policy() == c.policy);
  }
  // An explicit policy is kept.
  Object o = MustParseOne(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: c, image: "nginx", imagePullPolicy: Never}
)");
  CHECK(o.pod().spec().containers(0).image_pull_policy() == "Never");
}

TEST_CASE("probe, port and resource defaults") {
  Object o = MustParseOne(R"(apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: busybox:1.36
    ports:
    - containerPort: 80
    - containerPort: 53
      protocol: UDP
    resources:
      limits:
        cpu: 500m
        memory: 64Mi
      requests:
        cpu: 100m
    readinessProbe:
      httpGet:
        port: 80
    livenessProbe:
      tcpSocket:
        port: 80
      periodSeconds: 20
)");
  const Container& c = o.pod().spec().containers(0);
  CHECK(c.ports(0).protocol() == "TCP");
  CHECK(c.ports(1).protocol() == "UDP");
  // Requests missing for a limited resource are copied from the limit; set ones stay.
  CHECK(c.resources().requests().at("cpu") == "100m");
  CHECK(c.resources().requests().at("memory") == "64Mi");

  const Probe& r = c.readiness_probe();
  CHECK(r.http_get().path() == "/");
  CHECK(r.http_get().scheme() == "HTTP");
  CHECK(r.initial_delay_seconds() == 0);
  CHECK(r.timeout_seconds() == 1);
  CHECK(r.period_seconds() == 10);
  CHECK(r.success_threshold() == 1);
  CHECK(r.failure_threshold() == 3);
  const Probe& l = c.liveness_probe();
  CHECK(l.period_seconds() == 20);
  CHECK(l.timeout_seconds() == 1);
}

TEST_CASE("Secret stringData is merged into data, and wins over it") {
  Object o = MustParseOne(R"(apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  user: YWRtaW4=
  password: b2xk
stringData:
  password: s3cr3t
  token: "123"
)");
  const Secret& s = o.secret();
  CHECK(s.type() == "Opaque");
  CHECK(s.string_data().empty());
  CHECK(s.data().size() == 3);
  CHECK(s.data().at("user") == "admin");
  CHECK(s.data().at("password") == "s3cr3t");
  CHECK(s.data().at("token") == "123");
}

TEST_CASE("DaemonSet, volume and toleration defaults") {
  Object o = MustParseOne(kFluentdDaemonSet);
  const DaemonSetSpec& s = o.daemon_set().spec();
  CHECK(s.update_strategy().type() == "RollingUpdate");
  CHECK(s.update_strategy().rolling_update().max_unavailable() == "1");
  CHECK(s.update_strategy().rolling_update().max_surge() == "0");

  Object pod = MustParseOne(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  tolerations:
  - {key: dedicated, value: edge, effect: NoSchedule}
  containers:
  - {name: c, image: busybox:1.36, volumeMounts: [{name: scratch, mountPath: /tmp}]}
  volumes:
  - name: scratch
  - name: conf
    configMap: {name: cm}
)");
  const PodSpec& spec = pod.pod().spec();
  CHECK(spec.tolerations(0).operator_() == "Equal");
  CHECK(spec.volumes(0).has_empty_dir());
  CHECK(spec.volumes(1).config_map().default_mode() == 0644);
}

// ---- Errors --------------------------------------------------------------------------

TEST_CASE("malformed YAML names the line and column") {
  std::string msg = ParseError("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a, b\n",
                               "bad.yaml");
  CHECK(msg.rfind("bad.yaml:", 0) == 0);
  CHECK_CONTAINS(msg, "invalid YAML");
  // "bad.yaml:LINE:COLUMN: ..." with both numbers present and positive.
  int line = 0, column = 0;
  CHECK(std::sscanf(msg.c_str(), "bad.yaml:%d:%d:", &line, &column) == 2);
  CHECK(line >= 4);
  CHECK(column >= 1);

  msg = ParseError("a: b\n  c: d\n", "bad.yaml");
  CHECK(msg == "bad.yaml:2:4: invalid YAML: illegal map value");

  msg = ParseError("apiVersion: v1\nkind: ConfigMap\ndata:\n\t- b\n", "tabs.yaml");
  CHECK_CONTAINS(msg, "tabs.yaml:4:2: invalid YAML");
}

TEST_CASE("a document that is not a mapping is an error") {
  CHECK_CONTAINS(ParseError("just text\n"), "must be a mapping with apiVersion and kind");
  CHECK_CONTAINS(ParseError("- a\n- b\n"), "got a list");
}

TEST_CASE("unknown kind and wrong apiVersion") {
  std::string msg = ParseError("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n");
  CHECK_CONTAINS(msg, "test.yaml:2:7: document 1: kind: unknown kind \"Service\"");
  CHECK_CONTAINS(msg, "Deployment");  // lists what Reef serves

  msg = ParseError("apiVersion: v1\nmetadata:\n  name: web\n");
  CHECK_CONTAINS(msg, "kind: required");

  msg = ParseError(R"(apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: web
)");
  CHECK_CONTAINS(msg, "test.yaml:1:13: document 1: apiVersion: unknown apiVersion \"extensions/v1beta1\" for Deployment");
  CHECK_CONTAINS(msg, "apps/v1");

  msg = ParseError("apiVersion: apps/v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
  CHECK_CONTAINS(msg, "unknown apiVersion \"apps/v1\" for ConfigMap");

  msg = ParseError("kind: Pod\nmetadata:\n  name: a\n");
  CHECK_CONTAINS(msg, "apiVersion: required");
}

TEST_CASE("an unknown field is named with its full path and line") {
  std::string text(kWebDeployment);
  text.replace(text.find("      containers:"), 0, "      affinity:\n        nodeAffinity: {}\n");
  std::string msg = ParseError(text, "web.yaml");
  CHECK(msg ==
        "web.yaml:14:7: document 1 (Deployment default/web): "
        "spec.template.spec.affinity: field not supported");

  // Deeper, and inside a list item.
  text = std::string(kWebDeployment) + "        stdin: true\n";
  msg = ParseError(text, "web.yaml");
  CHECK_CONTAINS(msg, "web.yaml:17:9: ");
  CHECK_CONTAINS(msg, "spec.template.spec.containers[0].stdin: field not supported");

  // Every problem of a document is reported, not only the first.
  text = std::string(kWebDeployment) + "        stdin: true\n        tty: true\n";
  msg = ParseError(text, "web.yaml");
  CHECK_CONTAINS(msg, "containers[0].stdin: field not supported");
  CHECK_CONTAINS(msg, "containers[0].tty: field not supported");
}

TEST_CASE("an invalid name is an error at its line") {
  std::string text(kWebDeployment);
  text.replace(text.find("name: web"), 9, "name: Web_1");
  std::string msg = ParseError(text);
  CHECK_CONTAINS(msg, "test.yaml:4:9: document 1 (Deployment default/Web_1): metadata.name: \"Web_1\"");
  CHECK_CONTAINS(msg, "RFC 1123");

  text = kWebDeployment;
  text.replace(text.find("- name: web"), 11, "- name: web.1");
  CHECK_CONTAINS(ParseError(text), "spec.template.spec.containers[0].name: \"web.1\"");

  CHECK_CONTAINS(ParseError("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"), "metadata.name: required");
}

TEST_CASE("an invalid quantity is an error") {
  std::string text = std::string(kWebDeployment) +
                     "        resources:\n          limits:\n            memory: 64MB\n";
  std::string msg = ParseError(text);
  CHECK_CONTAINS(msg, "test.yaml:19:21: ");
  CHECK_CONTAINS(msg, "spec.template.spec.containers[0].resources.limits[memory]: quantity \"64MB\"");

  text = std::string(kWebDeployment) + "        resources:\n          requests:\n            cpu: -1\n";
  CHECK_CONTAINS(ParseError(text), "must not be negative");

  // Numbers are fine where a quantity belongs.
  text = std::string(kWebDeployment) +
         "        resources:\n          requests:\n            cpu: 0.5\n            memory: 1e8\n";
  Object o = MustParseOne(text);
  CHECK(o.deployment().spec().template_().spec().containers(0).resources().requests().at("cpu") == "0.5");
}

TEST_CASE("a value of the wrong type is an error") {
  std::string text(kWebDeployment);
  text.replace(text.find("spec:\n"), 6, "spec:\n  replicas: \"3\"\n");
  std::string msg = ParseError(text);
  CHECK_CONTAINS(msg, "test.yaml:6:13: ");
  CHECK_CONTAINS(msg, "spec.replicas: expected an integer, got the string \"3\"");

  text = kWebDeployment;
  text.replace(text.find("spec:\n"), 6, "spec:\n  replicas: three\n");
  CHECK_CONTAINS(ParseError(text), "spec.replicas: expected an integer, got the string \"three\"");

  text = kWebDeployment;
  text.replace(text.find("spec:\n"), 6, "spec:\n  replicas: 1.5\n");
  CHECK_CONTAINS(ParseError(text), "spec.replicas: expected an integer, got the number 1.5");

  text = kWebDeployment;
  text.replace(text.find("spec:\n"), 6, "spec:\n  replicas: 99999999999\n");
  CHECK_CONTAINS(ParseError(text), "spec.replicas: integer 99999999999 out of range");

  text = kWebDeployment;
  text.replace(text.find("image: nginx:1.25"), 17, "image: 123");
  msg = ParseError(text);
  CHECK_CONTAINS(msg, "test.yaml:16:16: ");
  CHECK_CONTAINS(msg, "spec.template.spec.containers[0].image: expected a string, got the number 123");

  // A label value that YAML reads as a boolean must be quoted, as in Kubernetes.
  text = kWebDeployment;
  text.replace(text.find("  name: web\n"), 12, "  name: web\n  labels:\n    canary: true\n");
  CHECK_CONTAINS(ParseError(text), "metadata.labels[canary]: expected a string, got the boolean true");

  text = kWebDeployment;
  text.replace(text.find("spec:\n"), 6, "spec:\n  paused: yes\n");
  CHECK_CONTAINS(ParseError(text), "spec.paused: expected true or false, got the string \"yes\"");

  text = kWebDeployment;
  text.replace(text.find("    spec:\n"), 10, "    spec:\n      containers: web\n");
  CHECK_CONTAINS(ParseError(text), "spec.template.spec.containers: expected a list, got the string \"web\"");
}

TEST_CASE("text that is not UTF-8 is an error") {
  std::string msg = ParseError("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: \"x\xff\"\n");
  CHECK_CONTAINS(msg, "test.yaml:6:6: document 1 (ConfigMap default/a): data[k]: not valid UTF-8");
  // Overlong encodings and UTF-16 surrogates are not UTF-8 either.
  CHECK_CONTAINS(ParseError("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: \xc0\xaf}\n"),
                 "data[k]: not valid UTF-8");
  CHECK_CONTAINS(ParseError("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
                            "  - {name: c, image: \"\xed\xa0\x80\"}\n"),
                 "spec.containers[0].image: not valid UTF-8");
  CHECK_CONTAINS(ParseError("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {\"k\xfe\": v}\n"),
                 "data: a key is not valid UTF-8");
  // Valid UTF-8 of every length is fine.
  Object o = MustParseOne("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: \"\\u00e9 \\u6e29 \\U0001F680\"}\n");
  CHECK(o.config_map().data().at("k") == "\xc3\xa9 \xe6\xb8\xa9 \xf0\x9f\x9a\x80");
}

TEST_CASE("duplicate keys are an error") {
  std::string text(kWebDeployment);
  text.replace(text.find("spec:\n"), 6, "spec:\n  replicas: 1\n  replicas: 2\n");
  std::string msg = ParseError(text);
  CHECK_CONTAINS(msg, "test.yaml:7:3: ");
  CHECK_CONTAINS(msg, "spec.replicas: duplicate field");

  msg = ParseError("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n  k: w\n");
  CHECK_CONTAINS(msg, "test.yaml:7:3: ");
  CHECK_CONTAINS(msg, "data[k]: duplicate key");
}

TEST_CASE("a multi-document manifest with one bad document fails as a whole") {
  std::string bad_deployment(kWebDeployment);
  bad_deployment.replace(bad_deployment.find("image: nginx:1.25"), 17, "image: 123");
  std::string text = ConfigMapYaml("first") + "---\n" + bad_deployment + "---\n" + ConfigMapYaml("third");
  std::string msg = ParseError(text, "all.yaml");
  CHECK_CONTAINS(msg, "all.yaml:23:16: document 2 (Deployment default/web): ");
  CHECK_FALSE(Contains(msg, "document 1"));
  CHECK_FALSE(Contains(msg, "document 3"));

  // Problems in several documents are all reported, one line each.
  text = ConfigMapYaml("Bad_1") + "---\n" + ConfigMapYaml("ok") + "---\n" + ConfigMapYaml("Bad_3");
  msg = ParseError(text, "all.yaml");
  CHECK_CONTAINS(msg, "document 1 (ConfigMap default/Bad_1): metadata.name");
  CHECK_CONTAINS(msg, "\nall.yaml:");
  CHECK_CONTAINS(msg, "document 3 (ConfigMap default/Bad_3): metadata.name");
}

TEST_CASE("an oversize manifest is refused before it is parsed") {
  // Not even YAML: were it parsed, the error would be a YAML one.
  std::string text(4 * 1024 * 1024, '[');
  std::string msg = ParseError(text, "huge.yaml");
  CHECK(msg == "huge.yaml: 4.0 MiB is larger than the 3.0 MiB limit");

  CHECK_CONTAINS(ParseError(std::string(kMaxManifestBytes + 1, '[')), "larger than the");
  // At the limit exactly, the text is parsed (and fails as YAML here).
  CHECK_CONTAINS(ParseError(std::string(kMaxManifestBytes - 1, ' ') + "[", "edge.yaml"),
                 "invalid YAML");
}

TEST_CASE("namespace_override") {
  ParseOptions options;
  options.namespace_override = "edge";

  // Objects without a namespace go there.
  std::vector<Object> objects = MustParse(kWebDeployment, options);
  CHECK(objects[0].deployment().metadata().namespace_() == "edge");

  // One that names the same namespace is fine.
  std::string text(kWebDeployment);
  text.replace(text.find("  name: web\n"), 12, "  name: web\n  namespace: edge\n");
  objects = MustParse(text, options);
  CHECK(objects[0].deployment().metadata().namespace_() == "edge");

  // One that names another namespace is an error, as with kubectl.
  text = kWebDeployment;
  text.replace(text.find("  name: web\n"), 12, "  name: web\n  namespace: prod\n");
  std::string msg = ParseError(text, "test.yaml", options);
  CHECK_CONTAINS(msg, "test.yaml:5:14: ");
  CHECK_CONTAINS(msg, "metadata.namespace: \"prod\" does not match the namespace \"edge\" given with -n");

  // Cluster-scoped kinds stay without a namespace.
  objects = MustParse("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: edge\n", options);
  CHECK(objects[0].namespace_().metadata().namespace_().empty());

  // Without the override, the namespace in the file is kept.
  objects = MustParse(text);
  CHECK(objects[0].deployment().metadata().namespace_() == "prod");
}

TEST_CASE("a cluster-scoped kind with a namespace is an error") {
  CHECK_CONTAINS(ParseError("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: edge\n  namespace: x\n"),
                 "metadata.namespace: Namespace is not namespaced");
}

TEST_CASE("a kind: List is expanded into its items") {
  std::vector<Object> objects = MustParse(R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
)");
  REQUIRE(objects.size() == 3);
  CHECK(objects[0].config_map().metadata().name() == "a");
  CHECK(objects[1].config_map().metadata().name() == "b");
  CHECK(objects[2].config_map().metadata().name() == "c");

  // An empty List is nothing to apply, not an error.
  CHECK(MustParse("apiVersion: v1\nkind: List\nitems: []\n").empty());

  // An error in an item names the document holding the List and the item's kind/name.
  std::string msg = ParseError(R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
  bogus: 1
)");
  CHECK_CONTAINS(msg, "test.yaml:8:3: document 1 (ConfigMap default/a): bogus: field not supported");
}

TEST_CASE("empty documents are skipped") {
  CHECK(MustParse("").empty());
  CHECK(MustParse("\n\n").empty());
  CHECK(MustParse("# nothing here\n").empty());
  CHECK(MustParse("---\n---\n").empty());
  std::vector<Object> objects =
      MustParse("---\n# leading comment only\n---\n" + ConfigMapYaml("a") + "---\n\n---\n" +
                ConfigMapYaml("b") + "---\n");
  REQUIRE(objects.size() == 2);
  CHECK(objects[1].config_map().metadata().name() == "b");

  // Documents keep their index in messages even when empty ones precede them.
  std::string msg = ParseError("---\n---\n" + ConfigMapYaml("Bad"));
  CHECK_CONTAINS(msg, "document 2 (ConfigMap default/Bad)");
}

TEST_CASE("JSON is accepted (it is YAML)") {
  Object o = MustParseOne(R"({
  "apiVersion": "v1",
  "kind": "ConfigMap",
  "metadata": {"name": "j", "labels": {"app": "web"}},
  "data": {"n": "1", "s": "a\nb"}
})");
  CHECK(o.config_map().data().at("n") == "1");
  CHECK(o.config_map().data().at("s") == "a\nb");
}

TEST_CASE("an alias bomb fails quickly with a clear message") {
  // Expanded without a budget, these would run for hours; the node budget stops them
  // (tests assert no absolute times: the suite's own timeout catches a hang).
  SUBCASE("billion laughs") {
    // Nine levels of nine aliases: 9^9 strings if expanded.
    std::string text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\n";
    text += "  annotations:\n    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'i'; ++c, ++prev) {
      text += std::string("    ") + c + ": &" + c + " [";
      for (int i = 0; i < 9; ++i) text += std::string(i ? "," : "") + "*" + prev;
      text += "]\n";
    }
    text += "data: *i\n";
    std::string msg = ParseError(text);
    CHECK_CONTAINS(msg, "metadata.annotations[a]: expected a single value, got a list");
    CHECK_CONTAINS(msg, "data: expected a mapping, got a list");
  }
  SUBCASE("fan-out through the schema") {
    // Aliases of aliases where the schema nests lists of objects: a few kilobytes
    // that would decode to millions of fields.
    std::string ports = "[";
    for (int i = 0; i < 1500; ++i) ports += std::string(i ? "," : "") + "*p";
    ports += "]";
    std::string containers = "[";
    for (int i = 0; i < 1500; ++i) containers += std::string(i ? "," : "") + "*c";
    containers += "]";
    std::string text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bomb\n"
                       "  annotations:\n    x: &p {containerPort: 80, hostPort: 8080, protocol: TCP}\n"
                       "    y: &c {name: c, image: busybox:1.36, ports: " +
                       ports + "}\nspec:\n  containers: " + containers + "\n";
    CHECK(text.size() < 32 * 1024);
    std::string msg = ParseError(text);
    CHECK_CONTAINS(msg, "document too complex");
    // One line per problem, not one per expanded node.
    CHECK(msg.size() < 4096);
  }
  SUBCASE("the budget is shared by List items and documents") {
    // A List whose items are all the same alias-heavy Pod, and more such documents:
    // each alone stays within the budget, together they would not.
    std::string refs = "[";
    for (int i = 0; i < 1000; ++i) refs += std::string(i ? "," : "") + "*p";
    refs += "]";
    std::string pod = "{apiVersion: v1, kind: Pod, metadata: {name: p, annotations: {x: &p "
                      "{containerPort: 80}}}, spec: {containers: [{name: c, image: busybox:1.36, "
                      "ports: " + refs + "}]}}";
    std::string items = "[";
    for (int i = 0; i < 1000; ++i) items += std::string(i ? "," : "") + "*pod";
    items += "]";
    std::string text = "apiVersion: v1\nkind: List\nx: &pod " + pod + "\nitems: " + items + "\n";
    for (int i = 0; i < 20; ++i) text += "---\n" + pod + "\n";
    std::string msg = ParseError(text);
    CHECK_CONTAINS(msg, "document too complex");
    CHECK_CONTAINS(msg, "test.yaml:44:1: document 21 (Pod default/): document too complex");
  }
  SUBCASE("a List that is its own item") {
    std::string msg = ParseError("&list {apiVersion: v1, kind: List, items: [*list, *list]}\n");
    CHECK_CONTAINS(msg, "unknown kind \"List\"");
  }
}

TEST_CASE("a List in a List is an error") {
  std::string msg = ParseError(R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: List
  items: []
)");
  CHECK_CONTAINS(msg, "test.yaml:5:9: document 1: kind: unknown kind \"List\"");
}

TEST_CASE("a kind: List without items is an error, not a crash") {
  CHECK_CONTAINS(ParseError("apiVersion: v1\nkind: List\n"), "unknown kind \"List\"");
  CHECK_CONTAINS(ParseError("apiVersion: v1\nkind: List\nitems: {}\n"), "unknown kind \"List\"");
}

}  // namespace
}  // namespace reef::manifest
