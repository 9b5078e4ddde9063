#pragma once
// Timestamps as the sources write them on the wire, to and from reconcile::Millis (UTC).
// Pure functions: no clock, no locale, no std::regex. Parsers return nullopt for text that
// does not match the format exactly; they never throw.

#include <optional>
#include <string>
#include <string_view>

#include "reconcile/model.hpp"

namespace concord::connectors {

// Xero's .NET JSON date, "/Date(1718001234567+0000)/" or "/Date(1718000000123)/"
// (wire-formats §1.4). The number is UTC milliseconds; the offset is informational.
std::optional<reconcile::Millis> ParseXeroDate(std::string_view text);

// ISO-8601 / RFC 3339 date-time: "2024-06-09T23:40:11Z", "2024-06-09T23:40:11.5+02:00",
// "2024-06-09T23:40:11" (no zone: read as UTC). Fractions beyond milliseconds are truncated.
std::optional<reconcile::Millis> ParseIsoDateTime(std::string_view text);

// RFC 7231 IMF-fixdate, the HTTP Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<reconcile::Millis> ParseHttpDate(std::string_view text);

// "2024-06-09T23:40:11" (UTC, seconds; milliseconds are dropped, i.e. rounded down) —
// the form Xero's If-Modified-Since expects.
std::string FormatIsoSeconds(reconcile::Millis at);

// "2024-06-09T23:40:11Z" (UTC, seconds, rounded down) — the form SCIM filters compare.
std::string FormatIsoSecondsZ(reconcile::Millis at);

}  // namespace concord::connectors
