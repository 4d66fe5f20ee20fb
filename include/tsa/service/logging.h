// Structured log lines through spdlog, as text ("event k=v ...") or one JSON object per line.
// Values are escaped, so client-controlled text (paths) cannot forge fields or lines.
#pragma once

#include <spdlog/common.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tsa::service {

enum class LogFormat { kText, kJson };

// One field value: text, or a number that JSON lines write as a JSON number (not a string).
struct LogValue {
  LogValue(std::string v) : text(std::move(v)) {}  // NOLINT: implicit, fields read like {"k", v}
  LogValue(const char* v) : text(v) {}             // NOLINT
  template <typename T>
  requires std::is_integral_v<T> &&(!std::is_same_v<T, bool>)LogValue(T v) : text(std::to_string(v)), number(true) {}  // NOLINT
  std::string text;
  bool number = false;
};

using LogFields = std::vector<std::pair<std::string_view, LogValue>>;

// Installs the default logger on stderr (UTC timestamps). Call once at start-up.
void ConfigureLogging(LogFormat format, spdlog::level::level_enum level);

// Flushes and stops the background writer. Call once before exit.
void ShutdownLogging();

void LogEvent(spdlog::level::level_enum level, std::string_view event, const LogFields& fields);

// Whether an event at `level` would be written: lets hot paths skip building its fields.
bool LogEnabled(spdlog::level::level_enum level);

}  // namespace tsa::service
