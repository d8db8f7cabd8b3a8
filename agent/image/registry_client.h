#pragma once
// An OCI distribution client: resolves a reference to the image manifest for a platform
// (through an index / manifest list when there is one) and fetches blobs, from the
// endpoints RegistriesConfig gives (mirrors first, then the registry), authenticating as
// auth.h describes.
//
// Every manifest is checked against its digest (the one asked for, or the registry's
// Docker-Content-Digest) and every blob against its descriptor's digest and size before
// it is returned; a mismatch is DataLoss and the content is discarded. Transient
// failures (connection errors, 408/429/5xx) are retried with exponential backoff, and an
// interrupted blob download resumes with `Range: bytes=N-`. Answers are bounded:
// manifests 4 MiB, configs 16 MiB, blobs their descriptor's size.
//
// Thread safety: all methods may be called from any thread.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/image/auth.h"
#include "agent/image/http_client.h"
#include "agent/image/manifest.h"
#include "agent/image/platform.h"
#include "agent/image/reference.h"
#include "agent/image/registries_config.h"
#include "common/clock.h"

namespace reef::agent::image {

inline constexpr uint64_t kMaxManifestBytes = 4 << 20;
inline constexpr uint64_t kMaxConfigBytes = 16 << 20;

struct RegistryClientOptions {
  const Clock* clock = &Clock::Real();  // token lifetimes
  int max_attempts = 5;                 // per endpoint, for transient failures
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration stall_timeout = absl::Seconds(30);
};

// The manifest a reference resolved to, and where it came from (so that the image's
// blobs are fetched from the same endpoint first).
struct ResolvedManifest {
  Reference reference;
  Digest digest;      // of the platform's image manifest
  std::string bytes;  // the manifest document, verified
  Manifest manifest;
  std::optional<Digest> index_digest;       // when the reference named an index
  std::vector<RegistryEndpoint> endpoints;  // the one that answered first
  std::optional<Credentials> credentials;   // for the registry itself (pull secrets)
};

class RegistryClient {
 public:
  // `http` must outlive the client.
  static absl::StatusOr<std::unique_ptr<RegistryClient>> Open(HttpClient* http,
                                                              RegistriesConfig config,
                                                              RegistryClientOptions options = {});
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;
  ~RegistryClient();

  // Fetches the reference's manifest; for an index, the entry for `platform`.
  // `credentials` (an image pull secret) apply to the registry itself and take
  // precedence over the configured ones; mirrors use their configured credentials.
  absl::StatusOr<ResolvedManifest> Resolve(const Reference& reference, const Platform& platform,
                                           const std::optional<Credentials>& credentials);

  // A small blob (a config) of the resolved image, in memory, verified.
  absl::StatusOr<std::string> FetchBlob(const ResolvedManifest& image, const Descriptor& blob,
                                        uint64_t max_bytes);

  // Downloads a blob of the resolved image into `path`, resuming the partial content
  // already there. OK means `path` holds exactly the blob. DataLoss (content does not
  // match the digest or size) deletes `path`; other failures keep it for a later
  // resume.
  absl::Status DownloadBlob(const ResolvedManifest& image, const Descriptor& blob,
                            const std::string& path);

 private:
  class Impl;
  explicit RegistryClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace reef::agent::image
