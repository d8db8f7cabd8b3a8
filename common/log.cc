#include "common/log.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace reef {
namespace {

LogLevel LevelFromEnv() {
  const char* v = std::getenv("REEF_LOG_LEVEL");
  if (v == nullptr) return LogLevel::kInfo;
  if (std::strcmp(v, "debug") == 0) return LogLevel::kDebug;
  if (std::strcmp(v, "warning") == 0) return LogLevel::kWarning;
  if (std::strcmp(v, "error") == 0) return LogLevel::kError;
  return LogLevel::kInfo;
}

std::atomic<int>& Threshold() {
  static std::atomic<int> level{static_cast<int>(LevelFromEnv())};
  return level;
}

const char* Name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO ";
    case LogLevel::kWarning: return "WARN ";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { Threshold() = static_cast<int>(level); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= Threshold().load(); }

void LogLine(LogLevel level, const std::string& message) {
  static std::mutex mu;
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ ", absl::Now(), absl::UTCTimeZone());
  line += Name(level);
  line += " ";
  line += message;
  line += "\n";
  std::lock_guard<std::mutex> lock(mu);
  std::cerr << line << std::flush;
}

}  // namespace reef
