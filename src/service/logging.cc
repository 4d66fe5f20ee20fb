#include "tsa/service/logging.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>

namespace tsa::service {
namespace {
std::atomic<LogFormat> g_format{LogFormat::kText};

bool NeedsQuotes(const std::string& v) {
  return v.empty() || std::any_of(v.begin(), v.end(),
                                  [](unsigned char c) { return c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f; });
}
}  // namespace

void ConfigureLogging(LogFormat format, spdlog::level::level_enum level) {
  g_format = format;
  // Asynchronous: request threads only enqueue the line; one background thread writes stderr, so
  // logging stays off the request's critical path. The queue blocks (never drops) when full.
  spdlog::init_thread_pool(16384, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>("tsad", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block);
  if (format == LogFormat::kJson) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void ShutdownLogging() { spdlog::shutdown(); }

bool LogEnabled(spdlog::level::level_enum level) { return spdlog::should_log(level); }

void LogEvent(spdlog::level::level_enum level, std::string_view event, const LogFields& fields) {
  if (!spdlog::should_log(level)) return;
  std::string line;
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    line = "\"event\":" + nlohmann::json(std::string(event)).dump();
    for (const auto& [k, v] : fields) {
      line += ",\"" + std::string(k) + "\":";
      line += v.number ? v.text : nlohmann::json(v.text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  } else {
    line = std::string(event);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      line += NeedsQuotes(v.text) ? nlohmann::json(v.text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) : v.text;
    }
  }
  spdlog::log(level, "{}", line);
}

}  // namespace tsa::service
