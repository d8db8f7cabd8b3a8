// agent/network without root: the pod subnet, the configs handed to the CNI plugins,
// their results and errors, the records kept per sandbox, and plugin calls against
// fake plugins (shell scripts).

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>

#include "agent/network/cni_config.h"
#include "agent/network/cni_plugin.h"
#include "agent/network/pod_network.h"
#include "agent/network/sandbox_record.h"
#include "agent/network/subnet.h"
#include "agent/runtime/subprocess.h"
#include "tests/support/process.h"

namespace reef::agent::network {
namespace {

using nlohmann::json;

CniNetwork TestNetwork() {
  return CniNetwork{"reef", "reef0", *ParseSubnet("10.88.0.0/24"), "/var/lib/reef/network/ipam"};
}

void WriteScript(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
}

TEST_CASE("network subnet: parses a CIDR and picks the first host as gateway") {
  absl::StatusOr<Ipv4Subnet> s = ParseSubnet("10.88.0.0/24");
  REQUIRE(s.ok());
  CHECK(s->Cidr() == "10.88.0.0/24");
  CHECK(s->Gateway() == "10.88.0.1");
  CHECK(s->Contains(*ParseIpv4("10.88.0.200")));
  CHECK_FALSE(s->Contains(*ParseIpv4("10.88.1.2")));
  CHECK(ParseSubnet("172.16.4.0/22")->Gateway() == "172.16.4.1");
}

TEST_CASE("network subnet: rejects what host-local could not use, saying why") {
  struct Case {
    const char* cidr;
    const char* says;
  } cases[] = {
      {"10.88.0.0", "want ADDRESS/PREFIX"},
      {"10.88.0/24", "not an IPv4 address"},
      {"10.88.0.0/abc", "not a number"},
      {"10.88.0.0/", "not a number"},
      {"10.88.0.0/31", "between 8 and 30"},
      {"10.0.0.0/4", "between 8 and 30"},
      {"10.88.0.5/24", "did you mean 10.88.0.0/24"},
      {"fd00::/64", "not an IPv4 address"},
      {"", "want ADDRESS/PREFIX"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Ipv4Subnet> s = ParseSubnet(c.cidr);
    INFO(c.cidr);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.status().message()).find(c.says) != std::string::npos);
  }
}

TEST_CASE("network config: bridge with host-local, as RECIPES.md runs it") {
  json bridge = BridgeConfig(TestNetwork());
  json want = json::parse(R"({
    "cniVersion": "1.0.0", "name": "reef", "type": "bridge", "bridge": "reef0",
    "isGateway": true, "ipMasq": true, "hairpinMode": true,
    "ipam": {"type": "host-local",
             "ranges": [[{"subnet": "10.88.0.0/24", "gateway": "10.88.0.1"}]],
             "routes": [{"dst": "0.0.0.0/0"}],
             "dataDir": "/var/lib/reef/network/ipam"}})");
  CHECK(bridge == want);
  CHECK(LoopbackConfig(TestNetwork()) ==
        json::parse(R"({"cniVersion":"1.0.0","name":"reef","type":"loopback"})"));
}

TEST_CASE("network config: portmap carries runtimeConfig.portMappings and prevResult") {
  json prev = json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"10.88.0.2/24"}]})");
  json pm = PortmapConfig(TestNetwork(),
                          {{8080, 80, "TCP", ""}, {5353, 53, "udp", "192.0.2.1"}}, prev);
  CHECK(pm["type"] == "portmap");
  CHECK(pm["name"] == "reef");
  CHECK(pm["cniVersion"] == "1.0.0");
  CHECK(pm["snat"] == true);
  CHECK(pm["capabilities"]["portMappings"] == true);
  CHECK(pm["prevResult"] == prev);
  CHECK(pm["runtimeConfig"]["portMappings"] == json::parse(R"([
      {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
      {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": "192.0.2.1"}])"));
  CHECK_FALSE(PortmapConfig(TestNetwork(), {{8080, 80, "tcp", ""}}, nullptr).contains("prevResult"));
}

TEST_CASE("network config: port mappings are checked before any plugin runs") {
  CHECK(ValidatePortMappings({}).ok());
  CHECK(ValidatePortMappings({{8080, 80, "tcp", ""}, {8080, 80, "udp", ""}}).ok());
  CHECK(ValidatePortMappings({{8080, 80, "tcp", "10.0.0.1"}, {8080, 80, "tcp", "10.0.0.2"}}).ok());
  struct Case {
    PortMapping port;
    const char* says;
  } cases[] = {
      {{0, 80, "tcp", ""}, "hostPort must be 1..65535"},
      {{70000, 80, "tcp", ""}, "hostPort must be 1..65535"},
      {{8080, 0, "tcp", ""}, "containerPort 0 must be 1..65535"},
      {{8080, 80, "sctp", ""}, "\"sctp\" is not tcp or udp"},
      {{8080, 80, "tcp", "localhost"}, "hostIP"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidatePortMappings({c.port});
    INFO(c.says, " / ", s.message());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.message()).find(c.says) != std::string::npos);
  }
  absl::Status twice = ValidatePortMappings({{8080, 80, "tcp", ""}, {8080, 81, "TCP", ""}});
  CHECK(std::string(twice.message()).find("tcp port 8080 is mapped twice") != std::string::npos);
}

TEST_CASE("network config: the bridge result gives the pod IP and the host veth") {
  json result = json::parse(R"({
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "reef0", "mac": "4a:71:19:6d:75:a5"},
                   {"name": "veth84145480", "mac": "6a:e2:65:aa:77:9c"},
                   {"name": "eth0", "mac": "02:03:89:d5:f5:a2", "sandbox": "/run/netns/x"}],
    "ips": [{"interface": 2, "address": "fd00::2/64"},
            {"interface": 2, "address": "10.88.0.2/24", "gateway": "10.88.0.1"}],
    "routes": [{"dst": "0.0.0.0/0"}], "dns": {}})");
  absl::StatusOr<BridgeResult> r = ParseBridgeResult(result, "reef0");
  REQUIRE(r.ok());
  CHECK(r->ip == "10.88.0.2");
  CHECK(r->host_veth == "veth84145480");

  absl::StatusOr<BridgeResult> none = ParseBridgeResult(json::parse(R"({"ips": []})"), "reef0");
  CHECK(std::string(none.status().message()).find("no IPv4 address") != std::string::npos);
  absl::StatusOr<BridgeResult> bad = ParseBridgeResult(json::parse(R"({"ips": [{"x": 1}]})"), "reef0");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("network plugin: error messages come from the CNI error object, else stderr") {
  CHECK(CniErrorMessage(1, R"({"code":7,"msg":"invalid config","details":"no bridge"})", "") ==
        "invalid config: no bridge");
  CHECK(CniErrorMessage(1, R"({"code":7,"msg":"invalid config"})", "noise") == "invalid config");
  CHECK(CniErrorMessage(2, "", "panic: oops\n") == "panic: oops");
  CHECK(CniErrorMessage(3, "", "") == "exit code 3 and no message");
}

TEST_CASE("network plugin: a call passes CNI_* and the config on stdin, and reads errors") {
  testing::TempDir dir;
  // Echoes what it was given as a result, so the test can look at it.
  WriteScript(dir.path() + "/echo",
              "config=$(cat)\n"
              "printf '{\"command\":\"%s\",\"id\":\"%s\",\"netns\":\"%s\",\"ifname\":\"%s\","
              "\"path\":\"%s\",\"config\":%s}' \"$CNI_COMMAND\" \"$CNI_CONTAINERID\" "
              "\"$CNI_NETNS\" \"$CNI_IFNAME\" \"$CNI_PATH\" \"$config\"\n");
  WriteScript(dir.path() + "/fails",
              "cat >/dev/null\n"
              "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"busy\",\"details\":\"lock\"}'\n"
              "exit 1\n");
  WriteScript(dir.path() + "/silent", "exit 0\n");
  WriteScript(dir.path() + "/slow", "sleep 5\n");

  json config = {{"cniVersion", "1.0.0"}, {"name", "reef"}, {"type", "echo"}, {"x", 1}};
  absl::StatusOr<json> r =
      RunCniPlugin(dir.path(), {"ADD", "p-abc", "/run/netns/p-abc", "eth0"}, config, absl::Seconds(10));
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK((*r)["command"] == "ADD");
  CHECK((*r)["id"] == "p-abc");
  CHECK((*r)["netns"] == "/run/netns/p-abc");
  CHECK((*r)["ifname"] == "eth0");
  CHECK((*r)["path"] == dir.path());
  CHECK((*r)["config"] == config);

  config["type"] = "fails";
  r = RunCniPlugin(dir.path(), {"DEL", "p-abc", "", "eth0"}, config, absl::Seconds(10));
  CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  CHECK(r.status().message() == "fails DEL: busy: lock");

  config["type"] = "silent";
  r = RunCniPlugin(dir.path(), {"DEL", "p-abc", "", "eth0"}, config, absl::Seconds(10));
  REQUIRE(r.ok());
  CHECK(r->is_null());

  config["type"] = "slow";
  r = RunCniPlugin(dir.path(), {"DEL", "p-abc", "", "eth0"}, config, absl::Milliseconds(200));
  CHECK(r.status().code() == absl::StatusCode::kDeadlineExceeded);
}

TEST_CASE("network subprocess: stdin data larger than a pipe, env overrides, unread input") {
  std::string big(1 << 20, 'x');
  runtime::CommandOptions options;
  options.stdin_data = big;
  options.env = {{"REEF_NET_TEST", "yes"}, {"HOME", "/nowhere"}};
  absl::StatusOr<runtime::CommandResult> r =
      runtime::RunCommand({"sh", "-c", "wc -c; echo $REEF_NET_TEST $HOME"}, options);
  REQUIRE(r.ok());
  CHECK(r->out == std::to_string(big.size()) + "\nyes /nowhere\n");
  // A child that never reads its input must neither hang us nor kill us with SIGPIPE.
  r = runtime::RunCommand({"true"}, options);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  // The old form still gives /dev/null as stdin.
  r = runtime::RunCommand({"sh", "-c", "wc -c"}, absl::Seconds(10));
  REQUIRE(r.ok());
  CHECK(r->out == "0\n");
}

TEST_CASE("network open: names the missing plugin and the Debian package") {
  testing::TempDir dir;
  NetworkOptions options;
  options.state_dir = dir.path() + "/state";
  options.netns_prefix = "reef-unit-";
  options.subnet = "10.88.0.0/24";
  options.cni_bin_dir = dir.path() + "/bin";
  ::mkdir(options.cni_bin_dir.c_str(), 0755);
  WriteScript(options.cni_bin_dir + "/loopback", "");
  WriteScript(options.cni_bin_dir + "/bridge", "");
  absl::StatusOr<std::unique_ptr<PodNetwork>> net = PodNetwork::Open(options);
  REQUIRE_FALSE(net.ok());
  CHECK(net.status().code() == absl::StatusCode::kFailedPrecondition);
  std::string message(net.status().message());
  CHECK(message.find("host-local") != std::string::npos);
  CHECK(message.find("containernetworking-plugins") != std::string::npos);

  WriteScript(options.cni_bin_dir + "/host-local", "");
  WriteScript(options.cni_bin_dir + "/portmap", "");
  CHECK(PodNetwork::Open(options).ok());

  NetworkOptions bad = options;
  bad.subnet = "10.88.0.1/24";
  CHECK(PodNetwork::Open(bad).status().code() == absl::StatusCode::kInvalidArgument);
  bad = options;
  bad.netns_prefix = "";
  CHECK(PodNetwork::Open(bad).status().code() == absl::StatusCode::kInvalidArgument);
  bad = options;
  bad.bridge = "a-bridge-name-too-long";
  CHECK(PodNetwork::Open(bad).status().code() == absl::StatusCode::kInvalidArgument);
  bad = options;
  bad.state_dir = "";
  CHECK(PodNetwork::Open(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("network open: bad sandbox ids are refused, unknown ones are NotFound") {
  testing::TempDir dir;
  NetworkOptions options;
  options.state_dir = dir.path() + "/state";
  options.netns_dir = dir.path() + "/netns";
  options.netns_prefix = "reef-unit-";
  options.subnet = "10.88.0.0/24";
  options.cni_bin_dir = dir.path();
  for (const char* p : {"loopback", "bridge", "host-local", "portmap"}) WriteScript(dir.path() + "/" + p, "");
  absl::StatusOr<std::unique_ptr<PodNetwork>> net = PodNetwork::Open(options);
  REQUIRE(net.ok());
  for (const char* id : {"", "../etc", "-x", "a/b", "UPPER ok?"}) {
    INFO(id);
    CHECK((*net)->Setup(id, {}).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK((*net)->Teardown(id).code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK((*net)->Get("web-1").status().code() == absl::StatusCode::kNotFound);
  // Nothing held: teardown is a no-op that runs no plugin, and the list is empty.
  CHECK((*net)->Teardown("web-1").ok());
  absl::StatusOr<std::vector<std::string>> ids = (*net)->List();
  REQUIRE(ids.ok());
  CHECK(ids->empty());
}

TEST_CASE("network records: round trip, list, remove, and a corrupt one is named") {
  testing::TempDir dir;
  SandboxRecords records(dir.path());
  SandboxRecord r;
  r.sandbox_id = "web-1";
  r.container_id = "reef-x-web-1";
  r.netns_path = "/run/netns/reef-x-web-1";
  r.loopback_config = LoopbackConfig(TestNetwork());
  r.bridge_config = BridgeConfig(TestNetwork());
  r.portmap_config = PortmapConfig(TestNetwork(), {{8080, 80, "tcp", ""}}, nullptr);
  REQUIRE(records.Write(r).ok());
  r.sandbox_id = "db-1";
  r.portmap_config = nullptr;
  r.complete = true;
  r.ip = "10.88.0.3";
  r.result = json::parse(R"({"ips":[{"address":"10.88.0.3/24"}]})");
  REQUIRE(records.Write(r).ok());
  CHECK(records.Ids() == std::vector<std::string>{"db-1", "web-1"});

  absl::StatusOr<SandboxRecord> web = records.Read("web-1");
  REQUIRE(web.ok());
  CHECK_FALSE(web->complete);
  CHECK(web->portmap_config["runtimeConfig"]["portMappings"][0]["hostPort"] == 8080);
  CHECK(web->bridge_config == BridgeConfig(TestNetwork()));
  absl::StatusOr<SandboxRecord> db = records.Read("db-1");
  REQUIRE(db.ok());
  CHECK(db->complete);
  CHECK(db->ip == "10.88.0.3");
  CHECK(db->portmap_config.is_null());

  REQUIRE(records.Remove("web-1").ok());
  REQUIRE(records.Remove("web-1").ok());
  CHECK(records.Read("web-1").status().code() == absl::StatusCode::kNotFound);

  std::ofstream(dir.path() + "/sandboxes/bad.json") << "{not json";
  absl::StatusOr<SandboxRecord> bad = records.Read("bad");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("sandboxes/bad.json") != std::string::npos);
}

}  // namespace
}  // namespace reef::agent::network
