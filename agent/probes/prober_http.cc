// httpGet probes over libcurl, as the kubelet's (pkg/probe/http): a fresh connection
// per probe, no proxy, the certificate not checked, 200-399 = success, redirects
// followed only on the same host, at most 10 KiB of the body read.

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "agent/probes/handlers.h"

namespace reef::agent::probes {
namespace {

constexpr size_t kMaxBody = 10 * 1024;
constexpr int kMaxRedirects = 10;
// Health endpoints tell probes apart by this prefix.
constexpr char kUserAgent[] = "kube-probe/reef";

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
template <typename T>
using CurlPtr = std::unique_ptr<T, CurlDeleter>;

struct Body {
  std::string text;
  bool truncated = false;  // we stopped reading on purpose
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  Body* body = static_cast<Body*>(user);
  size_t n = size * count;
  if (body->text.size() + n > kMaxBody) {
    body->truncated = true;
    return 0;  // aborts the transfer: the status line is all we need
  }
  body->text.append(data, n);
  return n;
}

// The host of an absolute URL, lower case ("" when it does not parse).
std::string HostOf(const std::string& url) {
  CurlPtr<CURLU> u(curl_url());
  char* host = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    return "";
  }
  std::string out = absl::AsciiStrToLower(host);
  curl_free(host);
  return out;
}

// "dial tcp 10.88.0.5:80: connect: connection refused": the words of Go's net package.
std::string DialError(CURL* curl, const std::string& url) {
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  CurlPtr<CURLU> u(curl_url());
  char* host = nullptr;
  char* port = nullptr;
  std::string address = url;
  if (u && curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    address = reef::StrCat(host, ":", port);
  }
  curl_free(host);
  curl_free(port);
  std::string reason = os_errno != 0 ? std::strerror(static_cast<int>(os_errno)) : "failed";
  if (!reason.empty()) reason[0] = absl::ascii_tolower(static_cast<unsigned char>(reason[0]));
  return reef::StrCat("dial tcp ", address, ": connect: ", reason);
}

// The request's headers as the kubelet sends them: the probe's own, plus a
// User-Agent and "Accept: */*" unless it names them (an empty Accept drops it).
CurlPtr<curl_slist> Headers(const HttpGetRequest& request) {
  curl_slist* list = nullptr;
  bool user_agent = false, accept = false;
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "User-Agent")) user_agent = true;
    if (absl::EqualsIgnoreCase(name, "Accept")) accept = true;
    // curl's syntax: "Name:" removes a header, "Name;" sends it empty.
    std::string line = value.empty() && !absl::EqualsIgnoreCase(name, "Accept")
                           ? reef::StrCat(name, ";")
                           : reef::StrCat(name, ": ", value);
    list = curl_slist_append(list, line.c_str());
  }
  if (!user_agent) list = curl_slist_append(list, reef::StrCat("User-Agent: ", kUserAgent).c_str());
  if (!accept) list = curl_slist_append(list, "Accept: */*");
  return CurlPtr<curl_slist>(list);
}

}  // namespace

ProbeOutcome HttpGetProbe(const HttpGetRequest& request, absl::Duration timeout) {
  // Once per process, before any handle; thread-safe as a static's initialisation.
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    return ProbeOutcome::Error(reef::StrCat("curl_global_init: ", curl_easy_strerror(init)));
  }
  const std::string scheme = absl::AsciiStrToLower(request.scheme);
  if (scheme != "http" && scheme != "https") {
    return ProbeOutcome::Error(reef::StrCat("unsupported scheme: ", request.scheme));
  }
  std::string path = request.path;
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  std::string url = reef::StrCat(scheme, "://", JoinHostPort(request.host, request.port), path);
  const std::string first_host = HostOf(url);
  CurlPtr<curl_slist> headers = Headers(request);
  const absl::Time deadline = absl::Now() + timeout;

  for (int redirects = 0;; ++redirects) {
    CurlPtr<CURL> curl(curl_easy_init());
    if (!curl) return ProbeOutcome::Error("curl_easy_init failed");
    const std::string get = absl::StrFormat("Get \"%s\"", url);
    long left_ms = std::max<long>(1, absl::ToInt64Milliseconds(deadline - absl::Now()));
    char error_buffer[CURL_ERROR_SIZE] = "";
    Body body;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(c, CURLOPT_PROXY, "");     // not even from http_proxy
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // we decide, host by host
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c);

    if (rc == CURLE_WRITE_ERROR && body.truncated) rc = CURLE_OK;
    if (rc == CURLE_COULDNT_CONNECT) {
      return ProbeOutcome::Failure(reef::StrCat(get, ": ", DialError(c, url)));
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return ProbeOutcome::Failure(reef::StrCat(
          get, ": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"));
    }
    if (rc != CURLE_OK) {
      return ProbeOutcome::Failure(
          reef::StrCat(get, ": ", error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return ProbeOutcome::Success(std::move(body.text));
    if (status < 300 || status >= 400) {
      return ProbeOutcome::Failure(absl::StrFormat("HTTP probe failed with statuscode: %d", status));
    }
    // A redirect: the kubelet follows it on the same host only; elsewhere, or with
    // no Location, the 3xx answer itself counts as success.
    char* location = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
    if (location == nullptr || HostOf(location) != first_host) {
      return ProbeOutcome::Success(
          reef::StrCat("Probe terminated redirects, Response body: ", body.text));
    }
    if (redirects == kMaxRedirects) {
      return ProbeOutcome::Failure(
          absl::StrFormat("%s: stopped after %d redirects", get, kMaxRedirects));
    }
    url = location;
  }
}

}  // namespace reef::agent::probes
