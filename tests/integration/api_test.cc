// apply / get / describe / delete of every kind, through the real reefctl against the
// real reef-controller.

#include <doctest/doctest.h>

#include <chrono>

#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr char kAllKinds[] = R"(apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: fast
  motd: |
    hello
    world
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
stringData:
  password: hunter2
---
apiVersion: v1
kind: Pod
metadata:
  name: probe
  namespace: shop
  labels: {app: probe}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: busybox:1.36
        command: ["httpd", "-f", "-p", "80"]
        resources:
          limits: {cpu: 250m, memory: 64Mi}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: logs
  namespace: shop
spec:
  selector:
    matchLabels: {app: logs}
  template:
    metadata:
      labels: {app: logs}
    spec:
      containers:
      - name: tail
        image: busybox:1.36
---
apiVersion: v1
kind: Node
metadata:
  name: pi-1
  labels: {kubernetes.io/arch: arm64}
---
apiVersion: v1
kind: Event
metadata:
  name: web.1
  namespace: shop
involvedObject: {kind: Deployment, name: web, namespace: shop}
reason: ScalingReplicaSet
message: Scaled up to 3
type: Normal
)";

TEST_CASE("apply, get, describe and delete every kind") {
  // The API alone: no control loop makes pods for the Deployment or the DaemonSet
  // meanwhile (tests/integration/workloads_test.cc has them at work).
  TestCluster c({"--controllers=-*"});
  std::string file = c.WriteFile("all.yaml", kAllKinds);
  RunResult r = c.Ctl({"apply", "-f", file});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(Contains(r.out, "namespace/shop created"));
  CHECK(Contains(r.out, "configmap/settings created"));
  CHECK(Contains(r.out, "secret/creds created"));
  CHECK(Contains(r.out, "pod/probe created"));
  CHECK(Contains(r.out, "deployment.apps/web created"));
  CHECK(Contains(r.out, "daemonset.apps/logs created"));
  CHECK(Contains(r.out, "node/pi-1 created"));
  CHECK(Contains(r.out, "event/web.1 created"));

  SUBCASE("applying the same file again changes nothing") {
    r = c.Ctl({"apply", "-f", file});
    REQUIRE(r.exit_code == 0);
    CHECK(Contains(r.out, "deployment.apps/web unchanged"));
    CHECK_FALSE(Contains(r.out, "configured"));
  }

  SUBCASE("get tables have kubectl's columns, with short names") {
    r = c.Ctl({"get", "deploy", "-n", "shop"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.rfind("NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n", 0) == 0);
    CHECK(Contains(r.out, "web    0/3     0            0           "));
    r = c.Ctl({"get", "po", "-n", "shop", "-o", "wide"});
    CHECK(Contains(r.out, "NAME    READY   STATUS    RESTARTS   AGE"));
    CHECK(Contains(r.out, "IP"));
    CHECK(Contains(r.out, "probe   0/1     Pending   0"));
    r = c.Ctl({"get", "ds", "-n", "shop"});
    CHECK(Contains(r.out, "DESIRED"));
    r = c.Ctl({"get", "cm", "-n", "shop"});
    CHECK(Contains(r.out, "settings   2"));
    r = c.Ctl({"get", "secrets", "-n", "shop"});
    CHECK(Contains(r.out, "creds   Opaque   1"));
    r = c.Ctl({"get", "no"});
    CHECK(Contains(r.out, "pi-1"));
    r = c.Ctl({"get", "ns"});
    CHECK(Contains(r.out, "default"));
    CHECK(Contains(r.out, "shop"));
    r = c.Ctl({"get", "ev", "-n", "shop"});
    CHECK(Contains(r.out, "ScalingReplicaSet"));
    CHECK(Contains(r.out, "deployment/web"));
  }

  SUBCASE("namespaces: -n, -A, and nothing in default") {
    r = c.Ctl({"get", "pods"});
    CHECK(r.exit_code == 0);
    CHECK(Contains(r.err, "No resources found in default namespace."));
    r = c.Ctl({"get", "pods", "-A"});
    CHECK(Contains(r.out, "NAMESPACE   NAME"));
    CHECK(Contains(r.out, "shop        probe"));
  }

  SUBCASE("label selectors") {
    r = c.Ctl({"get", "pods", "-n", "shop", "-l", "app=probe", "-o", "name"});
    CHECK(r.out == "pod/probe\n");
    r = c.Ctl({"get", "pods", "-n", "shop", "-l", "app!=probe", "-o", "name"});
    CHECK(r.out.empty());
    r = c.Ctl({"get", "pods", "-n", "shop", "-l", "app in (web,probe)", "-o", "name"});
    CHECK(r.out == "pod/probe\n");
    r = c.Ctl({"get", "pods", "-n", "shop", "-l", "app in (web"});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "label selector"));
  }

  SUBCASE("get -o yaml shows defaults and server fields, and applies back unchanged") {
    r = c.Ctl({"get", "deploy", "web", "-n", "shop", "-o", "yaml"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.rfind("apiVersion: apps/v1\nkind: Deployment\n", 0) == 0);
    CHECK(Contains(r.out, "uid: "));
    CHECK(Contains(r.out, "resourceVersion: "));
    CHECK(Contains(r.out, "creationTimestamp: "));
    CHECK(Contains(r.out, "generation: 1"));
    CHECK(Contains(r.out, "maxSurge: 25%"));
    CHECK(Contains(r.out, "imagePullPolicy: IfNotPresent"));
    CHECK(Contains(r.out, "restartPolicy: Always"));
    RunResult again = c.Ctl({"apply", "-f", "-"}, r.out);
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    CHECK(again.out == "deployment.apps/web unchanged\n");
    // The secret's stringData went into data, base64 in YAML.
    r = c.Ctl({"get", "secret", "creds", "-n", "shop", "-o", "yaml"});
    CHECK(Contains(r.out, "password: aHVudGVyMg=="));
    // JSON too.
    r = c.Ctl({"get", "cm", "settings", "-n", "shop", "-o", "json"});
    CHECK(Contains(r.out, "\"motd\": \"hello\\nworld\\n\""));
  }

  SUBCASE("a spec change bumps generation; a label change does not") {
    std::string changed = kAllKinds;
    changed.replace(changed.find("replicas: 3"), 11, "replicas: 5");
    r = c.Ctl({"apply", "-f", c.WriteFile("changed.yaml", changed)});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(Contains(r.out, "deployment.apps/web configured"));
    CHECK(Contains(r.out, "pod/probe unchanged"));
    r = c.Ctl({"get", "deploy", "web", "-n", "shop", "-o", "yaml"});
    CHECK(Contains(r.out, "generation: 2"));
    CHECK(Contains(r.out, "replicas: 5"));
    changed.replace(changed.find("labels: {app: web}"), 18, "labels: {app: web, tier: front}");
    r = c.Ctl({"apply", "-f", c.WriteFile("labels.yaml", changed)});
    REQUIRE(r.exit_code == 0);
    r = c.Ctl({"get", "deploy", "web", "-n", "shop", "-o", "yaml"});
    CHECK(Contains(r.out, "generation: 2"));
    CHECK(Contains(r.out, "tier: front"));
  }

  SUBCASE("describe") {
    r = c.Ctl({"describe", "deploy", "web", "-n", "shop"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(Contains(r.out, "Name:"));
    CHECK(Contains(r.out, "web"));
    CHECK(Contains(r.out, "3 desired"));
    CHECK(Contains(r.out, "ScalingReplicaSet"));  // its event
    r = c.Ctl({"describe", "secret", "creds", "-n", "shop"});
    CHECK(Contains(r.out, "password"));
    CHECK_FALSE(Contains(r.out, "hunter2"));
    for (const char* kind : {"pod", "ds", "cm", "no", "ns", "ev"}) {
      r = c.Ctl({"describe", kind, "-n", "shop"});
      CHECK_MESSAGE(r.exit_code == 0, kind, ": ", r.err);
      CHECK_MESSAGE(Contains(r.out, "Name:"), kind);
    }
  }

  SUBCASE("get of a missing object is one clear error") {
    r = c.Ctl({"get", "deploy", "nope", "-n", "shop"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: deployments.apps \"nope\" not found in namespace \"shop\"\n");
    r = c.Ctl({"get", "gizmos"});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "doesn't have a resource type \"gizmos\""));
  }

  SUBCASE("delete by name and by file; namespace delete takes its contents") {
    r = c.Ctl({"delete", "cm", "settings", "-n", "shop"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "configmap \"settings\" deleted\n");
    r = c.Ctl({"get", "cm", "settings", "-n", "shop"});
    CHECK(r.exit_code == 1);
    r = c.Ctl({"delete", "cm", "settings", "-n", "shop"});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "not found"));
    r = c.Ctl({"delete", "cm", "settings", "-n", "shop", "--ignore-not-found"});
    CHECK(r.exit_code == 0);
    r = c.Ctl({"delete", "node", "pi-1"});
    CHECK(r.exit_code == 0);
    r = c.Ctl({"delete", "ns", "shop"});
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(Contains(r.out, "namespace \"shop\" deleted (and 5 owned objects)"));
    CHECK(CountObjects(c, "pods") == 0);
    CHECK(CountObjects(c, "deploy") == 0);
    r = c.Ctl({"delete", "ns", "default"});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err, "cannot be deleted"));
  }

  SUBCASE("delete -f removes what the file created") {
    r = c.Ctl({"delete", "-f", file});
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(Contains(r.out, "deployment.apps \"web\" deleted"));
    CHECK(CountObjects(c, "deploy") == 0);
    CHECK(CountObjects(c, "nodes") == 0);
  }
}

TEST_CASE("deleting an owner deletes what it owns") {
  TestCluster c;
  RunResult r = c.Ctl({"apply", "-f", "-"}, R"(apiVersion: v1
kind: ConfigMap
metadata: {name: owner}
)");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = c.Ctl({"get", "cm", "owner", "-o", "yaml"});
  std::string uid = YamlField(r.out, "uid");
  REQUIRE(uid.size() == 36);
  r = c.Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: child\n"
                                  "  ownerReferences:\n  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: " +
                                      uid + "}\nspec:\n  containers: [{name: c, image: busybox}]\n"
                                            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: orphan}\n"
                                            "spec:\n  containers: [{name: c, image: busybox}]\n");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = c.Ctl({"delete", "cm", "owner"});
  CHECK(r.out == "configmap \"owner\" deleted (and 1 owned object)\n");
  r = c.Ctl({"get", "pods", "-o", "name"});
  CHECK(r.out == "pod/orphan\n");
}

TEST_CASE("a stale resourceVersion conflicts and changes nothing") {
  TestCluster c;
  RunResult r = c.Ctl({"apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {v: '1'}\n");
  REQUIRE(r.exit_code == 0);
  RunResult first = c.Ctl({"get", "cm", "cfg", "-o", "yaml"});
  REQUIRE(first.exit_code == 0);
  // Writer A read version N and writes: fine.
  std::string a = first.out;
  a.replace(a.find("v: \"1\""), 6, "v: \"2\"");
  r = c.Ctl({"apply", "-f", "-"}, a);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "configmap/cfg configured\n");
  // Writer B read the same version N before A wrote: conflict.
  std::string b = first.out;
  b.replace(b.find("v: \"1\""), 6, "v: \"3\"");
  r = c.Ctl({"apply", "-f", "-"}, b);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "the object has been modified"));
  CHECK(Contains(r.err, "configmaps \"cfg\""));
  CHECK(Contains(r.err, "nothing was applied"));
  r = c.Ctl({"get", "cm", "cfg", "-o", "yaml"});
  CHECK(Contains(r.out, "v: \"2\""));
}

TEST_CASE("applying a bound pod's manifest again keeps its node, moving it is refused") {
  TestCluster c;
  auto with_node = [](const std::string& line) {
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + line +
           "  containers: [{name: main, image: busybox:1.36}]\n";
  };
  RunResult r = c.Ctl({"apply", "-f", "-"}, with_node("  nodeName: box-1\n"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // The same manifest without nodeName (as a user keeps it): nothing changes.
  r = c.Ctl({"apply", "-f", "-"}, with_node(""));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "pod/p unchanged\n");
  r = c.Ctl({"get", "pod", "p", "-o", "yaml"});
  CHECK(Contains(r.out, "nodeName: box-1\n"));
  r = c.Ctl({"apply", "-f", "-"}, with_node("  nodeName: box-2\n"));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(Contains(r.err, "Pod default/p: spec.nodeName: the pod is bound to node \"box-1\" and cannot move to \"box-2\""), r.err);
  r = c.Ctl({"get", "pod", "p", "-o", "yaml"});
  CHECK(Contains(r.out, "nodeName: box-1\n"));
}

TEST_CASE("apply is all or nothing across documents") {
  TestCluster c;
  // The second object is valid on its own but its namespace does not exist: the
  // server refuses the whole request.
  RunResult r = c.Ctl({"apply", "-f", "-"},
                      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: missing}\n");
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "namespace \"missing\" not found"));
  CHECK(CountObjects(c, "cm") == 0);
  // Created in the same apply, the namespace is fine whatever the order.
  r = c.Ctl({"apply", "-f", "-"},
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: made}\n---\n"
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: made}\n");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(CountObjects(c, "cm") == 1);
}

TEST_CASE("--dry-run validates on the server and writes nothing") {
  TestCluster c;
  RunResult r = c.Ctl({"apply", "--dry-run", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "configmap/a created (server dry run)\n");
  CHECK(CountObjects(c, "cm") == 0);
}

TEST_CASE("version shows client and server") {
  TestCluster c;
  RunResult r = c.Ctl({"version"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(Contains(r.out, "Client Version: v"));
  CHECK(Contains(r.out, "Server Version: v"));
}

TEST_CASE("an unreachable server is one clear line and exit 1, quickly") {
  // A port nothing listens on: bind-and-close would race, so use the controller's
  // own port after stopping it. Its admin.conf stays behind, naming that address.
  TempDir dir;
  std::string config = dir.path() + "/data/admin.conf";
  std::string address;
  {
    Controller controller(dir.path() + "/data");
    address = controller.address();
    CHECK(controller.Stop() == 0);
  }
  auto start = std::chrono::steady_clock::now();
  RunResult r = Reefctl({"--config", config, "--server", address, "get", "pods"}, "", IsolatedEnv());
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: cannot reach the Reef controller at " + address +
                     " (from --server): connection refused or unreachable; is reef-controller running?\n");
  CHECK(took < std::chrono::seconds(6));

  // The address comes from --server, then REEF_SERVER, then the config file.
  r = Reefctl({"--config", config, "get", "pods"}, "", {{"REEF_SERVER", address}});
  CHECK(Contains(r.err, "(from REEF_SERVER)"));
  r = Reefctl({"get", "pods"}, "", {{"REEF_SERVER", ""}, {"REEFCONFIG", config}});
  CHECK(Contains(r.err, "(from " + config + ")"));
}

}  // namespace
}  // namespace reef::testing
