#include "agent/image/registry_client.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/image/blob_file_sink.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

struct FetchedManifest {
  std::string bytes;
  Digest digest;
  std::string media_type;
};

// Checks a manifest against what the request expected: the digest it was asked by (or
// the registry's Docker-Content-Digest for a tag) and the size an index gave.
absl::StatusOr<Digest> VerifyManifest(std::string_view what, const std::string& bytes,
                                      const HttpHeaders& headers, const Digest& expected,
                                      int64_t expected_size) {
  const Digest got = Digest::Of(bytes);
  if (!expected.empty() && got != expected) return DigestMismatch(what, expected, got);
  if (std::optional<std::string> header = headers.Get("Docker-Content-Digest")) {
    // Another algorithm (sha512) cannot be checked here; the computed sha256 stands.
    if (auto claimed = Digest::Parse(*header); claimed.ok() && *claimed != got) {
      return DigestMismatch(what, *claimed, got);
    }
  }
  if (expected_size >= 0 && bytes.size() != static_cast<uint64_t>(expected_size)) {
    return absl::DataLossError(
        absl::StrFormat("%s: %d bytes, the index says %d", what, bytes.size(), expected_size));
  }
  return got;
}

// The endpoint that answered goes first, so the image's blobs come from it too.
std::vector<RegistryEndpoint> Prefer(std::vector<RegistryEndpoint> endpoints, size_t first) {
  std::rotate(endpoints.begin(), endpoints.begin() + first, endpoints.begin() + first + 1);
  return endpoints;
}

}  // namespace

class RegistryClient::Impl {
 public:
  Impl(HttpClient* http, RegistriesConfig config, RegistryClientOptions options)
      : http_(http),
        config_(std::move(config)),
        options_(options),
        auth_(http, &config_, options.clock) {}

  absl::StatusOr<ResolvedManifest> Resolve(const Reference& ref, const Platform& platform,
                                           const std::optional<Credentials>& credentials) {
    ResolvedManifest out;
    out.reference = ref;
    out.credentials = credentials;
    const std::vector<RegistryEndpoint> endpoints = config_.EndpointsFor(ref.domain());
    std::optional<size_t> used;
    absl::Status status = OverEndpoints(endpoints, [&](size_t i) {
      absl::Status s =
          ResolveAt(endpoints[i], ref, platform, CredentialsFor(endpoints[i], credentials), out);
      if (s.ok()) used = i;
      return s;
    });
    if (!status.ok()) return status;
    out.endpoints = Prefer(endpoints, *used);
    return out;
  }

  absl::StatusOr<std::string> FetchBlob(const ResolvedManifest& image, const Descriptor& blob,
                                        uint64_t max_bytes) {
    const std::string what = reef::StrCat("blob ", blob.digest.ToString());
    if (static_cast<uint64_t>(blob.size) > max_bytes) {
      return absl::InvalidArgumentError(SizeLimitMessage(what, blob.size, max_bytes));
    }
    std::string bytes;
    absl::Status status = OverEndpoints(image.endpoints, [&](size_t i) {
      const RegistryEndpoint& e = image.endpoints[i];
      return Retry([&](bool*) -> absl::Status {
        HttpRequest request = NewRequest(e, BlobUrl(e, image.reference, blob.digest));
        // One byte more than the descriptor says, so an overlong blob is seen as such.
        request.max_body_bytes = blob.size + 1;
        auto response =
            Send(e, image.reference, CredentialsFor(e, image.credentials), request, nullptr);
        if (!response.ok()) return response.status();
        if (response->status != 200) return HttpError(request, *response);
        const Digest got = Digest::Of(response->body);
        if (got != blob.digest) return DigestMismatch(what, blob.digest, got);
        if (response->body.size() != static_cast<uint64_t>(blob.size)) {
          return absl::DataLossError(absl::StrFormat("%s: %d bytes, the manifest says %d", what,
                                                     response->body.size(), blob.size));
        }
        bytes = std::move(response->body);
        return absl::OkStatus();
      });
    });
    if (!status.ok()) return status;
    return bytes;
  }

  absl::Status DownloadBlob(const ResolvedManifest& image, const Descriptor& blob,
                            const std::string& path) {
    return OverEndpoints(image.endpoints, [&](size_t i) {
      const RegistryEndpoint& e = image.endpoints[i];
      const Credentials credentials = CredentialsFor(e, image.credentials);
      ASSIGN_OR_RETURN(std::unique_ptr<BlobFileSink> sink, BlobFileSink::Open(path, blob));
      return Retry([&](bool* progressed) -> absl::Status {
        if (sink->complete()) return sink->Finish();
        const uint64_t start = sink->offset();
        HttpRequest request = NewRequest(e, BlobUrl(e, image.reference, blob.digest));
        if (start > 0) request.headers.Add("Range", absl::StrFormat("bytes=%d-", start));
        request.max_body_bytes = blob.size + 1;
        auto response = Send(e, image.reference, credentials, request, sink.get());
        *progressed = sink->offset() > start;
        if (!response.ok()) return response.status();
        if (response->status == 416) {
          // The server cannot serve from where our file ends: start over.
          RETURN_IF_ERROR(sink->Restart());
          return absl::UnavailableError(HttpError(request, *response).message());
        }
        if (response->status != 200 && response->status != 206) {
          return HttpError(request, *response);
        }
        return sink->Finish();
      });
    });
  }

 private:
  Credentials CredentialsFor(const RegistryEndpoint& e, const std::optional<Credentials>& pull) {
    if (pull && !e.is_mirror) return *pull;
    return config_.ConfigFor(e.host).auth;
  }

  HttpRequest NewRequest(const RegistryEndpoint& e, std::string url) {
    HttpRequest request;
    request.url = std::move(url);
    request.tls = config_.ConfigFor(e.host).tls;
    request.connect_timeout = options_.connect_timeout;
    request.stall_timeout = options_.stall_timeout;
    return request;
  }

  static std::string BlobUrl(const RegistryEndpoint& e, const Reference& ref,
                             const Digest& digest) {
    return reef::StrCat(e.api_root, "/", ref.path(), "/blobs/", digest.ToString());
  }

  // One request with authentication: a 401 teaches the Authorizer the challenge and the
  // request goes again, once, with what it returns.
  absl::StatusOr<HttpResponse> Send(const RegistryEndpoint& e, const Reference& ref,
                                    const Credentials& credentials, HttpRequest request,
                                    BodySink* sink) {
    const std::string scope = PullScope(ref.path());
    ASSIGN_OR_RETURN(std::string authorization, auth_.Authorization(e.host, scope, credentials));
    HttpRequest first = request;
    if (!authorization.empty()) first.headers.Add("Authorization", authorization);
    ASSIGN_OR_RETURN(HttpResponse response, http_->Do(first, sink));
    if (response.status != 401) return response;
    auto retry_with =
        auth_.OnUnauthorized(e.host, scope, credentials, response.headers, authorization);
    if (!retry_with.ok()) return Annotate(retry_with.status(), reef::StrCat("GET ", request.url));
    request.headers.Add("Authorization", *retry_with);
    ASSIGN_OR_RETURN(HttpResponse retried, http_->Do(request, sink));
    if (retried.status != 401) return retried;
    // Refused again: say why, from the registry's challenge (insufficient_scope,
    // invalid_token) or from what we sent.
    std::string why;
    for (const AuthChallenge& c :
         ParseAuthChallenges(retried.headers.Get("WWW-Authenticate").value_or(""))) {
      if (auto error = c.params.find("error"); error != c.params.end()) why = error->second;
    }
    if (why.empty() && retry_with->starts_with("Basic ")) {
      why = absl::StrFormat("refused the credentials of user \"%s\"", credentials.username);
    }
    absl::Status refused = HttpError(request, retried);
    if (why.empty()) return refused;
    return absl::UnauthenticatedError(reef::StrCat(refused.message(), " (", why, ")"));
  }

  // Runs `attempt` until it succeeds, fails for good, or max_attempts transient
  // failures (Unavailable) in a row; an attempt that moved a download forward does not
  // count, so a flaky link that keeps cutting a large layer still gets it all.
  absl::Status Retry(const std::function<absl::Status(bool* progressed)>& attempt) {
    absl::Duration backoff = options_.initial_backoff;
    int failures = 0;
    while (true) {
      bool progressed = false;
      absl::Status status = attempt(&progressed);
      if (status.ok() || !absl::IsUnavailable(status)) return status;
      if (progressed) {
        failures = 0;
        backoff = options_.initial_backoff;
      }
      if (++failures >= options_.max_attempts) {
        return Annotate(status, absl::StrFormat("gave up after %d attempts", failures));
      }
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  // Tries `fn` on each endpoint in order until one succeeds. The error names every
  // endpoint tried; its code is the registry's own (the last endpoint's).
  absl::Status OverEndpoints(const std::vector<RegistryEndpoint>& endpoints,
                             const std::function<absl::Status(size_t)>& fn) {
    std::vector<std::string> failures;
    absl::Status last;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      last = fn(i);
      if (last.ok()) return last;
      if (endpoints.size() > 1) {
        failures.push_back(absl::StrFormat("%s%s: %s", endpoints[i].is_mirror ? "mirror " : "",
                                           endpoints[i].host, last.message()));
      }
    }
    if (failures.empty()) return last;
    return absl::Status(last.code(), absl::StrJoin(failures, "; "));
  }

  absl::StatusOr<FetchedManifest> FetchManifest(const RegistryEndpoint& e, const Reference& ref,
                                                const Credentials& credentials,
                                                int64_t expected_size) {
    FetchedManifest out;
    absl::Status status = Retry([&](bool*) -> absl::Status {
      HttpRequest request = NewRequest(
          e, reef::StrCat(e.api_root, "/", ref.path(), "/manifests/", ref.ManifestReference()));
      request.headers.Add("Accept", ManifestAcceptHeader());
      request.max_body_bytes = kMaxManifestBytes;
      auto response = Send(e, ref, credentials, request, nullptr);
      if (absl::IsResourceExhausted(response.status())) {
        return absl::InvalidArgumentError(
            reef::StrCat("manifest ", ref.ManifestReference(), ": larger than the 4 MiB limit"));
      }
      if (!response.ok()) return response.status();
      if (response->status != 200) return HttpError(request, *response);
      const std::string what = reef::StrCat("manifest ", ref.ManifestReference());
      ASSIGN_OR_RETURN(out.digest, VerifyManifest(what, response->body, response->headers,
                                                  ref.digest(), expected_size));
      auto type = DetectManifestMediaType(response->body,
                                          response->headers.Get("Content-Type").value_or(""));
      if (!type.ok()) return Annotate(type.status(), what);
      out.media_type = *std::move(type);
      out.bytes = std::move(response->body);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return out;
  }

  absl::Status ResolveAt(const RegistryEndpoint& e, const Reference& ref, const Platform& platform,
                         const Credentials& credentials, ResolvedManifest& out) {
    ASSIGN_OR_RETURN(FetchedManifest top, FetchManifest(e, ref, credentials, -1));
    FetchedManifest chosen;
    out.index_digest.reset();
    if (IsIndexMediaType(top.media_type)) {
      auto index = ParseIndex(top.bytes);
      if (!index.ok())
        return Annotate(index.status(), reef::StrCat("index ", top.digest.ToString()));
      ASSIGN_OR_RETURN(Descriptor entry, SelectPlatform(*index, platform));
      ASSIGN_OR_RETURN(chosen,
                       FetchManifest(e, ref.AtDigest(entry.digest), credentials, entry.size));
      if (!IsManifestMediaType(chosen.media_type)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("index %s: entry %s is not an image manifest", top.digest.ToString(),
                            entry.digest.ToString()));
      }
      out.index_digest = top.digest;
    } else {
      chosen = std::move(top);
    }
    auto manifest = ParseManifest(chosen.bytes);
    if (!manifest.ok()) {
      return Annotate(manifest.status(), reef::StrCat("manifest ", chosen.digest.ToString()));
    }
    out.manifest = *std::move(manifest);
    out.digest = chosen.digest;
    out.bytes = std::move(chosen.bytes);
    return absl::OkStatus();
  }

  HttpClient* const http_;
  const RegistriesConfig config_;
  const RegistryClientOptions options_;
  Authorizer auth_;
};

absl::StatusOr<std::unique_ptr<RegistryClient>> RegistryClient::Open(
    HttpClient* http, RegistriesConfig config, RegistryClientOptions options) {
  if (http == nullptr) return absl::InvalidArgumentError("RegistryClient: no HttpClient");
  if (options.max_attempts < 1) options.max_attempts = 1;
  return std::unique_ptr<RegistryClient>(
      new RegistryClient(std::make_unique<Impl>(http, std::move(config), options)));
}

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryClient::~RegistryClient() = default;

absl::StatusOr<ResolvedManifest> RegistryClient::Resolve(
    const Reference& reference, const Platform& platform,
    const std::optional<Credentials>& credentials) {
  auto resolved = impl_->Resolve(reference, platform, credentials);
  if (!resolved.ok()) return Annotate(resolved.status(), "fetch manifest");
  return resolved;
}

absl::StatusOr<std::string> RegistryClient::FetchBlob(const ResolvedManifest& image,
                                                      const Descriptor& blob, uint64_t max_bytes) {
  return impl_->FetchBlob(image, blob, max_bytes);
}

absl::Status RegistryClient::DownloadBlob(const ResolvedManifest& image, const Descriptor& blob,
                                          const std::string& path) {
  return impl_->DownloadBlob(image, blob, path);
}

}  // namespace reef::agent::image
