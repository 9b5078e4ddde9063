#pragma once
// Structured logs: one JSON object per line on stderr with fixed keys (ts, level, event, and
// the event's own fields). Escaping is done by Boost.JSON, never by a pattern.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "daemon/config.hpp"

namespace concord::daemon {

enum class Level { kDebug, kInfo, kWarn, kError };

// Sets format and minimum level; call once at start. Until then: json, info.
void InitLogging(const LogConfig& config);

// Writes one line: {"ts":...,"level":...,"event":event, ...fields}.
void Log(Level level, std::string_view event, boost::json::object fields = {});

// Many lines of one event, such as a run's decisions: formatted as Log formats them, but
// written in blocks of about 64 KiB rather than a write (and flush) per line. A run of 1,000
// persons logs 3,300 decisions. Lines keep their order; the destructor writes what is left.
// Not thread-safe: one batch per thread.
class LogBatch {
 public:
  explicit LogBatch(std::string_view event) : event_(event) {}
  ~LogBatch();
  LogBatch(const LogBatch&) = delete;
  LogBatch& operator=(const LogBatch&) = delete;

  void Add(Level level, boost::json::object fields);

 private:
  void Write();

  std::string event_;
  Level level_ = Level::kInfo;  // of the lines in pending_
  std::string pending_;         // whole lines, each ending in '\n' but the last
};

}  // namespace concord::daemon
