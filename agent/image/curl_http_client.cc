// HttpClient over libcurl's easy interface. Easy handles are pooled: curl_easy_reset()
// keeps a handle's connection cache, so the many small requests of a pull (token,
// manifests, config, layers) reuse one TLS connection per registry.

#include <curl/curl.h>

#include <algorithm>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "agent/image/http_client.h"

namespace reef::agent::image {
namespace {

constexpr size_t kMaxIdleHandles = 8;
constexpr long kMaxRedirects = 5;

// What the callbacks of one transfer share.
struct Transfer {
  CURL* curl = nullptr;
  const HttpRequest* request = nullptr;
  BodySink* sink = nullptr;
  HttpResponse response;
  bool sink_started = false;
  uint64_t body_bytes = 0;
  absl::Status error;  // set by a callback that aborted the transfer
};

int64_t ResponseCode(CURL* curl) {
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

bool IsSuccess(int64_t status) { return status >= 200 && status < 300; }
bool IsRedirect(int64_t status) { return status >= 300 && status < 400; }

size_t OnHeader(char* data, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nitems;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new answer (after a redirect or a 100 Continue): keep only the final one's.
    t->response.headers.Clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::string value(absl::StripAsciiWhitespace(ToAbsl(line.substr(colon + 1))));
  t->response.headers.Add(std::move(name), std::move(value));
  return n;
}

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  const int64_t status = ResponseCode(t->curl);
  // The body of a redirect being followed is not the answer.
  if (t->request->follow_redirects && IsRedirect(status)) return n;
  t->body_bytes += n;
  if (t->body_bytes > t->request->max_body_bytes) {
    t->error = absl::ResourceExhaustedError(
        absl::StrFormat("%s %s: answer body is larger than the %d-byte limit", t->request->method,
                        t->request->url, t->request->max_body_bytes));
    return CURL_WRITEFUNC_ERROR;
  }
  std::string_view chunk(data, n);
  if (t->sink != nullptr && IsSuccess(status)) {
    if (!t->sink_started) {
      t->sink_started = true;
      t->error = t->sink->Begin(static_cast<int>(status), t->response.headers);
      if (!t->error.ok()) return CURL_WRITEFUNC_ERROR;
    }
    t->error = t->sink->Write(chunk);
    return t->error.ok() ? n : CURL_WRITEFUNC_ERROR;
  }
  const size_t cap = t->sink != nullptr ? kMaxErrorBodyBytes : t->request->max_body_bytes;
  if (t->response.body.size() < cap) {
    t->response.body.append(chunk.substr(0, cap - t->response.body.size()));
  }
  return n;
}

absl::Status CurlError(const HttpRequest& request, CURLcode code, const char* detail) {
  const std::string message =
      absl::StrFormat("%s %s: %s", request.method, request.url,
                      detail[0] != '\0' ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(message);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return absl::FailedPreconditionError(message);
    case CURLE_TOO_MANY_REDIRECTS:
      return absl::FailedPreconditionError(message);
    default:
      // Resolution, connection, timeouts, cut transfers, TLS handshakes: the link.
      return absl::UnavailableError(message);
  }
}

long Millis(absl::Duration d) { return static_cast<long>(absl::ToInt64Milliseconds(d)); }

class CurlHttpClient final : public HttpClient {
 public:
  ~CurlHttpClient() override {
    absl::MutexLock lock(&mu_);
    for (CURL* curl : idle_) curl_easy_cleanup(curl);
  }

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request, BodySink* sink) override {
    if (request.method != "GET" && request.method != "HEAD") {
      return absl::InvalidArgumentError(
          absl::StrFormat("HTTP method %s is not supported", request.method));
    }
    CURL* curl = Acquire();
    if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
    Transfer t;
    t.curl = curl;
    t.request = &request;
    t.sink = sink;
    char error_buffer[CURL_ERROR_SIZE] = "";

    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers.entries()) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "reef-agent");
    if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    // Custom Authorization headers are not sent on to another host after a redirect
    // (libcurl's default), so a registry token never reaches the CDN.
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, kMaxRedirects);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, Millis(request.connect_timeout));
    if (request.stall_timeout > absl::ZeroDuration()) {
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(
          curl, CURLOPT_LOW_SPEED_TIME,
          std::max(1L, static_cast<long>(absl::ToInt64Seconds(request.stall_timeout))));
    }
    if (request.total_timeout > absl::ZeroDuration()) {
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, Millis(request.total_timeout));
    }
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, request.tls.verify ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, request.tls.verify ? 2L : 0L);
    if (!request.tls.ca_file.empty())
      curl_easy_setopt(curl, CURLOPT_CAINFO, request.tls.ca_file.c_str());
    if (!request.tls.cert_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, request.tls.cert_file.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, request.tls.key_file.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);

    const CURLcode rc = curl_easy_perform(curl);
    t.response.status = static_cast<int>(ResponseCode(curl));
    curl_slist_free_all(headers);
    Release(curl);

    if (!t.error.ok()) return t.error;
    if (rc != CURLE_OK) return CurlError(request, rc, error_buffer);
    // A 2xx answer with an empty body still starts the sink, so it sees every answer.
    if (sink != nullptr && IsSuccess(t.response.status) && !t.sink_started) {
      RETURN_IF_ERROR(sink->Begin(t.response.status, t.response.headers));
    }
    return std::move(t.response);
  }

 private:
  CURL* Acquire() {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        CURL* curl = idle_.back();
        idle_.pop_back();
        curl_easy_reset(curl);
        return curl;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* curl) {
    // Drop the error buffer pointer: it lives on the caller's stack.
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    absl::MutexLock lock(&mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(curl);
    } else {
      curl_easy_cleanup(curl);
    }
  }

  absl::Mutex mu_;
  std::vector<CURL*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Open() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    return absl::InternalError(absl::StrFormat("curl_global_init: %s", curl_easy_strerror(init)));
  }
  return std::unique_ptr<HttpClient>(new CurlHttpClient());
}

}  // namespace reef::agent::image
