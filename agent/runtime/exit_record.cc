#include "agent/runtime/exit_record.h"

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/files.h"

namespace reef::agent::runtime {
namespace {

constexpr uint64_t kMaxExitFile = 64 * 1024;

std::string FormatNanos(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", t, absl::UTCTimeZone());
}

}  // namespace

ExitRecord RecordFromWaitStatus(int wait_status, bool oom_killed) {
  ExitRecord record;
  if (WIFSIGNALED(wait_status)) {
    record.signal = WTERMSIG(wait_status);
    record.exit_code = 128 + record.signal;
  } else {
    record.exit_code = WEXITSTATUS(wait_status);
  }
  record.reason = oom_killed              ? kReasonOomKilled
                  : record.exit_code == 0 ? kReasonCompleted
                                          : kReasonError;
  return record;
}

std::string ExitRecordToJson(const ExitRecord& record) {
  nlohmann::json j = {
      {"exit_code", record.exit_code},
      {"signal", record.signal},
      {"reason", record.reason},
      {"pid", record.pid},
      {"started_at", FormatNanos(record.started_at)},
      {"finished_at", FormatNanos(record.finished_at)},
  };
  if (!record.message.empty()) j["message"] = record.message;
  // Replace, not throw, on bytes that are not UTF-8 (runc quotes the user's command).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

absl::StatusOr<ExitRecord> ParseExitRecord(std::string_view json) {
  try {
    nlohmann::json j = nlohmann::json::parse(json);
    ExitRecord record;
    record.exit_code = j.at("exit_code").get<int>();
    record.signal = j.at("signal").get<int>();
    record.reason = j.at("reason").get<std::string>();
    record.pid = j.value("pid", 0);
    record.message = j.value("message", "");
    for (auto [key, field] : {std::pair{"started_at", &record.started_at},
                              std::pair{"finished_at", &record.finished_at}}) {
      ASSIGN_OR_RETURN(*field, ParseTimestamp(j.at(key).get<std::string>()));
    }
    return record;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(reef::StrCat("exit record: ", e.what()));
  }
}

absl::Status WriteExitRecord(const std::string& path, const ExitRecord& record) {
  return WriteFileAtomic(path, ExitRecordToJson(record), 0644);
}

absl::StatusOr<ExitRecord> ReadExitRecord(const std::string& path) {
  ASSIGN_OR_RETURN(std::string content, ReadFileLimited(path, kMaxExitFile));
  absl::StatusOr<ExitRecord> record = ParseExitRecord(content);
  if (!record.ok()) return Annotate(record.status(), path);
  return record;
}

}  // namespace reef::agent::runtime
