#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "agent/runtime/oci_spec.h"

namespace reef::agent::runtime {
namespace {

using nlohmann::json;
using Strings = std::vector<std::string>;

struct Fixture {
  reef::v1::Pod pod;
  reef::v1::Container* container;
  SpecOptions options;

  Fixture() {
    pod.mutable_metadata()->set_name("web");
    pod.mutable_metadata()->set_namespace_("shop");
    pod.mutable_metadata()->set_uid("uid-1");
    container = pod.mutable_spec()->add_containers();
    container->set_name("app");
    options.rootfs = "rootfs";
    options.cgroups_path = "/reef/agent-1/uid-1/app";
    options.image.entrypoint = {"/bin/entry"};
    options.image.cmd = {"--serve"};
  }

  json Spec() {
    absl::StatusOr<json> spec = BuildSpec(pod, *container, options);
    INFO(spec.status().ToString());
    REQUIRE(spec.ok());
    return *spec;
  }

  absl::Status Error() { return BuildSpec(pod, *container, options).status(); }
};

Strings Args(const json& spec) { return spec["process"]["args"].get<Strings>(); }
Strings Env(const json& spec) { return spec["process"]["env"].get<Strings>(); }

bool Has(const Strings& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

const json* FindMount(const json& spec, const std::string& destination) {
  for (const json& m : spec["mounts"]) {
    if (m["destination"] == destination) return &m;
  }
  return nullptr;
}

Strings Namespaces(const json& spec) {
  Strings out;
  for (const json& ns : spec["linux"]["namespaces"]) out.push_back(ns["type"]);
  return out;
}

TEST_CASE("command and args merge with the image's Entrypoint and Cmd as Kubernetes does") {
  Fixture f;
  SUBCASE("neither: Entrypoint + Cmd") {
    CHECK(Args(f.Spec()) == Strings{"/bin/entry", "--serve"});
  }
  SUBCASE("command alone replaces Entrypoint and drops Cmd") {
    f.container->add_command("/bin/other");
    CHECK(Args(f.Spec()) == Strings{"/bin/other"});
  }
  SUBCASE("args alone replace Cmd") {
    f.container->add_args("--debug");
    CHECK(Args(f.Spec()) == Strings{"/bin/entry", "--debug"});
  }
  SUBCASE("both: command + args") {
    f.container->add_command("sh");
    f.container->add_args("-c");
    f.container->add_args("true");
    CHECK(Args(f.Spec()) == Strings{"sh", "-c", "true"});
  }
  SUBCASE("no Entrypoint: Cmd alone, or args alone") {
    f.options.image.entrypoint.clear();
    CHECK(Args(f.Spec()) == Strings{"--serve"});
    f.container->add_args("/bin/x");
    CHECK(Args(f.Spec()) == Strings{"/bin/x"});
  }
  SUBCASE("nothing at all is an error naming the container") {
    f.options.image = {};
    absl::Status s = f.Error();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.message()).starts_with("container app: no command"));
  }
}

TEST_CASE("env: PATH default, HOSTNAME, image env, then the container's, replaced in place") {
  Fixture f;
  SUBCASE("defaults") {
    CHECK(Env(f.Spec()) ==
          Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "HOSTNAME=web"});
  }
  SUBCASE("the image's PATH replaces the default; the container overrides the image") {
    f.options.image.env = {"PATH=/bin", "MODE=image", "KEEP=1"};
    auto* e = f.container->add_env();
    e->set_name("MODE");
    e->set_value("container");
    e = f.container->add_env();
    e->set_name("EXTRA");
    e->set_value("x");
    CHECK(Env(f.Spec()) ==
          Strings{"PATH=/bin", "HOSTNAME=web", "MODE=container", "KEEP=1", "EXTRA=x"});
  }
  SUBCASE("envFrom first, env overrides it; valueFrom comes from the caller") {
    f.options.env_from = {{"A", "from-cm"}, {"B", "from-cm"}};
    auto* e = f.container->add_env();
    e->set_name("B");
    e->set_value("direct");
    e = f.container->add_env();
    e->set_name("TOKEN");
    e->mutable_value_from()->mutable_secret_key_ref()->set_name("s");
    f.options.value_from["TOKEN"] = "secret!";
    Strings env = Env(f.Spec());
    CHECK(Has(env, "A=from-cm"));
    CHECK(Has(env, "B=direct"));
    CHECK(Has(env, "TOKEN=secret!"));
  }
  SUBCASE("an unresolved valueFrom is an error unless optional") {
    auto* e = f.container->add_env();
    e->set_name("TOKEN");
    e->mutable_value_from()->mutable_config_map_key_ref()->set_name("cm");
    CHECK(f.Error().message() == "container app: env[0] (TOKEN): valueFrom has no value");
    e->mutable_value_from()->mutable_config_map_key_ref()->set_optional(true);
    CHECK_FALSE(Has(Env(f.Spec()), "TOKEN="));
  }
  SUBCASE("a bad name") {
    f.container->add_env()->set_name("A=B");
    CHECK(f.Error().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("$(VAR) expands from the container's own variables in env, command and args") {
  Fixture f;
  auto* e = f.container->add_env();
  e->set_name("PORT");
  e->set_value("8080");
  e = f.container->add_env();
  e->set_name("ADDR");
  e->set_value("0.0.0.0:$(PORT)");
  e = f.container->add_env();
  e->set_name("EARLY");
  e->set_value("$(LATE)");  // defined after: stays as written
  e = f.container->add_env();
  e->set_name("LATE");
  e->set_value("x");
  f.options.image.env = {"IMG=image"};
  f.container->add_command("serve");
  f.container->add_args("--listen=$(ADDR)");
  f.container->add_args("$$(PORT)");
  f.container->add_args("$(IMG)");  // the image's env is not the container's
  f.container->add_args("$(UNSET) $");
  json spec = f.Spec();
  CHECK(Args(spec) == Strings{"serve", "--listen=0.0.0.0:8080", "$(PORT)", "$(IMG)", "$(UNSET) $"});
  CHECK(Has(Env(spec), "ADDR=0.0.0.0:8080"));
  CHECK(Has(Env(spec), "EARLY=$(LATE)"));
}

TEST_CASE("working directory: the container's, the image's, else /") {
  Fixture f;
  CHECK(f.Spec()["process"]["cwd"] == "/");
  f.options.image.working_dir = "/srv";
  CHECK(f.Spec()["process"]["cwd"] == "/srv");
  f.container->set_working_dir("/data");
  CHECK(f.Spec()["process"]["cwd"] == "/data");
  f.container->set_working_dir("relative");
  CHECK(f.Error().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("user: the image's User resolved in its passwd, overridden by the securityContext") {
  Fixture f;
  f.options.users = ParseUserDb("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
                                "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
  auto user = [&] { return f.Spec()["process"]["user"]; };
  SUBCASE("none: root") {
    CHECK(user()["uid"] == 0);
    CHECK(user()["gid"] == 0);
  }
  SUBCASE("a name, with its groups") {
    f.options.image.user = "app";
    CHECK(user() == json{{"uid", 1000}, {"gid", 1000}, {"additionalGids", {50}}});
  }
  SUBCASE("uid:gid") {
    f.options.image.user = "1000:7";
    CHECK(user()["uid"] == 1000);
    CHECK(user()["gid"] == 7);
  }
  SUBCASE("an unknown name") {
    f.options.image.user = "nobody";
    absl::Status s = f.Error();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(s.message() ==
          "container app: image User: user \"nobody\": not in the image's /etc/passwd");
  }
  SUBCASE("runAsUser replaces the image's user, runAsGroup its group") {
    f.options.image.user = "app";
    f.container->mutable_security_context()->set_run_as_user(1000);
    CHECK(user()["gid"] == 1000);
    f.container->mutable_security_context()->set_run_as_user(4242);
    CHECK(user() == json{{"uid", 4242}, {"gid", 0}});
    f.container->mutable_security_context()->set_run_as_group(33);
    CHECK(user() == json{{"uid", 4242}, {"gid", 33}});
  }
  SUBCASE("runAsNonRoot refuses root") {
    f.container->mutable_security_context()->set_run_as_non_root(true);
    CHECK(f.Error().code() == absl::StatusCode::kFailedPrecondition);
    f.options.image.user = "app";
    CHECK(user()["uid"] == 1000);
  }
}

TEST_CASE("security: default capabilities, no_new_privileges, masked paths, read-only root") {
  Fixture f;
  json spec = f.Spec();
  json caps = spec["process"]["capabilities"];
  CHECK(caps["bounding"].size() == 14);
  CHECK(caps["bounding"] == caps["effective"]);
  CHECK(caps["bounding"] == caps["permitted"]);
  CHECK_FALSE(caps.contains("inheritable"));
  CHECK(Has(caps["bounding"].get<Strings>(), "CAP_NET_BIND_SERVICE"));
  CHECK_FALSE(Has(caps["bounding"].get<Strings>(), "CAP_SYS_ADMIN"));
  CHECK(spec["process"]["noNewPrivileges"] == true);
  CHECK(Has(spec["linux"]["maskedPaths"].get<Strings>(), "/proc/kcore"));
  CHECK(Has(spec["linux"]["maskedPaths"].get<Strings>(), "/sys/firmware"));
  CHECK(Has(spec["linux"]["readonlyPaths"].get<Strings>(), "/proc/sys"));
  CHECK(spec["root"] == json{{"path", "rootfs"}, {"readonly", false}});
  CHECK_FALSE(spec["process"].contains("rlimits"));
  f.options.nofile = 65536;
  CHECK(f.Spec()["process"]["rlimits"] ==
        json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 65536}, {"soft", 65536}}}));
  CHECK(DefaultNofile() > 0);
  CHECK(DefaultNofile() <= kMaxNofile);

  auto* sc = f.container->mutable_security_context();
  SUBCASE("capabilities add and drop") {
    sc->mutable_capabilities()->add_add("NET_ADMIN");
    sc->mutable_capabilities()->add_drop("net_raw");
    Strings got = f.Spec()["process"]["capabilities"]["effective"].get<Strings>();
    CHECK(Has(got, "CAP_NET_ADMIN"));
    CHECK_FALSE(Has(got, "CAP_NET_RAW"));
  }
  SUBCASE("allowPrivilegeEscalation and readOnlyRootFilesystem") {
    sc->set_allow_privilege_escalation(true);
    sc->set_read_only_root_filesystem(true);
    json s = f.Spec();
    CHECK(s["process"]["noNewPrivileges"] == false);
    CHECK(s["root"]["readonly"] == true);
  }
  SUBCASE("privileged: every capability, nothing masked, sysfs and cgroup writable, all devices") {
    sc->set_privileged(true);
    sc->mutable_capabilities()->add_drop("ALL");  // ignored, as containerd does
    json s = f.Spec();
    CHECK(s["process"]["capabilities"]["bounding"].size() == 41);
    CHECK(s["process"]["noNewPrivileges"] == false);
    CHECK_FALSE(s["linux"].contains("maskedPaths"));
    CHECK_FALSE(s["linux"].contains("readonlyPaths"));
    CHECK(Has((*FindMount(s, "/sys"))["options"].get<Strings>(), "rw"));
    CHECK(s["linux"]["resources"]["devices"] ==
          json::array({{{"allow", true}, {"access", "rwm"}}}));
  }
  SUBCASE("privileged without privilege escalation is a contradiction") {
    sc->set_privileged(true);
    sc->set_allow_privilege_escalation(false);
    CHECK(f.Error().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("mounts: containerd's defaults, then bind mounts shallowest first") {
  Fixture f;
  json spec = f.Spec();
  Strings destinations;
  for (const json& m : spec["mounts"]) destinations.push_back(m["destination"]);
  CHECK(destinations ==
        Strings{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"});
  CHECK(Has((*FindMount(spec, "/sys"))["options"].get<Strings>(), "ro"));
  CHECK(Has((*FindMount(spec, "/sys/fs/cgroup"))["options"].get<Strings>(), "ro"));
  CHECK((*FindMount(spec, "/dev/shm"))["type"] == "tmpfs");

  f.options.mounts = {{"/var/lib/reef/vol/a/sub", "/data/sub", false},
                      {"/var/lib/reef/vol/a", "/data", true},
                      {"/var/lib/reef/shm", "/dev/shm", false}};
  spec = f.Spec();
  destinations.clear();
  for (const json& m : spec["mounts"]) destinations.push_back(m["destination"]);
  CHECK(destinations == Strings{"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys",
                                "/sys/fs/cgroup", "/data", "/data/sub", "/dev/shm"});
  CHECK(*FindMount(spec, "/data") == json{{"destination", "/data"},
                                          {"type", "bind"},
                                          {"source", "/var/lib/reef/vol/a"},
                                          {"options", {"rbind", "rprivate", "ro"}}});
  CHECK((*FindMount(spec, "/data/sub"))["options"] == json{"rbind", "rprivate"});

  f.options.mounts = {{"/x", "/data/../etc", false}};
  CHECK(f.Error().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("namespaces and hostname: own by default, a given netns, or the host's network") {
  Fixture f;
  json spec = f.Spec();
  CHECK(Namespaces(spec) == Strings{"pid", "ipc", "mount", "uts", "network"});
  CHECK_FALSE(spec["linux"]["namespaces"][4].contains("path"));
  CHECK(spec["hostname"] == "web");

  f.options.netns_path = "/var/run/netns/pod1";
  CHECK(f.Spec()["linux"]["namespaces"][4] ==
        json{{"type", "network"}, {"path", "/var/run/netns/pod1"}});

  f.pod.mutable_spec()->set_host_network(true);
  spec = f.Spec();
  CHECK(Namespaces(spec) == Strings{"pid", "ipc", "mount"});
  CHECK_FALSE(spec.contains("hostname"));
  CHECK_FALSE(Has(Env(spec), "HOSTNAME=web"));

  f.pod.mutable_spec()->set_host_network(false);
  f.pod.mutable_metadata()->set_name(std::string(62, 'a') + "-b");
  CHECK(f.Spec()["hostname"] == std::string(62, 'a'));
}

TEST_CASE("cgroups: explicit path, memory and cpu from limits, shares from the request") {
  Fixture f;
  json spec = f.Spec();
  CHECK(spec["linux"]["cgroupsPath"] == "/reef/agent-1/uid-1/app");
  json res = spec["linux"]["resources"];
  CHECK(res["devices"] == json::array({{{"allow", false}, {"access", "rwm"}}}));
  CHECK(res["cpu"] == json{{"shares", 2}});
  CHECK_FALSE(res.contains("memory"));
  CHECK(res["pids"] == json{{"limit", 4096}});

  auto* limits = f.container->mutable_resources()->mutable_limits();
  (*limits)["memory"] = "64Mi";
  (*limits)["cpu"] = "500m";
  res = f.Spec()["linux"]["resources"];
  CHECK(res["memory"] == json{{"limit", 64 * 1024 * 1024}});
  CHECK(res["cpu"] == json{{"shares", 512}, {"quota", 50000}, {"period", 100000}});

  (*f.container->mutable_resources()->mutable_requests())["cpu"] = "0.25";
  (*limits)["cpu"] = "2";
  res = f.Spec()["linux"]["resources"];
  CHECK(res["cpu"] == json{{"shares", 256}, {"quota", 200000}, {"period", 100000}});

  (*limits)["cpu"] = "1m";  // below the kernel's 1 ms minimum quota
  CHECK(f.Spec()["linux"]["resources"]["cpu"]["quota"] == 1000);

  f.options.pids_limit = 0;
  CHECK_FALSE(f.Spec()["linux"]["resources"].contains("pids"));

  (*limits)["memory"] = "lots";
  absl::Status s = f.Error();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).starts_with("container app: resources.limits.memory: "));

  f.options.cgroups_path = "";
  CHECK(f.Error().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("annotations name the pod and container, plus the caller's") {
  Fixture f;
  f.options.annotations["reef.dev/agent"] = "a1";
  CHECK(f.Spec()["annotations"] == json{{"io.kubernetes.pod.name", "web"},
                                        {"io.kubernetes.pod.namespace", "shop"},
                                        {"io.kubernetes.pod.uid", "uid-1"},
                                        {"io.kubernetes.container.name", "app"},
                                        {"reef.dev/agent", "a1"}});
}

}  // namespace
}  // namespace reef::agent::runtime
