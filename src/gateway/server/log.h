// Logger: structured JSON-lines logs, one object per line:
//
//   {"time":"2026-11-29T18:00:00.123Z","level":"info","event":"http.request",
//    "request_id":"...","route":"submissions.create","status":202,...}
//
//   logger.Info("http.request").Str("request_id", id).Int("status", 202);
//   // the line is written when the LogLine goes out of scope
//
// PHI never goes into a log: log events, identifiers genogate made
// (request and submission ids), route names, statuses, durations, sizes and
// error codes. Never bodies, query strings, path parameters that come from
// the data, or header values other than those in SafeHeaderNames(). The
// HTTP server follows this; new call sites must too (the log-scan test
// submits a distinctive patient and looks for it in the logs).
//
// Thread-safety: Logger is thread-safe (each line is written with one
// write under a mutex); a LogLine belongs to the thread that made it.
#ifndef GENOGATE_GATEWAY_SERVER_LOG_H_
#define GENOGATE_GATEWAY_SERVER_LOG_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "base/json_text.h"

namespace genogate::gateway {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);
// Parses a level name; false if unknown.
bool ParseLogLevel(std::string_view name, LogLevel* level);

class Logger;

// One log line under construction; written by its destructor (unless the
// level is filtered out, in which case every call is a no-op).
class LogLine {
 public:
  LogLine(Logger* logger, LogLevel level, std::string_view event);
  ~LogLine();
  LogLine(LogLine&& other) noexcept;
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  LogLine& operator=(LogLine&&) = delete;

  // Adds a field (keys are written as given: use snake_case constants).
  LogLine& Str(std::string_view key, std::string_view value);
  LogLine& Int(std::string_view key, int64_t value);
  LogLine& Num(std::string_view key, double value);
  LogLine& Bool(std::string_view key, bool value);

 private:
  Logger* logger_;  // null when filtered out or moved from
  std::string text_;
};

class Logger {
 public:
  // Where lines go: a function that receives each complete line (with its
  // trailing '\n').
  using Sink = std::function<void(std::string_view line)>;

  // Writes to standard error.
  explicit Logger(LogLevel min_level = LogLevel::kInfo);
  Logger(LogLevel min_level, Sink sink);

  LogLine Debug(std::string_view event) {
    return LogLine(this, LogLevel::kDebug, event);
  }
  LogLine Info(std::string_view event) {
    return LogLine(this, LogLevel::kInfo, event);
  }
  LogLine Warn(std::string_view event) {
    return LogLine(this, LogLevel::kWarn, event);
  }
  LogLine Error(std::string_view event) {
    return LogLine(this, LogLevel::kError, event);
  }
  bool Enabled(LogLevel level) const { return level >= min_level_; }

 private:
  friend class LogLine;
  void Write(std::string_view line);

  LogLevel min_level_;
  Sink sink_;
  std::mutex mu_;
};

// True for header names whose values may be logged (case-insensitive):
// content-type, content-length, content-encoding, user-agent, accept,
// x-request-id. Everything else (authorization, cookies, anything a lab
// adds) is never logged.
bool IsSafeHeaderName(std::string_view name);

// JSON string escaping: genogate::AppendJsonEscaped (base/json_text.h).

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SERVER_LOG_H_
