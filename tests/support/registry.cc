#include "tests/support/registry.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "agent/image/auth.h"
#include "agent/image/http_client.h"

namespace reef::testing {
namespace {

using namespace std::chrono_literals;
using image::Digest;
using image::FakeAnswer;
using image::HttpRequest;

constexpr std::string_view kFakeRealm = "https://auth.test/token";

FakeAnswer JsonAnswer(int status, std::string body) {
  FakeAnswer a;
  a.status = status;
  a.headers.Add("Content-Type", "application/json");
  a.body = std::move(body);
  return a;
}

FakeAnswer ErrorAnswer(int status, std::string_view code) {
  return JsonAnswer(status,
                    absl::StrFormat(R"({"errors":[{"code":"%s","message":"fake"}]})", code));
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string MustRun(const std::vector<std::string>& argv) {
  RunResult r = Run(argv, "", std::chrono::seconds(60));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += a + " ";
    throw std::runtime_error(
        absl::StrFormat("command failed (%d): %s\n%s%s", r.exit_code, cmd, r.out, r.err));
  }
  return r.out;
}

// Reads "PORT <n>" from a server that bound port 0.
int WaitForPort(Process& process, const std::string& what) {
  auto line = process.WaitForLine([](const std::string& l) { return l.starts_with("PORT "); }, 10s);
  if (!line) throw std::runtime_error(what + " did not report its port: " + process.Stderr());
  return std::stoi(line->substr(5));
}

// Waits until GET url answers at all (any status); false if `process` exits first.
bool WaitForHttp(const std::string& url, Process& process, std::chrono::milliseconds timeout) {
  auto http = image::HttpClient::Open();
  if (!http.ok()) throw std::runtime_error(std::string(http.status().message()));
  image::HttpRequest request;
  request.url = url;
  request.tls.verify = false;  // only whether it answers
  request.connect_timeout = absl::Seconds(1);
  request.total_timeout = absl::Seconds(2);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process.Running()) return false;
    if ((*http)->Do(request).ok()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::vector<std::string> LinesWithPrefix(Process& process, std::string_view prefix) {
  process.Output();
  std::vector<std::string> out;
  for (const std::string& line : process.lines()) {
    if (line.starts_with(prefix)) out.push_back(line.substr(prefix.size()));
  }
  return out;
}

// Issues RS256 JWTs with an x5c header, as distribution's token auth expects: a token
// carries the requested actions when the Basic credentials match, none otherwise.
// Each issued token is logged as "TOKEN scope=<scopes> user=<user or ->".
constexpr std::string_view kTokenServerPy = R"PY(
import base64, json, subprocess, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

key, cert, issuer, user, password = sys.argv[1:6]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                     check=True, capture_output=True).stdout

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def sign(claims):
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=signing_input.encode(), check=True, capture_output=True).stdout
    return signing_input + "." + b64(sig)

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        who = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if (u, p) != (user, password):
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            who = u
        access = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":")
            if who:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {"iss": issuer, "sub": who, "aud": query.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access}
        body = json.dumps({"token": sign(claims), "expires_in": 300}).encode()
        print("TOKEN scope=%s user=%s" % (" ".join(query.get("scope", [])), who or "-"),
              flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
)PY";

// Serves an OCI layout as a registry would (see FaultRegistry).
constexpr std::string_view kFaultRegistryPy = R"PY(
import json, os, socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

layout, repo, corrupt, cut_once = sys.argv[1:5]
with open(os.path.join(layout, "index.json")) as f:
    index = json.load(f)
tags = {}
for m in index["manifests"]:
    tags[m.get("annotations", {}).get("org.opencontainers.image.ref.name", "")] = m["digest"][7:]
cut_done = set()

def read_blob(hexd):
    with open(os.path.join(layout, "blobs", "sha256", hexd), "rb") as f:
        return f.read()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        print("REQ %s range=%s" % (self.path, self.headers.get("Range", "-")), flush=True)
        prefix = "/v2/" + repo + "/"
        if self.path == "/v2/":
            return self.send(200, b"{}")
        if not self.path.startswith(prefix):
            return self.send(404)
        kind, _, ref = self.path[len(prefix):].partition("/")
        hexd = ref[7:] if ref.startswith("sha256:") else tags.get(ref, "")
        try:
            data = read_blob(hexd) if hexd else None
        except OSError:
            data = None
        if data is None:
            return self.send(404, b'{"errors":[{"code":"NOT_FOUND","message":"unknown"}]}')
        if kind == "manifests":
            media = json.loads(data).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
            return self.send(200, data, [("Content-Type", media),
                                         ("Docker-Content-Digest", "sha256:" + hexd)])
        if hexd == corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if hexd == cut_once and hexd not in cut_done:
            cut_done.add(hexd)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            return self.send(206, data[start:],
                             [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
        return self.send(200, data)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
)PY";

image::RegistriesConfig PlainHttpConfig(const std::string& host) {
  image::RegistriesConfig config;
  image::RegistryHostConfig host_config;
  host_config.plain_http = true;
  config.SetConfig(host, host_config);
  return config;
}

}  // namespace

// ---- FakeRegistry ----

FakeRegistry::FakeRegistry(std::string host)
    : host_(std::move(host)), client_([this](const HttpRequest& r) { return Handle(r); }) {}

FakeRegistry::BuiltImage FakeRegistry::AddImage(const std::string& repo, const std::string& tag,
                                                const std::vector<std::string>& layers,
                                                const image::Platform& platform,
                                                bool docker_schema2) {
  BuiltImage built;
  image::json::Json diff_ids = image::json::Json::array();
  image::json::Json layer_descriptors = image::json::Json::array();
  for (const std::string& content : layers) {
    const Digest digest = Digest::Of(content);
    built.layers.push_back(digest);
    diff_ids.push_back(digest.ToString());
    layer_descriptors.push_back({{"mediaType", docker_schema2 ? image::media_type::kDockerLayerGzip
                                                              : image::media_type::kOciLayerGzip},
                                 {"digest", digest.ToString()},
                                 {"size", content.size()}});
    absl::MutexLock lock(&mu_);
    blobs_[digest.hex()] = content;
  }
  image::json::Json config = {
      {"architecture", platform.architecture},
      {"os", platform.os},
      {"config", {{"Cmd", {"/bin/sh"}}, {"Env", {"PATH=/bin"}}, {"WorkingDir", "/"}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!platform.variant.empty()) config["variant"] = platform.variant;
  const std::string config_body = config.dump();
  built.config = Digest::Of(config_body);
  const std::string manifest_type(docker_schema2 ? image::media_type::kDockerManifest
                                                 : image::media_type::kOciManifest);
  image::json::Json manifest = {{"schemaVersion", 2},
                                {"mediaType", manifest_type},
                                {"config",
                                 {{"mediaType", docker_schema2 ? image::media_type::kDockerConfig
                                                               : image::media_type::kOciConfig},
                                  {"digest", built.config.ToString()},
                                  {"size", config_body.size()}}},
                                {"layers", layer_descriptors}};
  built.manifest_body = manifest.dump();
  built.manifest = Digest::Of(built.manifest_body);
  {
    absl::MutexLock lock(&mu_);
    blobs_[built.config.hex()] = config_body;
  }
  AddManifest(repo, tag, built.manifest_body, manifest_type);
  return built;
}

Digest FakeRegistry::AddIndex(const std::string& repo, const std::string& tag,
                              const std::vector<std::pair<BuiltImage, image::Platform>>& entries) {
  image::json::Json manifests = image::json::Json::array();
  for (const auto& [built, platform] : entries) {
    image::json::Json p = {{"architecture", platform.architecture}, {"os", platform.os}};
    if (!platform.variant.empty()) p["variant"] = platform.variant;
    manifests.push_back({{"mediaType", image::media_type::kOciManifest},
                         {"digest", built.manifest.ToString()},
                         {"size", built.manifest_body.size()},
                         {"platform", p}});
  }
  image::json::Json index = {
      {"schemaVersion", 2}, {"mediaType", image::media_type::kOciIndex}, {"manifests", manifests}};
  const std::string body = index.dump();
  AddManifest(repo, tag, body, std::string(image::media_type::kOciIndex));
  return Digest::Of(body);
}

void FakeRegistry::AddManifest(const std::string& repo, const std::string& reference,
                               std::string body, std::string media_type) {
  const std::string digest = Digest::Of(body).ToString();
  absl::MutexLock lock(&mu_);
  manifests_[repo + "/" + digest] = {body, media_type};
  manifests_[repo + "/" + reference] = {std::move(body), std::move(media_type)};
}

void FakeRegistry::RequireBasic(image::Credentials credentials) {
  absl::MutexLock lock(&mu_);
  basic_ = std::move(credentials);
}

void FakeRegistry::RequireBearer(image::Credentials credentials) {
  absl::MutexLock lock(&mu_);
  bearer_required_ = true;
  bearer_ = std::move(credentials);
}

void FakeRegistry::CorruptBlob(const Digest& digest) {
  absl::MutexLock lock(&mu_);
  std::string bad = blobs_.at(digest.hex());
  bad[0] = static_cast<char>(bad[0] ^ 0xff);
  corrupt_[digest.hex()] = std::move(bad);
}

void FakeRegistry::CutBlobOnce(const Digest& digest, size_t after_bytes) {
  absl::MutexLock lock(&mu_);
  cut_once_[digest.hex()] = after_bytes;
}

void FakeRegistry::FailRequests(const std::string& url_fragment, int times, int status) {
  absl::MutexLock lock(&mu_);
  failures_.push_back({url_fragment, {times, status}});
}

std::vector<std::string> FakeRegistry::token_scopes() const {
  absl::MutexLock lock(&mu_);
  return token_scopes_;
}

bool FakeRegistry::Authorized(const HttpRequest& request, FakeAnswer* challenge) {
  const std::string authorization = request.headers.Get("Authorization").value_or("");
  std::string repo;
  if (const size_t v2 = request.url.find("/v2/"); v2 != std::string::npos) {
    std::string_view path = std::string_view(request.url).substr(v2 + 4);
    for (std::string_view kind : {"/manifests/", "/blobs/"}) {
      if (const size_t at = path.find(kind); at != std::string_view::npos) {
        repo = std::string(path.substr(0, at));
      }
    }
  }
  absl::MutexLock lock(&mu_);
  if (basic_ && authorization != image::BasicAuthorization(*basic_)) {
    *challenge = ErrorAnswer(401, "UNAUTHORIZED");
    challenge->headers.Add("WWW-Authenticate", R"(Basic realm="fake-registry")");
    return false;
  }
  if (bearer_required_) {
    const std::string scope = image::PullScope(repo);
    const std::string token = authorization.starts_with("Bearer ") ? authorization.substr(7) : "";
    auto granted = tokens_.find(token);
    if (granted == tokens_.end() || (!repo.empty() && granted->second != scope)) {
      *challenge = ErrorAnswer(401, "UNAUTHORIZED");
      challenge->headers.Add(
          "WWW-Authenticate",
          absl::StrFormat(R"(Bearer realm="%s",service="fake-registry",scope="%s")", kFakeRealm,
                          scope));
      return false;
    }
  }
  return true;
}

FakeAnswer FakeRegistry::HandleToken(const HttpRequest& request) {
  std::string scope;
  for (absl::string_view param :
       absl::StrSplit(request.url.substr(request.url.find('?') + 1), '&')) {
    if (ToStd(param).starts_with("scope=") && scope.empty()) {
      scope = std::string(param.substr(6));
      // Undo QueryEscape of ':' and ','.
      for (auto [from, to] :
           {std::pair{"%3A", ":"}, std::pair{"%2C", ","}, std::pair{"%2F", "/"}}) {
        for (size_t at; (at = scope.find(from)) != std::string::npos;) scope.replace(at, 3, to);
      }
    }
  }
  absl::MutexLock lock(&mu_);
  if (bearer_ && !bearer_->empty() &&
      request.headers.Get("Authorization").value_or("") != image::BasicAuthorization(*bearer_)) {
    return ErrorAnswer(401, "DENIED");
  }
  token_scopes_.push_back(scope);
  const std::string token = absl::StrFormat("token-%d", tokens_.size() + 1);
  tokens_[token] = scope;
  return JsonAnswer(200, absl::StrFormat(R"({"token":"%s","expires_in":300})", token));
}

FakeAnswer FakeRegistry::Handle(const HttpRequest& request) {
  if (request.url.starts_with(kFakeRealm)) return HandleToken(request);
  {
    absl::MutexLock lock(&mu_);
    for (auto& [fragment, left_status] : failures_) {
      if (left_status.first > 0 && request.url.find(fragment) != std::string::npos) {
        --left_status.first;
        return ErrorAnswer(left_status.second, "UNAVAILABLE");
      }
    }
  }
  const std::string prefix = "https://" + host_ + "/v2/";
  if (!request.url.starts_with(prefix)) {
    FakeAnswer refused;
    refused.transport_error = absl::UnavailableError("connection refused: " + request.url);
    return refused;
  }
  FakeAnswer challenge;
  if (!Authorized(request, &challenge)) return challenge;
  const std::string path = request.url.substr(prefix.size());
  if (path.empty()) return JsonAnswer(200, "{}");
  absl::MutexLock lock(&mu_);
  if (const size_t at = path.find("/manifests/"); at != std::string::npos) {
    auto it = manifests_.find(path.substr(0, at) + "/" + path.substr(at + 11));
    if (it == manifests_.end()) return ErrorAnswer(404, "MANIFEST_UNKNOWN");
    FakeAnswer a;
    a.headers.Add("Content-Type", it->second.media_type);
    a.headers.Add("Docker-Content-Digest", Digest::Of(it->second.body).ToString());
    a.body = it->second.body;
    return a;
  }
  if (const size_t at = path.find("/blobs/sha256:"); at != std::string::npos) {
    const std::string hex = path.substr(at + 14);
    auto it = blobs_.find(hex);
    if (it == blobs_.end()) return ErrorAnswer(404, "BLOB_UNKNOWN");
    FakeAnswer a;
    a.body = corrupt_.contains(hex) ? corrupt_[hex] : it->second;
    const std::string range = request.headers.Get("Range").value_or("");
    if (!ignore_range_ && range.starts_with("bytes=") && range.ends_with("-")) {
      const size_t start = std::stoul(range.substr(6));
      a.status = 206;
      a.headers.Add("Content-Range",
                    absl::StrFormat("bytes %d-%d/%d", start, a.body.size() - 1, a.body.size()));
      a.body = a.body.substr(start);
    }
    if (auto cut = cut_once_.find(hex); cut != cut_once_.end()) {
      a.cut_after = cut->second;
      cut_once_.erase(cut);
    }
    return a;
  }
  return ErrorAnswer(404, "NAME_UNKNOWN");
}

// ---- real processes ----

std::string RequireBinary(const std::string& binary, const std::string& package) {
  RunResult r = Run({"/bin/sh", "-c", "command -v " + binary});
  if (r.exit_code != 0) {
    throw std::runtime_error(
        absl::StrFormat("this test needs `%s` (Debian package %s): apt-get install -y "
                        "--no-install-recommends %s",
                        binary, package, package));
  }
  return r.out.substr(0, r.out.find('\n'));
}

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind 127.0.0.1:0 failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string BuildTestImage(const std::string& dir, const std::string& tag,
                           const std::string& arch) {
  RequireBinary("umoci", "umoci");
  const std::string busybox = RequireBinary("busybox", "busybox-static");
  const std::string layout = dir;
  const std::string image = layout + ":" + tag;
  const std::string bundle = dir + ".bundle";
  if (!std::filesystem::exists(layout + "/index.json")) {
    MustRun({"umoci", "init", "--layout", layout});
  }
  MustRun({"umoci", "new", "--image", image});
  std::vector<std::string> unpack = {"umoci", "unpack", "--image", image, bundle};
  if (::geteuid() != 0) unpack.insert(unpack.begin() + 2, "--rootless");
  MustRun(unpack);
  const std::string bin = bundle + "/rootfs/bin";
  std::filesystem::create_directories(bin);
  std::filesystem::copy_file(busybox, bin + "/busybox");
  // The applets tests' pods use by name (a tiny web server, a client, file tools).
  for (const char* applet : {"sh", "echo", "sleep", "cat", "true", "httpd", "wget", "nc", "grep", "awk", "dd",
                             "head", "rm", "ls", "mkdir", "stat", "touch", "hostname", "test", "ip"}) {
    std::filesystem::create_symlink("busybox", bin + "/" + applet);
  }
  MustRun({"umoci", "repack", "--image", image, bundle});
  MustRun({"umoci", "config", "--image", image, "--config.cmd", "/bin/sh", "--config.env",
           "PATH=/bin", "--architecture", arch, "--os", "linux"});
  MustRun({"umoci", "gc", "--layout", layout});
  std::filesystem::remove_all(bundle);
  return layout;
}

const std::string& SharedTestImageLayout() {
  static const TempDir dir;  // removed at exit
  static const std::string layout = [] {
    const std::string path = dir.path() + "/oci";
    BuildTestImage(path, "1", "amd64");
    BuildTestImage(path, "arm64", "arm64");
    return path;
  }();
  return layout;
}

ImageStoreUnderTest::ImageStoreUnderTest(image::RegistriesConfig registries, bool unpack) {
  if (unpack) {
    auto snapshots = image::Snapshotter::Open(dir.path() + "/snapshots");
    if (!snapshots.ok()) throw std::runtime_error(std::string(snapshots.status().message()));
    snapshotter = *std::move(snapshots);
  }
  image::ImageStoreOptions options;
  options.root = root();
  options.registries = std::move(registries);
  options.registry.initial_backoff = absl::Milliseconds(20);
  options.registry.max_attempts = 3;
  options.snapshotter = snapshotter.get();
  auto opened = image::ImageStore::Open(std::move(options));
  if (!opened.ok()) throw std::runtime_error(std::string(opened.status().message()));
  store = *std::move(opened);
}

TestRegistry::TestRegistry(Options options) : options_(std::move(options)) {
  RequireBinary("docker-registry", "docker-registry");
  RequireBinary("skopeo", "skopeo");
  Start();
}

TestRegistry::~TestRegistry() = default;  // Process and TempDir clean up

void TestRegistry::Start() {
  const std::string dir = dir_.path();
  std::string auth;
  if (options_.auth == Auth::kBasic) {
    RequireBinary("htpasswd", "apache2-utils");
    WriteFile(dir + "/htpasswd", MustRun({"htpasswd", "-Bbn", options_.user, options_.password}));
    auth = absl::StrFormat("auth: {htpasswd: {realm: reef-test, path: %s/htpasswd}}\n", dir);
  } else if (options_.auth == Auth::kToken) {
    RequireBinary("python3", "python3");
    RequireBinary("openssl", "openssl");
    MustRun({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             dir + "/token-key.pem", "-out", dir + "/token-cert.pem", "-days", "2", "-subj",
             "/CN=reef-test-token-issuer"});
    WriteFile(dir + "/token_server.py", std::string(kTokenServerPy));
    token_server_.emplace(Process::Start({"python3", dir + "/token_server.py",
                                          dir + "/token-key.pem", dir + "/token-cert.pem",
                                          "reef-test-issuer", options_.user, options_.password}));
    const int token_port = WaitForPort(*token_server_, "token server");
    auth = absl::StrFormat(
        "auth: {token: {realm: \"http://127.0.0.1:%d/token\", service: reef-test-registry, "
        "issuer: reef-test-issuer, rootcertbundle: %s/token-cert.pem}}\n",
        token_port, dir);
  }
  std::string tls;
  if (options_.tls) {
    RequireBinary("openssl", "openssl");
    MustRun({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             dir + "/tls-key.pem", "-out", ca_file(), "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"});
    tls = absl::StrFormat(", tls: {certificate: %s, key: %s/tls-key.pem}", ca_file(), dir);
  }
  // The port is picked free, then bound by the registry: retry if someone took it.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreeLoopbackPort();
    host_ = absl::StrFormat("127.0.0.1:%d", port);
    WriteFile(
        dir + "/registry.yml",
        absl::StrFormat("version: 0.1\n"
                        "log: {level: error, accesslog: {disabled: true}}\n"
                        "storage: {filesystem: {rootdirectory: %s/data}, delete: {enabled: true}}\n"
                        "http: {addr: %s%s}\n%s",
                        dir, host_, tls, auth));
    registry_.emplace(Process::Start({"docker-registry", "serve", dir + "/registry.yml"}));
    const std::string scheme = options_.tls ? "https://" : "http://";
    if (WaitForHttp(scheme + host_ + "/v2/", *registry_, 10s)) return;
    registry_.reset();
  }
  throw std::runtime_error("docker-registry did not start on 127.0.0.1");
}

void TestRegistry::Push(const std::string& layout, const std::string& tag, const std::string& repo,
                        const std::string& dest_tag, bool docker_schema2) {
  std::vector<std::string> argv = {"skopeo", "--insecure-policy", "copy", "--quiet",
                                   "--dest-tls-verify=false"};
  if (options_.auth != Auth::kNone) {
    argv.push_back("--dest-creds=" + options_.user + ":" + options_.password);
  }
  if (docker_schema2) argv.insert(argv.end(), {"--format", "v2s2"});
  argv.push_back("oci:" + layout + ":" + tag);
  argv.push_back("docker://" + host_ + "/" + repo + ":" + dest_tag);
  MustRun(argv);
}

void TestRegistry::PutManifest(const std::string& repo, const std::string& reference,
                               const std::string& body, const std::string& media_type) {
  const std::string file = dir_.path() + "/put-manifest.json";
  WriteFile(file, body);
  MustRun({"python3", "-c",
           "import sys, urllib.request\n"
           "data = open(sys.argv[2], 'rb').read()\n"
           "req = urllib.request.Request(sys.argv[1], data=data, method='PUT',\n"
           "                             headers={'Content-Type': sys.argv[3]})\n"
           "urllib.request.urlopen(req)\n",
           "http://" + host_ + "/v2/" + repo + "/manifests/" + reference, file, media_type});
}

std::string TestRegistry::BlobDataPath(const Digest& digest) const {
  return absl::StrFormat("%s/data/docker/registry/v2/blobs/sha256/%s/%s/data", dir_.path(),
                         digest.hex().substr(0, 2), digest.hex());
}

std::vector<std::string> TestRegistry::TokenRequests() {
  if (!token_server_) return {};
  return LinesWithPrefix(*token_server_, "TOKEN ");
}

image::RegistriesConfig TestRegistry::Config() const {
  if (!options_.tls) return PlainHttpConfig(host_);
  image::RegistriesConfig config;
  image::RegistryHostConfig host_config;
  host_config.tls.ca_file = ca_file();
  config.SetConfig(host_, host_config);
  return config;
}

FaultRegistry::FaultRegistry(Options options) {
  RequireBinary("python3", "python3");
  const std::string script = dir_.path() + "/fault_registry.py";
  WriteFile(script, std::string(kFaultRegistryPy));
  server_.emplace(Process::Start(
      {"python3", script, options.layout, options.repo, options.corrupt, options.cut_once}));
  host_ = absl::StrFormat("127.0.0.1:%d", WaitForPort(*server_, "fault registry"));
}

std::vector<std::string> FaultRegistry::Requests() { return LinesWithPrefix(*server_, "REQ "); }

image::RegistriesConfig FaultRegistry::Config() const { return PlainHttpConfig(host_); }

}  // namespace reef::testing
