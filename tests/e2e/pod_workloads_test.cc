// Real workloads end to end: a controller and an agent in a network-namespace host,
// real runc containers on real CNI pod networks, driven through reefctl. Pod
// networking and hostPorts, ConfigMaps and Secrets as env and files, emptyDir volumes,
// probes and init containers, clean teardown after a crash, and `reefctl top`.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/e2e/cluster_fixture.h"
#include "tests/support/manifests.h"
#include "tests/support/network_leftovers.h"

namespace reef::testing {
namespace {

using nlohmann::json;

// A one-agent cluster whose agent heartbeats every second (metrics ride on heartbeats).
struct OneNode {
  ClusterFixture f{1, {"--node-lease-duration", "4s"}};
  OneNode() { f.WaitForReadyNodes(1); }

  void Apply(const std::string& yaml) {
    RunResult r = f.Ctl({"apply", "-f", "-"}, yaml);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  json Pod(const std::string& name) {
    RunResult r = f.Ctl({"get", "pod", name, "-o", "json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return json::parse(r.out);
  }
  // The names of the pods whose name starts with `prefix`.
  std::vector<std::string> PodNames(const std::string& prefix) {
    std::vector<std::string> names;
    std::istringstream lines(f.Ctl({"get", "pods"}).out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(prefix, 0) == 0) names.push_back(line.substr(0, line.find(' ')));
    }
    return names;
  }
  // Polls the container's log until it holds every one of `parts`.
  std::string WaitForLog(const std::string& pod, const std::string& container, const std::vector<std::string>& parts) {
    return f.WaitForCtl({"logs", pod, "-c", container}, [&](const std::string& out) {
      for (const std::string& p : parts) {
        if (!Contains(out, p)) return false;
      }
      return true;
    });
  }
  // Runs a program in the agent's host (its network namespace).
  RunResult OnHost(std::vector<std::string> argv) {
    std::vector<std::string> full = f.hosts().Exec(0);
    full.insert(full.end(), argv.begin(), argv.end());
    return Run(full);
  }
};

// A container running `script` with sh -c (the script goes in a YAML single-quoted
// string: its own single quotes are doubled).
std::string BusyboxContainer(const std::string& name, const std::string& script, const std::string& extra = "") {
  std::string quoted;
  for (char c : script) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return "  - name: " + name + R"(
    image: localhost/busybox:1
    imagePullPolicy: Never
    command: [sh, -c, ')" + quoted + "']\n" + extra;
}

std::string PodYaml(const std::string& name, const std::string& containers, const std::string& spec_extra = "") {
  return R"(apiVersion: v1
kind: Pod
metadata: {name: )" + name + R"(}
spec:
  terminationGracePeriodSeconds: 1
)" + spec_extra + "  containers:\n" + containers;
}

// A Deployment of `replicas` pods with `containers` (as BusyboxContainer makes them).
std::string DeploymentYaml(const std::string& name, int replicas, int grace_seconds, const std::string& containers,
                           const std::string& spec_extra = "") {
  return DeploymentManifest(name, replicas,
                            "terminationGracePeriodSeconds: " + std::to_string(grace_seconds) + "\ncontainers:\n" +
                                containers,
                            spec_extra);
}

int RestartCount(const json& pod, const std::string& container) {
  for (const json& cs : pod["status"].value("containerStatuses", json::array())) {
    if (cs.value("name", "") == container) return cs.value("restartCount", 0);
  }
  return -1;
}

TEST_CASE("workloads: httpd with a hostPort answers on the node and the pod IP, pods reach each other, containers share localhost") {
  OneNode n;
  n.Apply(DeploymentYaml("web", 1, 1,
                         BusyboxContainer("httpd", R"sh(mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www)sh",
                                          "    ports: [{containerPort: 80, hostPort: 8080}]\n")));
  n.f.WaitForCtl({"get", "pods"}, [](const std::string& o) { return Contains(o, "web-") && Contains(o, "Running"); });
  const std::string web = n.PodNames("web-").at(0);
  const std::string web_ip = n.Pod(web)["status"].value("podIP", "");
  CHECK(web_ip.rfind("10.42.0.", 0) == 0);  // the node's /24 of the cluster CIDR

  // From the host: the hostPort on the node's own address, and the pod IP.
  RunResult by_port, by_ip;
  for (int i = 0; i < 50; ++i) {
    by_port = n.OnHost({"curl", "-sS", "--max-time", "3", "http://" + n.f.hosts().address(0) + ":8080/"});
    if (by_port.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK_MESSAGE(by_port.out == "hello from " + web + "\n", by_port.err);
  by_ip = n.OnHost({"curl", "-sS", "--max-time", "3", "http://" + web_ip + "/"});
  CHECK_MESSAGE(by_ip.out == "hello from " + web + "\n", by_ip.err);

  // Another pod on the node reaches it by IP; its two containers talk over localhost.
  n.Apply(PodYaml("client",
                  BusyboxContainer("main", "while true; do echo \"peer: $(wget -qO- http://" + web_ip +
                                               "/)\"; echo \"side: $(wget -qO- http://127.0.0.1:9090/)\"; sleep 0.5; done") +
                      BusyboxContainer("side", "mkdir -p /s && echo side-page > /s/index.html && exec httpd -f -p 9090 -h /s")));
  n.WaitForLog("client", "main", {"peer: hello from " + web, "side: side-page"});
  const std::string client_ip = n.Pod("client")["status"].value("podIP", "");
  CHECK(client_ip.rfind("10.42.0.", 0) == 0);
  CHECK(client_ip != web_ip);
}

TEST_CASE("workloads: a ConfigMap as env and files reaches files without a restart, a Secret stays on tmpfs") {
  OneNode n;
  const std::string password = "s3cr3t-reef-C0FFEE-77";
  n.Apply(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {greeting: hello-1}
---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: )" + password + R"(}
---
)" + PodYaml("configured",
             BusyboxContainer("main",
                              R"(awk '$2 == "/etc/secret" {print "secret-fs=" $3}' /proc/mounts; )"
                              R"sh(test "$(cat /etc/secret/password)" = "$DB_password" && echo "secret file matches env, ${#DB_password} chars"; )sh"
                              R"sh(while true; do echo "env=$GREETING file=$(cat /etc/app/greeting)"; sleep 0.5; done)sh",
                              R"(    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: app-config, key: greeting}}
    envFrom:
    - secretRef: {name: db}
      prefix: DB_
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: secret, mountPath: /etc/secret, readOnly: true}
)"),
             R"(  volumes:
  - {name: config, configMap: {name: app-config}}
  - {name: secret, secret: {secretName: db}}
)"));
  n.WaitForLog("configured", "main",
               {"secret-fs=tmpfs", "secret file matches env, " + std::to_string(password.size()) + " chars",
                "env=hello-1 file=hello-1"});

  // The update reaches the mounted file within a sync period or two; env keeps the
  // value the container started with (it needs a rollout), and nothing restarted.
  n.Apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {greeting: hello-2}\n");
  n.WaitForLog("configured", "main", {"env=hello-1 file=hello-2"});
  CHECK(RestartCount(n.Pod("configured"), "main") == 0);

  // Not one byte of the Secret in a file of the agent's data dir on disk (-xdev: the
  // tmpfs mounts under it are memory, and the container rootfs overlays are skipped).
  RunResult grep = Run({"sh", "-c", "find '" + n.f.DataDir(0) + "' -xdev -type f -print0 | xargs -0 -r grep -l -s -F '" +
                                        password + "'; true"});
  CHECK_MESSAGE(grep.out.empty(), "the Secret is on disk in: " << grep.out);
}

TEST_CASE("workloads: an emptyDir shared by two containers, a memory emptyDir refuses writes past its size") {
  OneNode n;
  n.Apply(PodYaml("scratch",
                  BusyboxContainer("writer", "echo shared-note > /shared/note; sleep 3600",
                                   "    volumeMounts: [{name: shared, mountPath: /shared}]\n") +
                      BusyboxContainer("reader", "while true; do echo \"read: $(cat /data/note)\"; sleep 0.5; done",
                                       "    volumeMounts: [{name: shared, mountPath: /data}]\n") +
                      BusyboxContainer("filler",
                                       "stat -f -c \"mem-fs=%T\" /mem; dd if=/dev/zero of=/mem/big bs=1024 count=4096; "
                                       "echo \"dd-exit=$?\"; sleep 3600",
                                       "    volumeMounts: [{name: mem, mountPath: /mem}]\n"),
                  R"(  volumes:
  - {name: shared, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
)"));
  n.WaitForLog("scratch", "reader", {"read: shared-note"});
  std::string filler = n.WaitForLog("scratch", "filler", {"dd-exit="});
  CHECK(Contains(filler, "mem-fs=tmpfs"));
  CHECK(Contains(filler, "No space left on device"));
  CHECK(Contains(filler, "dd-exit=1"));
}

TEST_CASE("workloads: a failing liveness probe restarts, readiness holds a rollout, a failing init container blocks") {
  OneNode n;
  // Liveness: healthy for two seconds, then not; each restart is counted.
  n.Apply(PodYaml("flaky", BusyboxContainer("main", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600",
                                            R"(    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 2
)")));
  // The same with restartPolicy OnFailure and a process that exits 0 on SIGTERM: a
  // probe failure is a failure whatever the exit code, so it is restarted too.
  n.Apply(PodYaml("polite",
                  BusyboxContainer("main", "trap 'exit 0' TERM; touch /tmp/healthy; sleep 2; rm /tmp/healthy; "
                                           "while true; do sleep 0.2; done",
                                   R"(    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 2
)"),
                  "  restartPolicy: OnFailure\n"));
  // Init containers: one that fails blocks its pod; one that succeeds runs first.
  n.Apply(PodYaml("blocked", BusyboxContainer("main", "sleep 3600"),
                  "  initContainers:\n" + BusyboxContainer("setup", "echo init-ran; exit 3")));
  n.Apply(PodYaml("prepared", BusyboxContainer("main", "cat /work/made-by; sleep 3600",
                                               "    volumeMounts: [{name: work, mountPath: /work}]\n"),
                  "  volumes: [{name: work, emptyDir: {}}]\n  initContainers:\n" +
                      BusyboxContainer("setup", "echo prepared-by-init > /work/made-by",
                                       "    volumeMounts: [{name: work, mountPath: /work}]\n") +
                      BusyboxContainer("check", "grep -q prepared /work/made-by && echo then-second-init >> /work/made-by",
                                       "    volumeMounts: [{name: work, mountPath: /work}]\n")));
  // Readiness: v1 serves /ready, v2 does not.
  auto gate = [](int version) {
    return DeploymentYaml("gate", 1, 1,
                          BusyboxContainer("httpd", R"(mkdir -p /www; [ "$VERSION" = 2 ] || echo ok > /www/ready; exec httpd -f -p 80 -h /www)",
                             R"(    env: [{name: VERSION, value: ")" + std::to_string(version) + R"("}]
    readinessProbe:
      httpGet: {path: /ready, port: 80}
      periodSeconds: 1
)"),
                          "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n");
  };
  n.Apply(gate(1));

  n.WaitForLog("prepared", "main", {"prepared-by-init\nthen-second-init"});  // in order, each once
  std::string blocked = n.f.WaitForCtl({"get", "pod", "blocked"}, [](const std::string& o) {
    return Contains(o, "Init:Error") || Contains(o, "Init:CrashLoopBackOff");
  });
  json blocked_pod = n.Pod("blocked");
  CHECK(blocked_pod["status"]["containerStatuses"][0]["state"]["waiting"].value("reason", "") == "PodInitializing");
  CHECK(blocked_pod["status"]["initContainerStatuses"][0]["lastState"]["terminated"].value("exitCode", 0) == 3);
  for (const json& c : blocked_pod["status"]["conditions"]) {
    if (c.value("type", "") == "Initialized") CHECK(c.value("status", "") == "False");
  }

  n.f.WaitForCtl({"get", "pod", "flaky", "-o", "json"},
                 [](const std::string& o) { return RestartCount(json::parse(o), "main") >= 1; });
  n.f.WaitForCtl({"get", "pod", "polite", "-o", "json"},
                 [](const std::string& o) { return RestartCount(json::parse(o), "main") >= 1; });
  json polite = n.Pod("polite");
  CHECK(polite["status"].value("phase", "") == "Running");
  // (exitCode 0 is left out of the JSON, as proto3 does; "Completed" says it.)
  const json& polite_last = polite["status"]["containerStatuses"][0]["lastState"]["terminated"];
  CHECK_MESSAGE(polite_last.value("reason", "") == "Completed", polite["status"].dump());
  CHECK(polite_last.value("exitCode", 0) == 0);

  // v1 becomes Ready; v2 runs but never gets Ready, so the rollout waits with v1 serving.
  n.f.WaitForCtl({"get", "pods", "-l", "app=gate"}, [](const std::string& o) { return Contains(o, "1/1"); });
  const std::string v1 = n.PodNames("gate-").at(0);
  n.Apply(gate(2));
  n.f.WaitForCtl({"get", "pods", "-l", "app=gate"},
                 [](const std::string& o) { return Count(o, "gate-") == 2 && Contains(o, "0/1") && Contains(o, "Running"); });
  std::this_thread::sleep_for(std::chrono::seconds(4));
  std::string pods = n.f.Ctl({"get", "pods", "-l", "app=gate"}).out;
  CHECK_MESSAGE(Count(pods, "gate-") == 2, pods);
  CHECK_MESSAGE(Contains(pods, v1 + " "), pods);  // the old pod still serves
  json v1_pod = n.Pod(v1);
  CHECK(v1_pod["status"]["containerStatuses"][0].value("ready", false));
  std::string deploy = n.f.Ctl({"get", "deployment", "gate"}).out;
  CHECK_MESSAGE(Contains(deploy, "1/1"), deploy);
}

TEST_CASE("workloads: after a reboot the init containers run again before the others") {
  OneNode n;
  const std::string work = "    volumeMounts: [{name: work, mountPath: /work}]\n";
  n.Apply(PodYaml("boot", BusyboxContainer("main", "echo \"init runs: $(grep -c init-ran /work/runs)\"; sleep 3600", work),
                  "  volumes: [{name: work, emptyDir: {}}]\n  initContainers:\n" +
                      BusyboxContainer("setup", "echo init-ran >> /work/runs", work)));
  n.WaitForLog("boot", "main", {"init runs: 1\n"});
  n.f.KillAgent(0);
  // A reboot, as the agent sees it: its containers, pod networks and tmpfs mounts are
  // gone, its data folder (the emptyDir's files too) stays.
  RunResult down = n.OnHost({BinaryPath("reef-agent"), "--data-dir", n.f.DataDir(0), "teardown"});
  REQUIRE_MESSAGE(down.exit_code == 0, down.err);
  n.f.RestartAgent(0);
  // The main container's new attempt counted the init container's runs after its
  // second one.
  n.WaitForLog("boot", "main", {"init runs: 2\n"});
  json pod = n.Pod("boot");
  CHECK(pod["status"].value("phase", "") == "Running");
  CHECK(RestartCount(pod, "main") == 1);
}

// Counts what pod networking left in the agent's host namespace (and in /run/netns).
NetworkLeftovers LeftoversOnHost(const OneNode& n) {
  return CountNetworkLeftoversIn(n.f.hosts().netns_path(0), "/run/netns", AgentNetnsPrefix(n.f.DataDir(0)),
                                 n.f.DataDir(0) + "/network");
}

TEST_CASE("workloads: 50 pods created and deleted, the agent killed and restarted: no netns, veth, IP or rule left") {
  OneNode n;
  const NetworkLeftovers before = LeftoversOnHost(n);
  CHECK_MESSAGE(before.total() == 0, before.ToString());
  n.Apply(DeploymentYaml("many", 50, 0, BusyboxContainer("main", "sleep 3600")));
  std::string wide = n.f.WaitForCtl({"get", "pods", "-o", "wide"}, [](const std::string& o) { return Count(o, "Running") == 50; },
                                    std::chrono::seconds(180));
  std::set<std::string> ips;
  for (size_t at = wide.find(" 10.42."); at != std::string::npos; at = wide.find(" 10.42.", at + 1)) {
    ips.insert(wide.substr(at + 1, wide.find(' ', at + 1) - at - 1));
  }
  CHECK(ips.size() == 50);
  const NetworkLeftovers running = LeftoversOnHost(n);
  CHECK(running.netns_files == 50);
  CHECK(running.ipam_allocations == 50);

  // Delete, and kill the agent in the middle of tearing the pods down.
  RunResult del = n.f.Ctl({"delete", "deployment", "many"});
  REQUIRE_MESSAGE(del.exit_code == 0, del.err);
  // (One "default/many-..." per pod in the containers table of `reef-agent ps`.)
  n.f.WaitForAgentPs(0, [](const std::string& ps) { return Count(ps, "default/many-") < 50; });
  n.f.KillAgent(0);
  const NetworkLeftovers after_kill = LeftoversOnHost(n);
  CHECK(after_kill.netns_files > 0);  // the kill did interrupt the teardown
  n.f.RestartAgent(0);
  n.f.WaitForAgentPs(0, [](const std::string& ps) { return !Contains(ps, "many-"); });
  n.f.WaitForCtl({"get", "pods"}, [](const std::string& o) { return !Contains(o, "many-"); }, std::chrono::seconds(120));
  const NetworkLeftovers after = LeftoversOnHost(n);
  CHECK_MESSAGE(after.total() == 0, after.ToString());
}

TEST_CASE("workloads: reefctl top shows a pod's memory and cpu move when it allocates and spins") {
  OneNode n;
  // Idle until its ConfigMap says go; then 48 MiB in /dev/shm (memory of its cgroup)
  // and a busy loop.
  n.Apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hog}\ndata: {state: wait}\n---\n" +
          PodYaml("hog",
                  BusyboxContainer("main", "while [ \"$(cat /cfg/state)\" != go ]; do sleep 0.2; done; "
                                           "head -c 50331648 /dev/zero > /dev/shm/fill; echo filled; while :; do :; done",
                                   "    volumeMounts: [{name: cfg, mountPath: /cfg}]\n"),
                  "  volumes: [{name: cfg, configMap: {name: hog}}]\n"));
  n.f.WaitForCtl({"get", "pod", "hog"}, [](const std::string& o) { return Contains(o, "Running"); });
  // Polls `reefctl top pods` until the hog's CPU (millicores) and memory (MiB) fit.
  auto top = [&](const std::function<bool(long cpu_m, long mem_mi)>& pred) {
    return n.f.WaitForCtl({"top", "pods"}, [&](const std::string& o) {
      std::istringstream lines(o);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("hog ", 0) != 0) continue;
        std::istringstream cols(line);
        std::string name, cpu, mem;
        cols >> name >> cpu >> mem;
        if (cpu.empty() || cpu.back() != 'm' || mem.size() < 3 || mem.substr(mem.size() - 2) != "Mi") return false;
        return pred(std::stol(cpu), std::stol(mem));
      }
      return false;
    });
  };
  std::string idle = top([](long cpu, long mem) { return cpu < 100 && mem < 20; });
  CHECK(Contains(idle, "hog"));
  MESSAGE("idle:\n" << idle);
  n.Apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hog}\ndata: {state: go}\n");
  n.WaitForLog("hog", "main", {"filled"});
  std::string busy = top([](long cpu, long mem) { return cpu >= 300 && mem >= 40; });
  CHECK(Contains(busy, "hog"));
  MESSAGE("busy:\n" << busy);
}

}  // namespace
}  // namespace reef::testing
