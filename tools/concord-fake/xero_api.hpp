#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dataset.hpp"
#include "http_types.hpp"
#include "reconcile/model.hpp"

// The Xero Accounting API's contact listing, as wire-formats.md §1 describes it:
//   GET /api.xro/2.0/Contacts?page=&pageSize=&includeArchived=   If-Modified-Since: ...
// Simplifications (documented in tools/concord-fake/README.md): JSON only (406 unless the
// Accept header names application/json); `where`, `IDs`, `searchTerm`, `summaryOnly=true` and
// any `order` but UpdatedDateUTC ascending are refused with 400 instead of being honoured; no
// single-contact GET and no writes; rate limits are enforced only when the data file sets
// xero.rate_limits (xero_identity.hpp counts the calls).
namespace concord::fake {

inline constexpr std::string_view kXeroContactsPath = "/api.xro/2.0/Contacts";
inline constexpr std::uint32_t kXeroDefaultPageSize = 100;
inline constexpr std::uint32_t kXeroMaxPageSize = 1000;  // larger pageSize values are clamped

// What the X-*Limit-Remaining headers report.
struct XeroRateRemaining {
  std::int64_t day = 5000;
  std::int64_t minute = 60;
  std::int64_t app_minute = 10000;
};

// Everything about a request that the handler must not compute itself (clock, randomness,
// counters), so that HandleXeroRequest is a pure function.
struct XeroRequestContext {
  reconcile::Millis now_ms = 0;
  std::string request_id;      // the envelope's "Id" and an error's "Instance"
  std::string correlation_id;  // the Xero-Correlation-Id header
  XeroRateRemaining remaining;
  std::optional<unsigned> fail_status;  // when set, every request gets this status
  // Set when the tenant has xero.oauth: whether the bearer token is an access token the token
  // endpoint issued and that has not expired (the static access_token is then not accepted).
  std::optional<bool> bearer_valid;
  // Set when this call is over an enforced limit (xero.rate_limits): "minute" or "day", answered
  // 429 with X-Rate-Limit-Problem and Retry-After.
  std::optional<std::string> limit_problem;
  std::int64_t retry_after_seconds = 0;
};

// Answers one request to the Xero server from `tenant`.
[[nodiscard]] HttpResponse HandleXeroRequest(const HttpRequest& req, const XeroTenant& tenant,
                                             const XeroRequestContext& ctx);

}  // namespace concord::fake
