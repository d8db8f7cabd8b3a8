#include "agent/image/http_client.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace reef::agent::image {

void HttpHeaders::Add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> HttpHeaders::Get(std::string_view name) const {
  for (const auto& [k, v] : entries_) {
    if (absl::EqualsIgnoreCase(ToAbsl(k), ToAbsl(name))) return v;
  }
  return std::nullopt;
}

std::vector<std::string> HttpHeaders::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : entries_) {
    if (absl::EqualsIgnoreCase(ToAbsl(k), ToAbsl(name))) out.push_back(v);
  }
  return out;
}

std::string_view HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

namespace {

constexpr size_t kMaxDetailChars = 300;

// The distribution spec's error document: {"errors":[{"code":..,"message":..}]}; else
// the first line of the body.
std::string ErrorDetail(const std::string& body) {
  std::vector<std::string> parts;
  try {
    const nlohmann::json doc = nlohmann::json::parse(body);
    for (const auto& error : doc.at("errors")) {
      std::string part = error.value("code", "");
      const std::string message = error.value("message", "");
      if (!message.empty()) part += part.empty() ? message : ": " + message;
      if (!part.empty()) parts.push_back(part);
    }
  } catch (const std::exception&) {
    std::string line = body.substr(0, body.find('\n'));
    if (!line.empty()) parts.push_back(line);
  }
  std::string detail = absl::StrJoin(parts, "; ");
  if (detail.size() > kMaxDetailChars) detail = detail.substr(0, kMaxDetailChars) + "...";
  return detail;
}

absl::StatusCode CodeForHttp(int status) {
  switch (status) {
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 408:
    case 429:
      return absl::StatusCode::kUnavailable;
    case 416:
      return absl::StatusCode::kOutOfRange;
    default:
      return status >= 500 ? absl::StatusCode::kUnavailable : absl::StatusCode::kFailedPrecondition;
  }
}

}  // namespace

absl::Status HttpError(const HttpRequest& request, const HttpResponse& response) {
  std::string message = absl::StrFormat("%s %s: %d", request.method, request.url, response.status);
  if (std::string_view reason = HttpReason(response.status); !reason.empty()) {
    message += reef::StrCat(" ", reason);
  }
  if (std::string detail = ErrorDetail(response.body); !detail.empty()) {
    message += ": " + detail;
  }
  return absl::Status(CodeForHttp(response.status), message);
}

}  // namespace reef::agent::image
