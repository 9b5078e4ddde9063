#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "dataset.hpp"
#include "http_types.hpp"
#include "reconcile/model.hpp"
#include "xero_api.hpp"

// The mutable half of the fake Xero: the identity server's token endpoint (wire-formats §1.8)
// and the per-tenant call counters behind X-*Limit-Remaining and the enforced limits (§1.5).
// The clock and the token generator are passed in, so tests drive them.
namespace concord::fake {

inline constexpr std::string_view kXeroTokenPath = "/connect/token";

// Issued tokens. POST /connect/token with `Authorization: Basic base64(client_id:secret)` and
// the form body grant_type=refresh_token&refresh_token=... answers
// {"access_token","expires_in","token_type":"Bearer","refresh_token","scope"}; the refresh token
// used is rotated (it stays valid for the grace period, in case the answer was lost).
class XeroIdentity {
 public:
  using TokenGenerator = std::function<std::string()>;

  // Answers one token request under `config` (the data file's xero.oauth). A configured
  // refresh_token not seen before becomes valid (a new consent).
  [[nodiscard]] HttpResponse HandleTokenRequest(const HttpRequest& req,
                                                const XeroOAuthConfig& config,
                                                reconcile::Millis now,
                                                const TokenGenerator& next_token);
  // True when `access_token` was issued here and has not expired at `now`.
  [[nodiscard]] bool AccessTokenValid(std::string_view access_token, reconcile::Millis now) const;

 private:
  std::string seeded_;  // the configured refresh token last made valid
  // Refresh token → valid until (Unix ms; INT64_MAX: not used yet).
  std::map<std::string, reconcile::Millis, std::less<>> refresh_valid_until_;
  // Access token → expires at (Unix ms).
  std::map<std::string, reconcile::Millis, std::less<>> access_expires_at_;
};

// What the rate counter decided about one call.
struct XeroRateDecision {
  XeroRateRemaining remaining;  // after this call
  // Set when the call is over an enforced limit: "minute" or "day", with Retry-After.
  std::optional<std::string> problem;
  std::int64_t retry_after_seconds = 0;
};

// Counts Xero calls per clock minute and per day since the first call of the day. With
// `enforced` limits a call over either is refused (and not counted); otherwise the limits
// are only reported.
class XeroRateCounter {
 public:
  [[nodiscard]] XeroRateDecision Count(reconcile::Millis now, const XeroRateLimits& limits,
                                       bool enforced, std::int64_t app_minute_limit);

 private:
  reconcile::Millis minute_ = -1;
  reconcile::Millis day_start_ = -1;
  std::int64_t minute_calls_ = 0;
  std::int64_t day_calls_ = 0;
};

}  // namespace concord::fake
