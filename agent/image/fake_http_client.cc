#include "agent/image/fake_http_client.h"

#include "absl/strings/str_format.h"

namespace reef::agent::image {

absl::StatusOr<HttpResponse> FakeHttpClient::Do(const HttpRequest& request, BodySink* sink) {
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
  }
  FakeAnswer answer = handler_(request);
  if (!answer.transport_error.ok()) return answer.transport_error;

  HttpResponse response;
  response.status = answer.status;
  response.headers = answer.headers;
  std::string_view body = answer.body;
  if (request.method == "HEAD") body = {};
  bool cut = false;
  if (answer.cut_after && *answer.cut_after < body.size()) {
    body = body.substr(0, *answer.cut_after);
    cut = true;
  }
  if (body.size() > request.max_body_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("%s %s: answer body is larger than the %d-byte limit", request.method,
                        request.url, request.max_body_bytes));
  }
  const bool success = answer.status >= 200 && answer.status < 300;
  if (sink != nullptr && success) {
    RETURN_IF_ERROR(sink->Begin(answer.status, response.headers));
    // Two pieces, so sinks see more than one Write.
    const size_t half = body.size() / 2;
    if (half > 0) RETURN_IF_ERROR(sink->Write(body.substr(0, half)));
    if (body.size() > half) RETURN_IF_ERROR(sink->Write(body.substr(half)));
  } else if (sink != nullptr) {
    response.body = std::string(body.substr(0, kMaxErrorBodyBytes));
  } else {
    response.body = std::string(body);
  }
  if (cut) {
    return absl::UnavailableError(
        absl::StrFormat("%s %s: transfer closed with %d bytes remaining to read", request.method,
                        request.url, answer.body.size() - body.size()));
  }
  return response;
}

std::vector<HttpRequest> FakeHttpClient::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int FakeHttpClient::CountRequests(std::string_view fragment) const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const HttpRequest& r : requests_) {
    if (r.url.find(fragment) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace reef::agent::image
