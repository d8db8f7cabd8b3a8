// The cluster PKI end to end, against a real reef-controller: the files it writes,
// reefctl's credential, who may call what, joining with a token (the agent's own
// join library, in this process), every refusal, renewal, and `reefctl token`.

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "agent/cluster/cert_renewer.h"
#include "agent/cluster/join.h"
#include "common/client_config.h"
#include "common/files.h"
#include "common/join_token.h"
#include "common/pki.h"
#include "reef/v1/agent.grpc.pb.h"
#include "reef/v1/api.grpc.pb.h"
#include "tests/integration/cluster.h"

namespace reef::testing {
namespace {

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

int Mode(const std::string& path) {
  struct stat st;
  REQUIRE_MESSAGE(stat(path.c_str(), &st) == 0, path);
  return st.st_mode & 0777;
}

std::string ReadText(const std::string& path) {
  auto text = ReadFileLimited(path, 1 << 20);
  REQUIRE_MESSAGE(text.ok(), text.status().ToString());
  return *text;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string NodeToken(const Controller& c) { return Trimmed(ReadText(c.node_token_file())); }
std::string CaPem(const Controller& c) { return ReadText(c.data_dir() + "/pki/ca.crt"); }

std::shared_ptr<grpc::Channel> Channel(const Controller& c, const std::string& cert_pem = "",
                                       const std::string& key_pem = "") {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = CaPem(c);
  tls.pem_cert_chain = cert_pem;
  tls.pem_private_key = key_pem;
  return grpc::CreateChannel(c.address(), grpc::SslCredentials(tls));
}

agent::JoinOptions JoinAs(const Controller& c, const std::string& token, const std::string& node,
                          const std::string& data_dir) {
  return agent::JoinOptions{c.address(), token, node, data_dir, absl::Seconds(20)};
}

// A token for this cluster with the right id and another key.
std::string WithWrongKey(const std::string& token) {
  auto t = JoinToken::Parse(token);
  REQUIRE(t.ok());
  t->key = t->key == "aaaaaaaaaaaaaaaa" ? "bbbbbbbbbbbbbbbb" : "aaaaaaaaaaaaaaaa";
  return t->ToString();
}

std::string CreateToken(const TestCluster& c, const std::vector<std::string>& flags = {}) {
  std::vector<std::string> args = {"token", "create"};
  args.insert(args.end(), flags.begin(), flags.end());
  RunResult r = c.Ctl(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return Trimmed(r.out);
}

int CountJoinLines(Controller& c) {
  std::string log = c.Log();
  int n = 0;
  for (size_t p = log.find("join: "); p != std::string::npos; p = log.find("join: ", p + 1)) ++n;
  return n;
}

TEST_CASE("the controller writes admin.conf and node-token, 0600, and says where") {
  TestCluster c;
  Controller& controller = *c.controller;
  CHECK(Mode(controller.admin_config()) == 0600);
  CHECK(Mode(controller.node_token_file()) == 0600);
  CHECK(Mode(controller.data_dir() + "/pki/ca.key") == 0600);
  std::string out = controller.Stdout();
  CHECK(Contains(out, controller.admin_config()));
  CHECK(Contains(out, controller.node_token_file()));

  auto config = ClientConfigFile::Load(controller.admin_config());
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->server == controller.address());
  auto ca = pki::Certificate::FromPem(config->ca_pem);
  REQUIRE(ca.ok());
  auto token = JoinToken::Parse(NodeToken(controller));
  REQUIRE_MESSAGE(token.ok(), token.status().ToString());
  CHECK(token->ca_sha256 == ca->Sha256());

  // The server presents the CA after its own certificate, for agents to pin.
  std::string server_pem = ReadText(controller.data_dir() + "/pki/server.crt");
  auto server = pki::Certificate::FromPem(server_pem);
  REQUIRE(server.ok());
  CHECK(pki::VerifyChain(*server, *ca).ok());

  // A restart keeps the CA, the admin credential and the node token.
  std::string token_before = NodeToken(controller);
  CHECK(controller.Stop() == 0);
  c.controller = std::make_unique<Controller>(controller.data_dir());
  CHECK(NodeToken(*c.controller) == token_before);
  auto after = ClientConfigFile::Load(c.controller->admin_config());
  REQUIRE(after.ok());
  CHECK(after->certificate_pem == config->certificate_pem);
  CHECK(after->server == c.controller->address());
  CHECK(c.Ctl({"version"}).exit_code == 0);
}

TEST_CASE("--tls-san adds names and addresses to the server certificate") {
  TempDir dir;
  Controller controller(dir.path() + "/data", {"--tls-san", "10.99.0.1", "--tls-san", "reef.example"});
  auto server = pki::Certificate::FromPem(ReadText(dir.path() + "/data/pki/server.crt"));
  REQUIRE(server.ok());
  auto ips = server->ip_addresses();
  auto names = server->dns_names();
  CHECK(std::count(ips.begin(), ips.end(), "10.99.0.1") == 1);
  CHECK(std::count(ips.begin(), ips.end(), "127.0.0.1") == 1);
  CHECK(std::count(names.begin(), names.end(), "reef.example") == 1);
  CHECK(std::count(names.begin(), names.end(), "localhost") == 1);
}

TEST_CASE("reefctl reads its credential from --config, REEFCONFIG, then ~/.reef/config") {
  TestCluster c;
  std::string admin = c.controller->admin_config();
  RunResult r = Reefctl({"--config", admin, "version"}, "", IsolatedEnv());
  CHECK_MESSAGE(r.exit_code == 0, r.err);

  r = Reefctl({"version"}, "", {{"HOME", "/nonexistent"}, {"REEF_SERVER", ""}, {"REEFCONFIG", admin}});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(Contains(r.out, "Server Version: v"));

  TempDir home;
  REQUIRE(MakeDirs(home.path() + "/.reef", 0700).ok());
  REQUIRE(WriteFileAtomic(home.path() + "/.reef/config", ReadText(admin), 0600).ok());
  r = Reefctl({"get", "ns"}, "", {{"HOME", home.path()}, {"REEF_SERVER", ""}, {"REEFCONFIG", ""}});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(Contains(r.out, "reef-system"));

  // Missing, malformed, absent: one line each, naming the file.
  r = Reefctl({"--config", home.path() + "/missing", "get", "pods"}, "", IsolatedEnv());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: Reef config (from --config): open " + home.path() +
                     "/missing: No such file or directory\n");
  std::string partial = c.WriteFile("partial.conf", "server: " + c.controller->address() + "\n");
  r = Reefctl({"get", "pods"}, "", {{"HOME", "/nonexistent"}, {"REEF_SERVER", ""}, {"REEFCONFIG", partial}});
  CHECK(r.err == "error: Reef config (from REEFCONFIG): " + partial +
                     ": no \"certificate-authority-data\" entry\n");
  std::string broken = c.WriteFile("broken.conf", "server: [unclosed\n");
  r = Reefctl({"--config", broken, "get", "pods"}, "", IsolatedEnv());
  CHECK(Contains(r.err, "error: Reef config (from --config): " + broken + ": line "));
  CHECK(Contains(r.err, "invalid YAML"));
  r = Reefctl({"get", "pods"}, "", IsolatedEnv());
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "error: no Reef config: /nonexistent/.reef/config does not exist; pass --config FILE or set "
        "REEFCONFIG (reef-controller writes DATA_DIR/admin.conf)\n");
}

TEST_CASE("a credential from another cluster fails the TLS handshake with a clear line") {
  TestCluster c;
  auto ca = pki::CertificateAuthority::Create("elsewhere", absl::Hours(1));
  REQUIRE(ca.ok());
  auto key = pki::PrivateKey::Generate();
  REQUIRE(key.ok());
  pki::IssueOptions o;
  o.subject = {"admin", {"reef:admins"}};
  auto cert = ca->Issue(key->get(), o);
  REQUIRE(cert.ok());
  ClientConfigFile foreign{c.controller->address(), ca->certificate().ToPem(), cert->ToPem(), key->ToPem()};
  std::string path = c.WriteFile("foreign.conf", foreign.Format());
  RunResult r = Reefctl({"--config", path, "get", "pods"}, "", IsolatedEnv());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: the TLS handshake with the Reef controller at " + c.controller->address() +
                     " (from " + path + ") failed: its certificate is not signed by the CA in " + path +
                     ", or does not cover that address (see reef-controller --tls-san)\n");
}

TEST_CASE("API calls without the admin credential are refused and change nothing") {
  TestCluster c;
  int before = CountObjects(c, "cm");
  auto stub = v1::ApiService::NewStub(Channel(*c.controller));  // the CA, no client certificate

  v1::ApplyRequest apply;
  auto* cm = apply.add_objects()->mutable_config_map();
  cm->mutable_metadata()->set_name("sneaky");
  (*cm->mutable_data())["a"] = "b";
  v1::ApplyResponse applied;
  grpc::ClientContext ctx1;
  grpc::Status s = stub->Apply(&ctx1, apply, &applied);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() == "a client without a certificate: apply requires the admin credential (admin.conf)");

  v1::ListRequest list;
  list.set_kind("Secret");
  list.set_namespace_("reef-system");
  v1::ListResponse listed;
  grpc::ClientContext ctx2;
  s = stub->List(&ctx2, list, &listed);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(listed.items_size() == 0);

  v1::WatchRequest watch;
  grpc::ClientContext ctx3;
  auto reader = stub->Watch(&ctx3, watch);
  v1::WatchEvent event;
  CHECK(!reader->Read(&event));
  s = reader->Finish();
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(s.error_message(), "watch requires the admin credential (admin.conf)"));

  v1::VersionResponse version;
  grpc::ClientContext ctx4;
  CHECK(stub->Version(&ctx4, v1::VersionRequest(), &version).error_code() == grpc::StatusCode::PERMISSION_DENIED);

  CHECK(CountObjects(c, "cm") == before);
}

TEST_CASE("joining with the node-token: a node certificate, then mutual TLS as that node") {
  TestCluster c;
  TempDir agent;
  absl::Status joined = agent::JoinCluster(JoinAs(*c.controller, NodeToken(*c.controller), "edge-1", agent.path()));
  REQUIRE_MESSAGE(joined.ok(), joined.ToString());

  agent::NodeCredentialFiles files(agent.path());
  for (const std::string& f : {files.ca(), files.certificate(), files.key()}) CHECK_MESSAGE(Mode(f) == 0600, f);
  CHECK(ReadText(files.ca()) == CaPem(*c.controller));
  auto cert = agent::LoadNodeCertificate(agent.path());
  REQUIRE(cert.ok());
  CHECK(cert->common_name() == "edge-1");
  CHECK(cert->organizations() == std::vector<std::string>{"reef:nodes"});
  CHECK(Contains(c.controller->Log(), "join: node \"edge-1\" from "));
  CHECK(Contains(c.controller->Log(), " joined"));

  // The node's credential works for the node's calls...
  auto credentials = agent::LoadNodeCredentials(agent.path());
  REQUIRE(credentials.ok());
  auto renewed = agent::RenewNodeCertificate(c.controller->address(), agent.path());
  REQUIRE_MESSAGE(renewed.ok(), renewed.status().ToString());
  CHECK(renewed->common_name() == "edge-1");

  // ...and not for the admin's: through reefctl with a config holding it, and raw.
  auto node_cert = agent::LoadNodeCertificate(agent.path());
  REQUIRE(node_cert.ok());
  ClientConfigFile as_node{c.controller->address(), CaPem(*c.controller), node_cert->ToPem(),
                           ReadText(files.key())};
  std::string node_conf = c.WriteFile("node.conf", as_node.Format());
  int before = CountObjects(c, "cm");
  RunResult r = Reefctl({"--config", node_conf, "apply", "-f", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
                        IsolatedEnv());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: node \"edge-1\": apply requires the admin credential (admin.conf)\nnothing was applied\n");
  r = Reefctl({"--config", node_conf, "get", "secrets", "-n", "reef-system"}, "", IsolatedEnv());
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "node \"edge-1\": list requires the admin credential (admin.conf)"));
  CHECK(CountObjects(c, "cm") == before);

  // Renew is for nodes only.
  auto admin = ClientConfigFile::Load(c.controller->admin_config());
  REQUIRE(admin.ok());
  auto stub = v1::AgentService::NewStub(Channel(*c.controller, admin->certificate_pem, admin->key_pem));
  v1::RenewRequest renew;
  v1::RenewResponse renew_response;
  grpc::ClientContext ctx;
  grpc::Status s = stub->Renew(&ctx, renew, &renew_response);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message() == "admin \"admin\": renew requires a node certificate (join the cluster first)");
}

TEST_CASE("join refusals: each with its reason, on both sides, and nothing stored") {
  TestCluster c;
  Controller& controller = *c.controller;
  TempDir agent;
  auto refused = [&](const std::string& token, const std::string& node = "edge-1") {
    absl::Status s = agent::JoinCluster(JoinAs(controller, token, node, agent.path()));
    CHECK(!s.ok());
    CHECK(!agent::HasNodeCredentials(agent.path()));
    return std::string(s.message());
  };
  std::string prefix = "join refused by the controller at " + controller.address() + ": ";

  SUBCASE("a wrong secret") {
    std::string token = WithWrongKey(NodeToken(controller));
    std::string id = JoinToken::Parse(token)->id;
    CHECK(refused(token) == prefix + "join token \"" + id + "\": wrong secret");
    CHECK(Contains(controller.Log(), "join: refused node \"edge-1\" from "));
    CHECK(Contains(controller.Log(), "with token " + id + ": join token \"" + id + "\": wrong secret"));
  }
  SUBCASE("a revoked token") {
    std::string token = CreateToken(c);
    std::string id = JoinToken::Parse(token)->id;
    RunResult r = c.Ctl({"token", "revoke", id});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(refused(token) == prefix + "join token \"" + id + "\" is unknown or has been revoked");
    CHECK(Contains(controller.Log(), "is unknown or has been revoked"));
  }
  SUBCASE("an expired token") {
    std::string token = CreateToken(c, {"--ttl", "1s"});
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    std::string message = refused(token);
    CHECK(Contains(message, prefix + "join token \"" + JoinToken::Parse(token)->id + "\" expired at "));
  }
  SUBCASE("a token for another CA: the agent refuses before sending it") {
    auto token = JoinToken::Parse(NodeToken(controller));
    REQUIRE(token.ok());
    std::string real = token->ca_sha256;
    token->ca_sha256 = pki::Sha256Hex("some other CA");
    int joins_before = CountJoinLines(controller);
    absl::Status s = agent::JoinCluster(JoinAs(controller, token->ToString(), "edge-1", agent.path()));
    CHECK(absl::IsFailedPrecondition(s));
    CHECK(s.message() == "the controller at " + controller.address() + " presents CA sha256:" + real +
                             " but the token expects sha256:" + token->ca_sha256 +
                             "; refusing to send the token (is the token for this cluster?)");
    CHECK(!agent::HasNodeCredentials(agent.path()));
    // The controller never saw a Join call.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(CountJoinLines(controller) == joins_before);
  }
  SUBCASE("a malformed token, a bad node name, a CSR for another name") {
    CHECK(Contains(refused("REEF1.nope"), "malformed join token: "));
    CHECK(refused(NodeToken(controller), "Edge_1") ==
          prefix + "node name: \"Edge_1\": a lowercase RFC 1123 subdomain must consist of lower case "
                   "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                   "character");
    // What the agent library would never send, sent raw: the controller checks too.
    auto stub = v1::AgentService::NewStub(Channel(controller));
    auto key = pki::PrivateKey::Generate();
    REQUIRE(key.ok());
    auto csr = pki::CertificateRequest::Create(*key, {"edge-2", {}});
    REQUIRE(csr.ok());
    v1::JoinRequest join;
    join.set_token(NodeToken(controller));
    join.set_node_name("edge-1");
    join.set_csr_pem(csr->ToPem());
    v1::JoinResponse response;
    grpc::ClientContext ctx1;
    grpc::Status s = stub->Join(&ctx1, join, &response);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "the CSR's common name \"edge-2\" is not the node name \"edge-1\"");
    join.set_token("garbage");
    grpc::ClientContext ctx2;
    s = stub->Join(&ctx2, join, &response);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Contains(s.error_message(), "malformed join token: it does not start with \"REEF1.\""));
    CHECK(response.certificate_pem().empty());
    CHECK(Contains(controller.Log(), "join: refused node \"edge-1\""));
  }
}

TEST_CASE("node certificates renew before they expire, with no restart") {
  TempDir dir;
  Controller controller(dir.path() + "/data", {"--node-cert-validity", "6s"});
  TempDir agent;
  REQUIRE(agent::JoinCluster(JoinAs(controller, NodeToken(controller), "edge-1", agent.path())).ok());
  auto first = agent::LoadNodeCertificate(agent.path());
  REQUIRE(first.ok());
  CHECK(first->not_after() - first->not_before() == absl::Seconds(6));

  absl::Mutex mu;
  std::vector<absl::Time> renewed;  // NotAfter of each new certificate
  agent::CertRenewerOptions options;
  options.server = controller.address();
  options.data_dir = agent.path();
  options.on_renewed = [&](const pki::Certificate& cert) {
    absl::MutexLock lock(&mu);
    renewed.push_back(cert.not_after());
  };
  auto renewer = agent::CertRenewer::Start(std::move(options));
  REQUIRE(renewer.ok());
  {
    absl::MutexLock lock(&mu);
    // Two renewals: the second one made with the certificate of the first.
    mu.AwaitWithTimeout(absl::Condition(
                            +[](std::vector<absl::Time>* v) { return v->size() >= 2; }, &renewed),
                        absl::Seconds(25));
    REQUIRE(renewed.size() >= 2);
    CHECK(renewed[0] > first->not_after());
    CHECK(renewed[1] > renewed[0]);
  }
  renewer->reset();
  auto now = agent::LoadNodeCertificate(agent.path());
  REQUIRE(now.ok());
  CHECK(now->not_after() >= renewed[1]);
  CHECK(now->common_name() == "edge-1");
  std::string log = controller.Log();
  CHECK(Contains(log, "renew: node \"edge-1\" has a new certificate until "));
}

TEST_CASE("token create, list, revoke") {
  TestCluster c;
  std::string token = CreateToken(c, {"--ttl", "1h", "--description", "lab boxes"});
  auto parsed = JoinToken::Parse(token);
  REQUIRE_MESSAGE(parsed.ok(), token);
  auto ca = pki::Certificate::FromPem(CaPem(*c.controller));
  REQUIRE(ca.ok());
  CHECK(parsed->ca_sha256 == ca->Sha256());
  std::string forever = CreateToken(c, {"--ttl", "0"});
  std::string node_token_id = JoinToken::Parse(NodeToken(*c.controller))->id;

  RunResult r = c.Ctl({"token", "list"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.rfind("ID       TTL         EXPIRES                DESCRIPTION\n", 0) == 0);
  CHECK(Contains(r.out, parsed->id + "   59m"));
  CHECK(Contains(r.out, "lab boxes"));
  CHECK(Contains(r.out, node_token_id + "   <forever>   <never>"));
  CHECK(Contains(r.out, JoinToken::Parse(forever)->id + "   <forever>   <never>                <none>"));
  // The store holds the key's hash, never the key.
  r = c.Ctl({"get", "secrets", "-n", "reef-system", "-o", "yaml"});
  REQUIRE(r.exit_code == 0);
  CHECK(!Contains(r.out, parsed->key));

  // A created token joins.
  TempDir agent;
  absl::Status joined = agent::JoinCluster(JoinAs(*c.controller, token, "edge-7", agent.path()));
  CHECK_MESSAGE(joined.ok(), joined.ToString());

  r = c.Ctl({"token", "revoke", parsed->id});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "join token \"" + parsed->id + "\" revoked\n");
  r = c.Ctl({"token", "list"});
  CHECK(!Contains(r.out, parsed->id));
  r = c.Ctl({"token", "revoke", parsed->id});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: join token \"" + parsed->id + "\" not found\n");
  // A whole token names its id too.
  r = c.Ctl({"token", "revoke", forever});
  CHECK(r.out == "join token \"" + JoinToken::Parse(forever)->id + "\" revoked\n");

  r = c.Ctl({"token", "create", "--ttl", "soon"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "error: --ttl \"soon\": expected a duration such as 24h, 30m or 0 (never expires)\n");
}

}  // namespace
}  // namespace reef::testing
