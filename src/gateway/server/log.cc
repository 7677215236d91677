#include "gateway/server/log.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/utf8.h"
#include "gateway/server/http_message.h"

namespace genogate::gateway {

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool ParseLogLevel(std::string_view name, LogLevel* level) {
  for (LogLevel l :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LogLevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

namespace {

void AppendKey(std::string* out, std::string_view key) {
  *out += ",\"";
  AppendJsonEscaped(out, key);
  *out += "\":";
}

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                now.time_since_epoch())
                .count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

LogLine::LogLine(Logger* logger, LogLevel level, std::string_view event)
    : logger_(logger != nullptr && logger->Enabled(level) ? logger : nullptr) {
  if (logger_ == nullptr) return;
  text_.reserve(256);
  text_ += "{\"time\":\"" + NowIso() + "\",\"level\":\"";
  text_ += LogLevelName(level);
  text_ += "\",\"event\":\"";
  AppendJsonEscaped(&text_, event);
  text_ += "\"";
}

LogLine::LogLine(LogLine&& other) noexcept
    : logger_(other.logger_), text_(std::move(other.text_)) {
  other.logger_ = nullptr;
}

LogLine::~LogLine() {
  if (logger_ == nullptr) return;
  text_ += "}\n";
  logger_->Write(text_);
}

LogLine& LogLine::Str(std::string_view key, std::string_view value) {
  if (logger_ == nullptr) return *this;
  AppendKey(&text_, key);
  text_ += '"';
  AppendJsonEscaped(&text_, value);
  text_ += '"';
  return *this;
}

LogLine& LogLine::Int(std::string_view key, int64_t value) {
  if (logger_ == nullptr) return *this;
  AppendKey(&text_, key);
  text_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::Num(std::string_view key, double value) {
  if (logger_ == nullptr) return *this;
  AppendKey(&text_, key);
  if (!std::isfinite(value)) {
    text_ += "null";
    return *this;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  text_.append(buf, r.ptr);
  return *this;
}

LogLine& LogLine::Bool(std::string_view key, bool value) {
  if (logger_ == nullptr) return *this;
  AppendKey(&text_, key);
  text_ += value ? "true" : "false";
  return *this;
}

Logger::Logger(LogLevel min_level)
    : Logger(min_level, [](std::string_view line) {
        // One write per line: lines from several threads never interleave.
        size_t done = 0;
        while (done < line.size()) {
          ssize_t n = ::write(2, line.data() + done, line.size() - done);
          if (n <= 0) return;
          done += static_cast<size_t>(n);
        }
      }) {}

Logger::Logger(LogLevel min_level, Sink sink)
    : min_level_(min_level), sink_(std::move(sink)) {}

void Logger::Write(std::string_view line) {
  std::lock_guard lock(mu_);
  sink_(line);
}

bool IsSafeHeaderName(std::string_view name) {
  for (std::string_view safe :
       {"content-type", "content-length", "content-encoding", "user-agent",
        "accept", "x-request-id"}) {
    if (internal::EqualsIgnoreCase(name, safe)) return true;
  }
  return false;
}

}  // namespace genogate::gateway
