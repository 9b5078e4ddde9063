#include "xero_identity.hpp"

#include <algorithm>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/params_view.hpp>
#include <limits>

#include "http_util.hpp"

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr reconcile::Millis kForever = std::numeric_limits<reconcile::Millis>::max();
constexpr std::string_view kJson = "application/json; charset=utf-8";

std::string Base64(std::string_view bytes) {
  std::string out(boost::beast::detail::base64::encoded_size(bytes.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

// RFC 6749 §5.2: {"error": code}.
HttpResponse OAuthError(const HttpRequest& req, unsigned status, std::string_view code,
                        reconcile::Millis now) {
  json::object body;
  body["error"] = code;
  HttpResponse res = MakeResponse(req, status, kJson, json::serialize(body), now);
  res.set(http::field::cache_control, "no-store");
  if (status == 401) res.set(http::field::www_authenticate, "Basic");
  return res;
}

std::string_view HeaderValue(const HttpRequest& req, http::field field) {
  const auto it = req.find(field);
  if (it == req.end()) return {};
  return {it->value().data(), it->value().size()};
}

}  // namespace

HttpResponse XeroIdentity::HandleTokenRequest(const HttpRequest& req, const XeroOAuthConfig& config,
                                              reconcile::Millis now,
                                              const TokenGenerator& next_token) {
  if (config.refresh_token != seeded_) {
    seeded_ = config.refresh_token;
    refresh_valid_until_[seeded_] = kForever;
  }
  if (req.method() != http::verb::post) {
    HttpResponse res = OAuthError(req, 405, "invalid_request", now);
    res.set(http::field::allow, "POST");
    return res;
  }
  const std::string_view authorization = HeaderValue(req, http::field::authorization);
  constexpr std::string_view kBasic = "Basic ";
  if (authorization.size() <= kBasic.size() ||
      !IEquals(authorization.substr(0, kBasic.size()), kBasic) ||
      authorization.substr(kBasic.size()) !=
          Base64(config.client_id + ":" + config.client_secret)) {
    return OAuthError(req, 401, "invalid_client", now);
  }
  const std::string_view content_type = HeaderValue(req, http::field::content_type);
  if (!IEquals(content_type.substr(0, content_type.find(';')),
               "application/x-www-form-urlencoded")) {
    return OAuthError(req, 400, "invalid_request", now);
  }
  std::optional<std::string> grant_type, refresh_token;
  try {
    boost::urls::encoding_opts options;
    options.space_as_plus = true;
    for (const auto& param : boost::urls::params_view(req.body(), options)) {
      if (param.key == "grant_type") grant_type = param.value;
      if (param.key == "refresh_token") refresh_token = param.value;
    }
  } catch (const boost::system::system_error&) {
    return OAuthError(req, 400, "invalid_request", now);
  }
  if (grant_type != "refresh_token") return OAuthError(req, 400, "unsupported_grant_type", now);
  if (!refresh_token) return OAuthError(req, 400, "invalid_request", now);
  const auto used = refresh_valid_until_.find(*refresh_token);
  if (used == refresh_valid_until_.end() || used->second <= now) {
    return OAuthError(req, 400, "invalid_grant", now);
  }
  // Rotation: the spent token lives on only for the grace period.
  used->second = std::min(used->second, now + config.grace_seconds * 1000);
  const std::string access = next_token();
  const std::string refresh = next_token();
  access_expires_at_[access] = now + config.access_token_ttl_seconds * 1000;
  refresh_valid_until_[refresh] = kForever;

  json::object body;
  body["access_token"] = access;
  body["expires_in"] = config.access_token_ttl_seconds;
  body["token_type"] = "Bearer";
  body["refresh_token"] = refresh;
  body["scope"] = "offline_access accounting.contacts.read";
  HttpResponse res = MakeResponse(req, 200, kJson, json::serialize(body), now);
  res.set(http::field::cache_control, "no-store");
  return res;
}

bool XeroIdentity::AccessTokenValid(std::string_view access_token, reconcile::Millis now) const {
  const auto it = access_expires_at_.find(access_token);
  return it != access_expires_at_.end() && now < it->second;
}

XeroRateDecision XeroRateCounter::Count(reconcile::Millis now, const XeroRateLimits& limits,
                                        bool enforced, std::int64_t app_minute_limit) {
  const reconcile::Millis minute = now / 60'000;
  if (minute != minute_) {
    minute_ = minute;
    minute_calls_ = 0;
  }
  if (day_start_ < 0 || now - day_start_ >= 86'400'000) {
    day_start_ = now;
    day_calls_ = 0;
  }
  XeroRateDecision decision;
  const auto ceil_seconds = [](reconcile::Millis ms) { return (ms + 999) / 1000; };
  if (enforced && day_calls_ >= limits.day) {
    decision.problem = "day";
    decision.retry_after_seconds = ceil_seconds(day_start_ + 86'400'000 - now);
  } else if (enforced && minute_calls_ >= limits.minute) {
    decision.problem = "minute";
    decision.retry_after_seconds = ceil_seconds((minute_ + 1) * 60'000 - now);
  } else {
    ++minute_calls_;
    ++day_calls_;
  }
  decision.remaining = {limits.day - day_calls_, limits.minute - minute_calls_,
                        app_minute_limit - minute_calls_};
  return decision;
}

}  // namespace concord::fake
