#include "agent/runtime/monitor_protocol.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"

namespace reef::agent::runtime {

bool MonitorAlive(const MonitorFiles& files) {
  UniqueFd fd(::open(files.monitor_pid().c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;  // nobody holds it
  return errno == EWOULDBLOCK;
}

std::vector<std::string> MonitorOptions::ToArgs() const {
  std::vector<std::string> args = {
      "--id=" + id,
      "--bundle=" + bundle,
      "--runtime=" + runtime,
      "--runtime-root=" + runtime_root,
      "--dir=" + dir,
      "--log-path=" + log.path,
      absl::StrFormat("--log-max-bytes=%d", log.max_bytes),
      absl::StrFormat("--log-max-files=%d", log.max_files),
      absl::StrFormat("--sync-fd=%d", sync_fd),
  };
  for (const std::string& arg : run_prefix) args.push_back("--run-prefix=" + arg);
  return args;
}

absl::StatusOr<MonitorOptions> MonitorOptions::FromArgs(const std::vector<std::string>& args) {
  MonitorOptions o;
  std::vector<std::pair<std::string_view, std::string*>> strings = {
      {"id", &o.id},           {"bundle", &o.bundle},
      {"runtime", &o.runtime}, {"runtime-root", &o.runtime_root},
      {"dir", &o.dir},         {"log-path", &o.log.path}};
  for (const std::string& arg : args) {
    size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string::npos) {
      return absl::InvalidArgumentError(reef::StrCat("expected --flag=value, got \"", arg, "\""));
    }
    std::string_view name = std::string_view(arg).substr(2, eq - 2);
    std::string value = arg.substr(eq + 1);
    auto it =
        std::find_if(strings.begin(), strings.end(), [&](auto& s) { return s.first == name; });
    bool ok = true;
    if (it != strings.end()) {
      *it->second = value;
    } else if (name == "log-max-bytes") {
      ok = absl::SimpleAtoi(value, &o.log.max_bytes);
    } else if (name == "log-max-files") {
      ok = absl::SimpleAtoi(value, &o.log.max_files);
    } else if (name == "sync-fd") {
      ok = absl::SimpleAtoi(value, &o.sync_fd);
    } else if (name == "run-prefix") {
      o.run_prefix.push_back(value);
    } else {
      return absl::InvalidArgumentError(reef::StrCat("unknown flag --", name));
    }
    if (!ok) return absl::InvalidArgumentError(reef::StrCat("--", name, ": not a number: ", value));
  }
  for (const auto& [name, value] : strings) {
    if (value->empty()) return absl::InvalidArgumentError(reef::StrCat("--", name, " is required"));
  }
  return o;
}

std::string StartReportToJson(const StartReport& report) {
  nlohmann::json j;
  if (!report.error.empty()) {
    j["error"] = report.error;
  } else {
    j["pid"] = report.pid;
    j["started_at"] = absl::FormatTime(absl::RFC3339_full, report.started_at, absl::UTCTimeZone());
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

absl::StatusOr<StartReport> ParseStartReport(std::string_view json) {
  try {
    nlohmann::json j = nlohmann::json::parse(json);
    StartReport report;
    if (j.contains("error")) {
      report.error = j.at("error").get<std::string>();
      return report;
    }
    report.pid = j.at("pid").get<int>();
    ASSIGN_OR_RETURN(report.started_at, ParseTimestamp(j.at("started_at").get<std::string>()));
    return report;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(reef::StrCat("monitor's start report: ", e.what()));
  }
}

}  // namespace reef::agent::runtime
