#pragma once
// Registries for the image tests.
//
// FakeRegistry: an in-memory OCI registry answering through a FakeHttpClient, with
// Basic or Bearer auth and faults (corrupt blob, cut transfer, 5xx), for unit tests of
// the pull flows. TestRegistry: a real docker-registry process on 127.0.0.1, optionally
// behind htpasswd or token auth (with a small python3 token server issuing RS256 JWTs),
// for end-to-end tests. FaultRegistry: a python3 server that serves an OCI layout the
// way a registry does, corrupting or cutting a blob on request. The test image is built
// from busybox-static with umoci, without network or docker.
//
// Test support: setup failures throw, which doctest reports as a failed test with the
// message; destructors stop every process and remove every folder they made.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/image/fake_http_client.h"
#include "agent/image/image_store.h"
#include "agent/image/manifest.h"
#include "agent/image/registries_config.h"
#include "agent/image/snapshotter.h"
#include "tests/support/process.h"

namespace reef::testing {

namespace image = reef::agent::image;

// ---- in-memory ----

class FakeRegistry {
 public:
  // Serves https://<host>/v2/...; a Bearer realm at https://auth.test/token.
  explicit FakeRegistry(std::string host = "registry.test");

  struct BuiltImage {
    image::Digest manifest;
    std::string manifest_body;
    image::Digest config;
    std::vector<image::Digest> layers;
  };
  // An image of `layers` (their content) for `platform`, stored under repo:tag, with an
  // OCI or Docker schema2 manifest.
  BuiltImage AddImage(const std::string& repo, const std::string& tag,
                      const std::vector<std::string>& layers,
                      const image::Platform& platform = {"linux", "amd64", ""},
                      bool docker_schema2 = false);
  // An index over `entries` (manifest digest and platform) stored under repo:tag.
  image::Digest AddIndex(const std::string& repo, const std::string& tag,
                         const std::vector<std::pair<BuiltImage, image::Platform>>& entries);
  void AddManifest(const std::string& repo, const std::string& reference, std::string body,
                   std::string media_type);

  void RequireBasic(image::Credentials credentials);
  // Bearer auth: the token server hands a token to `credentials` (or anyone, when empty).
  void RequireBearer(image::Credentials credentials = {});

  // Faults.
  void CorruptBlob(const image::Digest& digest);  // same size, other bytes
  void CutBlobOnce(const image::Digest& digest, size_t after_bytes);
  void FailRequests(const std::string& url_fragment, int times, int status = 503);
  void IgnoreRange(bool ignore) { ignore_range_ = ignore; }

  image::FakeHttpClient& client() { return client_; }
  const std::string& host() const { return host_; }
  // Scopes the token server was asked for, in order.
  std::vector<std::string> token_scopes() const;

 private:
  image::FakeAnswer Handle(const image::HttpRequest& request);
  image::FakeAnswer HandleToken(const image::HttpRequest& request);
  bool Authorized(const image::HttpRequest& request, image::FakeAnswer* challenge);

  const std::string host_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> blobs_;  // hex -> content
  struct StoredManifest {
    std::string body;
    std::string media_type;
  };
  std::map<std::string, StoredManifest> manifests_;  // "repo/reference" -> manifest
  std::optional<image::Credentials> basic_;
  std::optional<image::Credentials> bearer_;
  bool bearer_required_ = false;
  std::map<std::string, std::string> tokens_;  // token -> scope it grants
  std::vector<std::string> token_scopes_;
  std::map<std::string, std::string> corrupt_;  // hex -> bad content
  std::map<std::string, size_t> cut_once_;      // hex -> bytes before the cut
  std::vector<std::pair<std::string, std::pair<int, int>>> failures_;  // fragment, left, status
  bool ignore_range_ = false;
  image::FakeHttpClient client_;
};

// ---- real processes ----

// The path of `binary`; throws naming the package to install when it is not on PATH.
std::string RequireBinary(const std::string& binary, const std::string& package);

// A port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// Builds the test image (busybox-static, /bin/sh and a few applets, Cmd /bin/sh,
// Env PATH=/bin) as an OCI layout at `dir`, tag `tag`, for `arch`. Returns `dir`.
std::string BuildTestImage(const std::string& dir, const std::string& tag = "1",
                           const std::string& arch = "amd64");

// One OCI layout per test process with the test image as tag "1" (amd64) and tag
// "arm64" (the same files, configured as linux/arm64/v8), built on first use.
const std::string& SharedTestImageLayout();

// An ImageStore with a real Snapshotter (unless `unpack` is false), in a temporary
// folder.
struct ImageStoreUnderTest {
  explicit ImageStoreUnderTest(image::RegistriesConfig registries, bool unpack = true);
  TempDir dir;
  std::unique_ptr<image::Snapshotter> snapshotter;
  std::unique_ptr<image::ImageStore> store;
  std::string root() const { return dir.path() + "/content"; }
};

class TestRegistry {
 public:
  enum class Auth { kNone, kBasic, kToken };
  struct Options {
    Auth auth = Auth::kNone;
    std::string user = "reef";
    std::string password = "s3cret-pw";
    bool tls = false;  // HTTPS with a self-signed certificate for 127.0.0.1
  };
  explicit TestRegistry(Options options);
  TestRegistry() : TestRegistry(Options{}) {}
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;
  ~TestRegistry();

  // "127.0.0.1:PORT".
  const std::string& host() const { return host_; }
  // Pushes tag `tag` of the OCI layout at `layout` to repo:dest_tag with skopeo
  // (credentials when the registry needs them).
  void Push(const std::string& layout, const std::string& tag, const std::string& repo,
            const std::string& dest_tag, bool docker_schema2 = false);
  // PUTs a manifest document (an index, say) as repo:reference. Anonymous registries only.
  void PutManifest(const std::string& repo, const std::string& reference, const std::string& body,
                   const std::string& media_type);
  // The blob files of the registry's storage, for corruption tests.
  std::string BlobDataPath(const image::Digest& digest) const;
  // "scope=... user=..." for each token the token server issued.
  std::vector<std::string> TokenRequests();
  // How to reach this registry, no credentials: plain HTTP, or HTTPS trusting ca_file().
  image::RegistriesConfig Config() const;
  // The registry's self-signed certificate (PEM), with Options::tls.
  std::string ca_file() const { return dir_.path() + "/tls-cert.pem"; }

 private:
  void Start();

  Options options_;
  TempDir dir_;
  std::string host_;
  std::optional<Process> token_server_;
  std::optional<Process> registry_;
};

// A python3 server that serves the OCI layout at `layout` as repository `repo` (tags
// from index.json's ref.name) over plain HTTP, honours Range, and logs each request as
// "REQ <path> range=<Range or ->". Faults: corrupt the blob `corrupt` (one byte
// flipped), or cut the first transfer of `cut_once` halfway.
class FaultRegistry {
 public:
  struct Options {
    std::string layout = {};
    std::string repo = "busybox";
    std::string corrupt = {};   // hex digest
    std::string cut_once = {};  // hex digest
  };
  explicit FaultRegistry(Options options);
  const std::string& host() const { return host_; }
  std::vector<std::string> Requests();
  image::RegistriesConfig Config() const;

 private:
  TempDir dir_;
  std::string host_;
  std::optional<Process> server_;
};

}  // namespace reef::testing
