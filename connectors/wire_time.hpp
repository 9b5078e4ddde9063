#pragma once
// Timestamps as the sources write them on the wire, to and from reconcile::Millis (UTC).
// Pure functions: no clock, no locale, no std::regex. Parsers return nullopt for text that
// does not match the format exactly; they never throw. The one implementation for the whole
// tree: the connectors read these forms and tools/concord-fake writes them.

#include <optional>
#include <string>
#include <string_view>

#include "reconcile/model.hpp"

namespace concord::connectors {

// Xero's .NET JSON date, "/Date(1718001234567+0000)/" or "/Date(1718000000123)/"
// (wire-formats §1.4). The number is UTC milliseconds; the offset is informational.
std::optional<reconcile::Millis> ParseXeroDate(std::string_view text);

// "/Date(<ms>+0000)/" (with_offset, as in a contact's UpdatedDateUTC) or "/Date(<ms>)/" (as
// in the envelope's DateTimeUTC). Unescaped: a JSON serialiser may write the slashes as "\/".
std::string FormatXeroDate(reconcile::Millis at, bool with_offset);

// ISO-8601 / RFC 3339 date-time: "2024-06-09T23:40:11Z", "2024-06-09T23:40:11.5+02:00",
// "2024-06-09T23:40:11" (no zone: read as UTC). The separator is 'T' (or 't'), the decimal
// mark '.', the zone "Z", "z", "+hh:mm" or "+hhmm"; xsd:dateTime (SCIM) and Xero's
// If-Modified-Since both fit. Fractions beyond milliseconds are truncated.
std::optional<reconcile::Millis> ParseIsoDateTime(std::string_view text);

// "2024-06-09T23:40:11Z", or "2024-06-09T23:40:11.250Z" when `at` has milliseconds — the
// form SCIM's meta.created / meta.lastModified take. ParseIsoDateTime reads it back exactly.
std::string FormatIsoDateTime(reconcile::Millis at);

// RFC 7231 IMF-fixdate, the HTTP Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<reconcile::Millis> ParseHttpDate(std::string_view text);

// The same IMF-fixdate for writing a Date header (seconds, rounded down; weekday computed).
std::string FormatHttpDate(reconcile::Millis at);

// "2024-06-09T23:40:11" (UTC, seconds; milliseconds are dropped, i.e. rounded down) —
// the form Xero's If-Modified-Since expects.
std::string FormatIsoSeconds(reconcile::Millis at);

// "2024-06-09T23:40:11Z" (UTC, seconds, rounded down) — the form SCIM filters compare.
std::string FormatIsoSecondsZ(reconcile::Millis at);

}  // namespace concord::connectors
