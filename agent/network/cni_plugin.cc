#include "agent/network/cni_plugin.h"

#include <unistd.h>

#include "agent/runtime/subprocess.h"
#include "common/log.h"

namespace reef::agent::network {
namespace {

constexpr int kCniTryAgainLater = 11;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

absl::Status CheckPlugins(const std::string& bin_dir, const std::vector<std::string>& types) {
  for (const std::string& type : types) {
    std::string path = reef::StrCat(bin_dir, "/", type);
    if (::access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(reef::StrCat(
          "CNI plugin ", type, " not found at ", path,
          " (install the Debian package containernetworking-plugins, or set the CNI bin dir)"));
    }
  }
  return absl::OkStatus();
}

std::string CniErrorMessage(int exit_code, const std::string& out, const std::string& err) {
  nlohmann::json error = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (error.is_object() && error.contains("msg") && error["msg"].is_string()) {
    std::string message = error["msg"].get<std::string>();
    if (error.contains("details") && error["details"].is_string() &&
        !error["details"].get<std::string>().empty()) {
      message += ": " + error["details"].get<std::string>();
    }
    return message;
  }
  if (!Trim(err).empty()) return Trim(err);
  if (!Trim(out).empty()) return Trim(out);
  return reef::StrCat("exit code ", exit_code, " and no message");
}

absl::StatusOr<nlohmann::json> RunCniPlugin(const std::string& bin_dir, const CniCall& call,
                                            const nlohmann::json& config, absl::Duration timeout) {
  std::string type = config.value("type", "");
  std::string what = reef::StrCat(type, " ", call.command);
  runtime::CommandOptions options;
  options.timeout = timeout;
  options.stdin_data = config.dump();
  // CNI_PATH: a chained or IPAM plugin (bridge -> host-local) is looked up there.
  options.env = {{"CNI_COMMAND", call.command}, {"CNI_CONTAINERID", call.container_id},
                 {"CNI_NETNS", call.netns},     {"CNI_IFNAME", call.ifname},
                 {"CNI_PATH", bin_dir},         {"CNI_ARGS", ""}};
  absl::Time start = absl::Now();
  absl::StatusOr<runtime::CommandResult> result =
      runtime::RunCommand({reef::StrCat(bin_dir, "/", type)}, options);
  if (!result.ok()) return Annotate(result.status(), what);
  REEF_LOG(Debug) << "cni: " << what << " " << call.container_id << " took "
                  << absl::FormatDuration(absl::Now() - start);
  if (result->exit_code != 0) {
    nlohmann::json error = nlohmann::json::parse(result->out, nullptr, false);
    bool retry = error.is_object() && error.contains("code") &&
                 error["code"].is_number_integer() && error["code"].get<int>() == kCniTryAgainLater;
    std::string message = reef::StrCat(what, ": ", CniErrorMessage(result->exit_code, result->out, result->err));
    return retry ? absl::UnavailableError(message) : absl::InternalError(message);
  }
  if (Trim(result->out).empty()) return nlohmann::json();
  nlohmann::json parsed = nlohmann::json::parse(result->out, nullptr, false);
  if (parsed.is_discarded()) {
    return absl::InternalError(reef::StrCat(what, ": the result is not JSON: ", Trim(result->out)));
  }
  return parsed;
}

}  // namespace reef::agent::network
