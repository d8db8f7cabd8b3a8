#pragma once
// The HTTP seam of the image client: one method that performs a GET or HEAD and hands
// back the status and headers, with the body either kept in memory (capped) or streamed
// to a BodySink. HttpClient::Open() gives the libcurl implementation; FakeHttpClient
// (fake_http_client.h) answers from a function, for tests of the flows above it.
//
// Thread safety: Do() may be called from many threads at once.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/status.h"

namespace reef::agent::image {

// Header names compare case-insensitively (RFC 9110); a name may repeat.
class HttpHeaders {
 public:
  void Add(std::string name, std::string value);
  // The first value of `name`.
  std::optional<std::string> Get(std::string_view name) const;
  std::vector<std::string> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Clear() { entries_.clear(); }
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

struct TlsOptions {
  bool verify = true;     // false only for a registry configured insecure_skip_verify
  std::string ca_file;    // extra CA bundle (PEM); empty: the system's
  std::string cert_file;  // client certificate (PEM), with key_file
  std::string key_file;
};

inline constexpr uint64_t kDefaultMaxBodyBytes = 4 << 20;

struct HttpRequest {
  std::string method = "GET";  // "GET" or "HEAD"
  std::string url;             // http:// or https://
  HttpHeaders headers;
  TlsOptions tls;
  absl::Duration connect_timeout = absl::Seconds(10);
  // Aborts a transfer that stalls (under 1 byte/s) this long. A whole-request timeout
  // would cut a large layer on a slow link, which is exactly what edge boxes have.
  absl::Duration stall_timeout = absl::Seconds(30);
  absl::Duration total_timeout = absl::ZeroDuration();  // zero: none
  // The most body bytes accepted; more is a ResourceExhausted error.
  uint64_t max_body_bytes = kDefaultMaxBodyBytes;
  bool follow_redirects = true;  // registries redirect blobs to object storage / CDNs
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // of the final answer, after redirects
  // The body when no sink was given, or the first bytes of a non-2xx answer's body
  // (an error document) when one was.
  std::string body;
};

// Receives the body of a 2xx answer.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Called exactly once per 2xx answer, before any Write, with its status and headers
  // (206 for a range). An error aborts the transfer and is what Do() returns.
  virtual absl::Status Begin(int status, const HttpHeaders& headers) = 0;
  // Called with each piece of the body, in order. An error aborts the transfer.
  virtual absl::Status Write(std::string_view chunk) = 0;
};

class HttpClient {
 public:
  // The libcurl implementation (curl_http_client.cc).
  static absl::StatusOr<std::unique_ptr<HttpClient>> Open();

  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  virtual ~HttpClient() = default;

  // Performs `request`. Any HTTP status is a response, not an error. Errors are about
  // the transfer: Unavailable when the connection fails, times out or is cut (trying
  // again may help; the sink has what arrived), FailedPrecondition when the peer's TLS
  // certificate is not trusted, ResourceExhausted when the body exceeds
  // max_body_bytes, InvalidArgument for a bad request, or the sink's own error.
  virtual absl::StatusOr<HttpResponse> Do(const HttpRequest& request, BodySink* sink) = 0;
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) { return Do(request, nullptr); }
};

// How much of a non-2xx body is kept when a sink was given: enough for an error message.
inline constexpr size_t kMaxErrorBodyBytes = 64 << 10;

// The canonical reason phrase of a status ("Not Found"), for messages.
std::string_view HttpReason(int status);

// The Status for an unexpected answer: "GET <url>: 404 Not Found: MANIFEST_UNKNOWN:
// manifest unknown" (the registry's error document summarised when there is one).
// Codes: 401 Unauthenticated, 403 PermissionDenied, 404 NotFound, 408/429/5xx
// Unavailable (worth retrying), 416 OutOfRange, other 4xx FailedPrecondition.
absl::Status HttpError(const HttpRequest& request, const HttpResponse& response);

}  // namespace reef::agent::image
