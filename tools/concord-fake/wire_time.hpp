#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Timestamp formats the fake servers read and write. All values are UTC milliseconds since
// the Unix epoch; nothing here reads the clock.
namespace concord::fake {

// Milliseconds since the Unix epoch, UTC.
using EpochMillis = std::int64_t;

// Parses Microsoft's JSON date as Xero sends it: "/Date(1718001234567+0000)/" (the offset is
// optional and informational, wire-formats.md §1.4). Returns nullopt if `text` is not one.
[[nodiscard]] std::optional<EpochMillis> ParseXeroDate(std::string_view text);

// "/Date(<ms>+0000)/" (with_offset, as in UpdatedDateUTC) or "/Date(<ms>)/" (as in the
// envelope's DateTimeUTC). The caller's JSON serialiser or EscapeSlashes adds the backslashes.
[[nodiscard]] std::string FormatXeroDate(EpochMillis ms, bool with_offset);

// Parses an ISO-8601 / RFC 3339 date-time: "YYYY-MM-DDThh:mm:ss", optionally followed by a
// fraction of a second (any number of digits, truncated to milliseconds) and a zone: "Z",
// "+hh:mm", "-hh:mm", "+hhmm" or "-hhmm". Without a zone the time is taken as UTC (Xero's
// If-Modified-Since). Returns nullopt for anything else, including impossible dates.
[[nodiscard]] std::optional<EpochMillis> ParseIsoDateTime(std::string_view text);

// "2026-01-05T18:02:03Z", or "2026-01-05T18:02:03.250Z" when `ms` has a fraction.
[[nodiscard]] std::string FormatIsoDateTime(EpochMillis ms);

// RFC 9110 IMF-fixdate for the HTTP Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
[[nodiscard]] std::string FormatHttpDate(EpochMillis ms);

// The wall clock as EpochMillis; only the imperative shell (main.cpp) calls it.
[[nodiscard]] EpochMillis NowMillis();

}  // namespace concord::fake
