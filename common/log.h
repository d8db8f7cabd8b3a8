#pragma once
// A small leveled logger for the daemons: one line per event on stderr,
// "2026-12-03T13:03:02.123Z INFO  static pods: started web-pi-1". Thread-safe.
// Daemons log to stderr and let their supervisor (systemd, the quickstart) keep it.

#include <sstream>
#include <string>

namespace reef {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below this level are dropped (default kInfo; REEF_LOG_LEVEL=debug).
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

namespace internal {
// Turns the stream expression into void, so the macro below is one expression (safe
// in an unbraced if/else).
struct Voidify {
  void operator&(std::ostream&) {}
};

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};
}  // namespace internal

}  // namespace reef

// REEF_LOG(Info) << "started " << name;   (Debug, Info, Warning, Error)
#define REEF_LOG(level)                                  \
  !::reef::LogEnabled(::reef::LogLevel::k##level)        \
      ? (void)0                                          \
      : ::reef::internal::Voidify() &                    \
            ::reef::internal::LogMessage(::reef::LogLevel::k##level).stream()
