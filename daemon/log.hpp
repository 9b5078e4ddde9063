#pragma once
// Structured logs: one JSON object per line on stderr with fixed keys (ts, level, event, and
// the event's own fields). Escaping is done by Boost.JSON, never by a pattern.

#include <boost/json/object.hpp>
#include <string_view>

#include "daemon/config.hpp"

namespace concord::daemon {

enum class Level { kDebug, kInfo, kWarn, kError };

// Sets format and minimum level; call once at start. Until then: json, info.
void InitLogging(const LogConfig& config);

// Writes one line: {"ts":...,"level":...,"event":event, ...fields}.
void Log(Level level, std::string_view event, boost::json::object fields = {});

}  // namespace concord::daemon
