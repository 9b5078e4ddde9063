#include "daemon/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace concord::daemon {
namespace {

bool g_json = true;

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("concord");
    l->set_pattern("%v");
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return logger;
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string_view Name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::string Now() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];  // generous: the compiler cannot bound tm fields
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buffer;
}

// One line, without its end of line, in the configured format.
std::string Format(Level level, std::string_view event, boost::json::object fields) {
  if (g_json) {
    // The fixed keys first, then the fields' own object spliced in: a run writes a decision
    // line per event, and copying every field into a second object cost more than writing it.
    std::string line = "{\"ts\":\"" + Now() + "\",\"level\":\"" + std::string(Name(level)) +
                       "\",\"event\":" + boost::json::serialize(boost::json::string_view(event));
    if (fields.empty()) return line + "}";
    const std::string rest = boost::json::serialize(fields);  // {"key":value,...}
    line += ',';
    line.append(rest, 1);
    return line;
  }
  std::string text = Now() + " " + std::string(Name(level)) + " " + std::string(event);
  for (const auto& [key, value] : fields) {
    text += " " + std::string(key) + "=" +
            (value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value));
  }
  return text;
}

constexpr std::size_t kBatchBytes = 64 * 1024;

}  // namespace

void InitLogging(const LogConfig& config) {
  g_json = config.format == "json";
  Logger()->set_level(spdlog::level::from_str(config.level));
}

void Log(Level level, std::string_view event, boost::json::object fields) {
  auto& logger = Logger();
  if (!logger->should_log(ToSpd(level))) return;
  logger->log(ToSpd(level), Format(level, event, std::move(fields)));
}

LogBatch::~LogBatch() {
  try {
    Write();
  } catch (const std::exception&) {
    // Logging must never take the run down with it; spdlog reports its own write errors.
  }
}

void LogBatch::Add(Level level, boost::json::object fields) {
  if (!Logger()->should_log(ToSpd(level))) return;
  if (level != level_ || pending_.size() >= kBatchBytes) Write();
  level_ = level;
  if (!pending_.empty()) pending_ += '\n';
  pending_ += Format(level, event_, std::move(fields));
}

void LogBatch::Write() {
  if (pending_.empty()) return;
  // The pattern is "%v", so spdlog adds only the last line's end of line.
  Logger()->log(ToSpd(level_), pending_);
  pending_.clear();
}

}  // namespace concord::daemon
