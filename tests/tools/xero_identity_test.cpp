// concord-fake's Xero identity server (token endpoint, rotation, grace period) and its call
// counter (reported and enforced limits), on a clock the tests set.

#include "tools/concord-fake/xero_identity.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr reconcile::Millis kT0 = 1767225600000;  // 2026-01-01T00:00:00Z

XeroOAuthConfig Config() {
  XeroOAuthConfig config;
  config.client_id = "app";
  config.client_secret = "secret";
  config.refresh_token = "seed";
  config.access_token_ttl_seconds = 1800;
  config.grace_seconds = 1800;
  return config;
}

HttpRequest TokenRequest(const std::string& refresh_token,
                         const std::string& basic = "YXBwOnNlY3JldA==") {  // app:secret
  HttpRequest req{http::verb::post, "/connect/token", 11};
  req.set(http::field::authorization, "Basic " + basic);
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.body() = "grant_type=refresh_token&refresh_token=" + refresh_token;
  req.prepare_payload();
  return req;
}

class XeroIdentityTest : public ::testing::Test {
 protected:
  HttpResponse Ask(const HttpRequest& req, reconcile::Millis now = kT0) {
    return identity_.HandleTokenRequest(req, Config(), now,
                                        [this] { return "tok-" + std::to_string(++issued_); });
  }
  XeroIdentity identity_;
  int issued_ = 0;
};

TEST_F(XeroIdentityTest, RotatesTheRefreshTokenAndIssuesAnAccessToken) {
  const HttpResponse res = Ask(TokenRequest("seed"));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const json::object body = json::parse(res.body()).as_object();
  EXPECT_EQ(body.at("access_token"), "tok-1");
  EXPECT_EQ(body.at("refresh_token"), "tok-2");
  EXPECT_EQ(body.at("expires_in"), 1800);
  EXPECT_EQ(body.at("token_type"), "Bearer");
  EXPECT_TRUE(identity_.AccessTokenValid("tok-1", kT0 + 1'799'999));
  EXPECT_FALSE(identity_.AccessTokenValid("tok-1", kT0 + 1'800'000)) << "expired";
  EXPECT_FALSE(identity_.AccessTokenValid("tok-2", kT0)) << "a refresh token is no access token";

  // The spent token still works within the grace period (a lost answer), not after.
  EXPECT_EQ(Ask(TokenRequest("seed"), kT0 + 1'799'000).result_int(), 200);
  const HttpResponse late = Ask(TokenRequest("seed"), kT0 + 1'800'000);
  EXPECT_EQ(late.result_int(), 400);
  EXPECT_EQ(late.body(), R"({"error":"invalid_grant"})");
  EXPECT_EQ(Ask(TokenRequest("tok-2"), kT0 + 1'800'000).result_int(), 200);
}

TEST_F(XeroIdentityTest, RefusesBadClientsGrantsAndBodies) {
  EXPECT_EQ(Ask(TokenRequest("seed", "d3Jvbmc6d3Jvbmc=")).result_int(), 401);
  EXPECT_EQ(Ask(TokenRequest("unknown")).body(), R"({"error":"invalid_grant"})");
  HttpRequest wrong_grant = TokenRequest("seed");
  wrong_grant.body() = "grant_type=client_credentials";
  wrong_grant.prepare_payload();
  EXPECT_EQ(Ask(wrong_grant).body(), R"({"error":"unsupported_grant_type"})");
  HttpRequest json_body = TokenRequest("seed");
  json_body.set(http::field::content_type, "application/json");
  EXPECT_EQ(Ask(json_body).result_int(), 400);
  HttpRequest get = TokenRequest("seed");
  get.method(http::verb::get);
  EXPECT_EQ(Ask(get).result_int(), 405);
}

TEST(XeroRateCounterTest, EnforcedLimitsRefuseWithTheProblemAndRetryAfter) {
  XeroRateCounter counter;
  const XeroRateLimits limits{.minute = 2, .day = 3};
  EXPECT_FALSE(counter.Count(kT0, limits, true, 10000).problem);
  const XeroRateDecision second = counter.Count(kT0 + 1'000, limits, true, 10000);
  EXPECT_FALSE(second.problem);
  EXPECT_EQ(second.remaining.minute, 0);
  EXPECT_EQ(second.remaining.day, 1);
  const XeroRateDecision third = counter.Count(kT0 + 20'000, limits, true, 10000);
  EXPECT_EQ(third.problem, "minute");
  EXPECT_EQ(third.retry_after_seconds, 40) << "until the next clock minute";
  EXPECT_FALSE(counter.Count(kT0 + 60'000, limits, true, 10000).problem);
  const XeroRateDecision over_day = counter.Count(kT0 + 120'000, limits, true, 10000);
  EXPECT_EQ(over_day.problem, "day");
  EXPECT_EQ(over_day.retry_after_seconds, 86'400 - 120);
  // Reported only: never refused.
  XeroRateCounter reporting;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(reporting.Count(kT0, limits, false, 10000).problem);
}

}  // namespace
}  // namespace concord::fake
