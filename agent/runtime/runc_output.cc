#include "agent/runtime/runc_output.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/clock.h"

namespace reef::agent::runtime {
namespace {

absl::StatusOr<OciStatus> ParseStatus(const std::string& s) {
  if (s == "creating") return OciStatus::kCreating;
  if (s == "created") return OciStatus::kCreated;
  if (s == "running") return OciStatus::kRunning;
  if (s == "paused") return OciStatus::kPaused;
  if (s == "stopped") return OciStatus::kStopped;
  return absl::InvalidArgumentError(reef::StrCat("unknown status \"", s, "\""));
}

absl::StatusOr<ContainerState> StateFromJson(const nlohmann::json& j) {
  ContainerState state;
  state.id = j.at("id").get<std::string>();
  ASSIGN_OR_RETURN(state.status, ParseStatus(j.at("status").get<std::string>()));
  state.pid = j.value("pid", 0);
  state.bundle = j.value("bundle", "");
  ASSIGN_OR_RETURN(state.created, ParseTimestamp(j.at("created").get<std::string>()));
  if (j.contains("annotations") && j["annotations"].is_object()) {
    state.annotations = j["annotations"].get<std::map<std::string, std::string>>();
  }
  return state;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

absl::StatusOr<ContainerState> ParseRuncState(std::string_view json) {
  try {
    absl::StatusOr<ContainerState> state = StateFromJson(nlohmann::json::parse(json));
    if (!state.ok()) return Annotate(state.status(), "runc state");
    return state;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(reef::StrCat("runc state: ", e.what()));
  }
}

absl::StatusOr<std::vector<ContainerState>> ParseRuncList(std::string_view json) {
  try {
    nlohmann::json j = nlohmann::json::parse(json);
    std::vector<ContainerState> out;
    if (j.is_null()) return out;
    for (const nlohmann::json& item : j) {
      absl::StatusOr<ContainerState> state = StateFromJson(item);
      if (!state.ok()) return Annotate(state.status(), "runc list");
      out.push_back(*std::move(state));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(reef::StrCat("runc list: ", e.what()));
  }
}

absl::Status RuncError(std::string_view what, std::string_view stderr_text, int exit_code) {
  std::string message;
  for (absl::string_view line :
       absl::StrSplit(reef::ToAbsl(stderr_text), '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    std::string part = !j.is_object()         ? std::string(absl::StripAsciiWhitespace(line))
                       : j["msg"].is_string() ? j["msg"].get<std::string>()
                                              : "";
    if (part.empty()) continue;
    if (!message.empty()) message += "; ";
    message += part;
  }
  if (message.empty()) message = absl::StrFormat("exited with status %d", exit_code);
  std::string text = reef::StrCat(what, ": ", message);
  // runc's words, then crun's.
  if (Contains(message, "does not exist") || Contains(message, "No such file or directory")) {
    return absl::NotFoundError(text);
  }
  if (Contains(message, "already exists") || Contains(message, "id exists")) {
    return absl::AlreadyExistsError(text);
  }
  if (Contains(message, "not running") || Contains(message, "not stopped") ||
      Contains(message, "is paused") || Contains(message, "cannot delete") ||
      Contains(message, "No such process") || Contains(message, "is not in `")) {
    return absl::FailedPreconditionError(text);
  }
  return absl::InternalError(text);
}

}  // namespace reef::agent::runtime
