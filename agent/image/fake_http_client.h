#pragma once
// An HttpClient for tests: a function answers each request, and the requests are kept
// for the test to inspect. It keeps the real client's contract (2xx bodies to the sink,
// max_body_bytes, Unavailable for a cut transfer), so flows tested against it behave
// the same over libcurl.

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/image/http_client.h"

namespace reef::agent::image {

struct FakeAnswer {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // A transport failure to return instead of an answer (e.g. connection refused).
  absl::Status transport_error;
  // Cuts the connection after this many body bytes (Unavailable), as a flaky link does.
  std::optional<size_t> cut_after;
};

class FakeHttpClient final : public HttpClient {
 public:
  using Handler = std::function<FakeAnswer(const HttpRequest& request)>;

  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request, BodySink* sink) override;
  using HttpClient::Do;

  // Every request so far, in order.
  std::vector<HttpRequest> requests() const;
  // How many requests so far had a URL containing `fragment`.
  int CountRequests(std::string_view fragment) const;

 private:
  const Handler handler_;
  mutable absl::Mutex mu_;
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reef::agent::image
