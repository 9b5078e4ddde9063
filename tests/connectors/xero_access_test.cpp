// Xero access without a network: the client-side call limiter on an injected clock, OAuth2
// refresh-token rotation over an in-memory token store and a scripted token endpoint, and the
// Xero source putting both together (a 401 refreshes once, a day limit stops the run).

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "connectors/oauth.hpp"
#include "connectors/rate_limiter.hpp"
#include "connectors/xero.hpp"
#include "scripted_transport.hpp"

namespace concord::connectors {
namespace {

using testing::HeaderOf;
using testing::ScriptedTransport;

using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = RateLimiter::Decision::Kind;

constexpr reconcile::Millis kT0 = 1'780'000'000'000;  // 2026-05-28T20:26:40Z

// A test clock: time moves only when a test (or a recorded sleep) moves it.
struct Clock {
  reconcile::Millis now = kT0;
  NowFunction Now() {
    return [this] { return now; };
  }
  SleepFunction Sleep(std::vector<milliseconds>& sleeps) {
    return [this, &sleeps](milliseconds pause) {
      sleeps.push_back(pause);
      now += pause.count();
    };
  }
};

// The hand-written fake of the PostgreSQL store: same contract, one process.
class MemoryTokenStore final : public TokenStore {
 public:
  std::optional<OAuthTokens> tokens;
  int updates = 0;

  std::optional<OAuthTokens> Load() override { return tokens; }
  OAuthTokens Update(const Updater& update) override {
    ++updates;
    std::optional<OAuthTokens> next = update(tokens);
    if (next) tokens = next;
    if (!tokens) throw std::runtime_error("nothing stored");
    return *tokens;
  }
};

HttpRequest Request(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

HttpResponse TokenAnswer(const std::string& access, const std::string& refresh,
                         int expires_in = 1800) {
  return HttpResponse{200,
                      "OK",
                      {{"Content-Type", "application/json"}},
                      R"({"id_token":"x","access_token":")" + access + R"(","expires_in":)" +
                          std::to_string(expires_in) +
                          R"(,"token_type":"Bearer","refresh_token":")" + refresh +
                          R"(","scope":"offline_access accounting.contacts.read"})"};
}

OAuthSettings Oauth(std::optional<std::string> seed = "seed-refresh") {
  OAuthSettings settings;
  settings.token_url = "https://identity.xero.test/connect/token";
  settings.client_id = "client-1";
  settings.client_secret = "s3cret";
  if (seed) settings.initial_refresh_token = [seed] { return *seed; };
  return settings;
}

// ---- limiter ------------------------------------------------------------------------------

TEST(RateLimiter, SixtyCallsAMinuteThenWaitsForTheOldestToLeaveTheWindow) {
  RateLimiter limiter({.concurrent = 5, .per_minute = 60, .per_day = 5000});
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(limiter.TryStart(kT0 + i * 100).kind, Kind::kGo) << i;
    limiter.Finish();
  }
  const auto full = limiter.TryStart(kT0 + 6'000);
  EXPECT_EQ(full.kind, Kind::kWait);
  EXPECT_EQ(full.wait, milliseconds(54'000)) << "the first call leaves the window at T0+60 s";
  EXPECT_EQ(limiter.TryStart(kT0 + 60'000).kind, Kind::kGo);
}

TEST(RateLimiter, AtMostFiveInFlight) {
  RateLimiter limiter({.concurrent = 5, .per_minute = 60, .per_day = 5000});
  for (int i = 0; i < 5; ++i) ASSERT_EQ(limiter.TryStart(kT0).kind, Kind::kGo);
  EXPECT_EQ(limiter.TryStart(kT0).kind, Kind::kWait);
  limiter.Finish();
  EXPECT_EQ(limiter.TryStart(kT0).kind, Kind::kGo);
}

TEST(RateLimiter, DayBudgetUsedUpAnswersWithTheResetTimeNotAWait) {
  RateLimiter limiter({.concurrent = 5, .per_minute = 60, .per_day = 3});
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(limiter.TryStart(kT0 + i * 61'000).kind, Kind::kGo);
    limiter.Finish();
  }
  const auto spent = limiter.TryStart(kT0 + 200'000);
  EXPECT_EQ(spent.kind, Kind::kDayExhausted);
  EXPECT_EQ(spent.reset_at, kT0 + 86'400'000);
  EXPECT_EQ(limiter.TryStart(kT0 + 86'400'000).kind, Kind::kGo) << "the first call aged out";
}

TEST(RateLimiter, BelievesTheVendorWhenItCountsMoreCalls) {
  RateLimiter limiter({.concurrent = 5, .per_minute = 60, .per_day = 5000});
  ASSERT_EQ(limiter.TryStart(kT0).kind, Kind::kGo);
  limiter.Finish();
  // Another replica made 58 calls this minute and 4,998 today.
  limiter.Observe(kT0 + 10, 1, 1);
  ASSERT_EQ(limiter.TryStart(kT0 + 20).kind, Kind::kGo);
  limiter.Finish();
  EXPECT_EQ(limiter.TryStart(kT0 + 30).kind, Kind::kDayExhausted);
  // Fewer used than counted locally: the local count stands.
  RateLimiter other({.concurrent = 5, .per_minute = 2, .per_day = 5000});
  ASSERT_EQ(other.TryStart(kT0).kind, Kind::kGo);
  other.Finish();
  other.Observe(kT0, 59, 4999);
  ASSERT_EQ(other.TryStart(kT0).kind, Kind::kGo);
  other.Finish();
  EXPECT_EQ(other.TryStart(kT0).kind, Kind::kWait);
}

TEST(RateLimitedTransport, MinuteRefusalWaitsRetryAfterAndContinues) {
  Clock clock;
  std::vector<milliseconds> sleeps;
  std::vector<std::string> hits;
  ScriptedTransport::Log log;
  log.responses = {
      HttpResponse{
          429, "Too Many Requests", {{"Retry-After", "7"}, {"X-Rate-Limit-Problem", "minute"}}, ""},
      HttpResponse{200, "OK", {{"X-MinLimit-Remaining", "59"}}, "{}"}};
  ScriptedTransport inner(log);
  RateLimiter limiter({});
  RateLimitedTransport transport("xero", inner, limiter, clock.Sleep(sleeps), clock.Now(),
                                 [&](std::string_view limit) { hits.emplace_back(limit); });
  EXPECT_EQ(transport.Get(Request("https://x.test/a")).status, 200);
  EXPECT_EQ(log.requests.size(), 2u);
  EXPECT_EQ(sleeps, std::vector<milliseconds>{seconds(7)});
  EXPECT_EQ(hits, std::vector<std::string>{"minute"});
}

TEST(RateLimitedTransport, DayRefusalFailsAtOnceWithTheResetTime) {
  Clock clock;
  std::vector<milliseconds> sleeps;
  std::vector<std::string> hits;
  ScriptedTransport::Log log;
  log.responses = {HttpResponse{
      429, "Too Many Requests", {{"Retry-After", "3600"}, {"X-Rate-Limit-Problem", "day"}}, ""}};
  ScriptedTransport inner(log);
  RateLimiter limiter({});
  RateLimitedTransport transport("xero", inner, limiter, clock.Sleep(sleeps), clock.Now(),
                                 [&](std::string_view limit) { hits.emplace_back(limit); });
  try {
    (void)transport.Get(Request("https://x.test/a"));
    FAIL() << "expected DayLimitError";
  } catch (const DayLimitError& error) {
    EXPECT_EQ(error.reset_at(), kT0 + 3'600'000);
    const std::string message = error.what();
    EXPECT_NE(message.find("day limit"), std::string::npos) << message;
    EXPECT_NE(message.find(FormatResetTime(kT0 + 3'600'000)), std::string::npos) << message;
  }
  EXPECT_TRUE(sleeps.empty()) << "no waiting for hours";
  EXPECT_EQ(hits, std::vector<std::string>{"day"});
  // The next call does not even reach the vendor.
  EXPECT_THROW((void)transport.Get(Request("https://x.test/b")), DayLimitError);
  EXPECT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(FormatResetTime(kT0 + 3'600'000), "2026-05-28T21:26:40Z");
}

// ---- token refresh ------------------------------------------------------------------------

TEST(OAuthAccessTokens, SeedsRefreshesRotatesAndReusesUntilShortlyBeforeExpiry) {
  Clock clock;
  MemoryTokenStore store;
  ScriptedTransport::Log log;
  log.responses = {TokenAnswer("access-1", "refresh-1"), TokenAnswer("access-2", "refresh-2")};
  ScriptedTransport transport(log);
  OAuthAccessTokens tokens("xero", Oauth(), store, transport, clock.Now());

  EXPECT_EQ(tokens.Get(), "access-1");
  ASSERT_EQ(log.requests.size(), 1u);
  const HttpRequest& refresh = log.requests[0];
  EXPECT_EQ(refresh.url, "https://identity.xero.test/connect/token");
  EXPECT_EQ(refresh.body, "grant_type=refresh_token&refresh_token=seed-refresh");
  EXPECT_EQ(HeaderOf(refresh, "Authorization"), "Basic Y2xpZW50LTE6czNjcmV0");  // client-1:s3cret
  EXPECT_EQ(HeaderOf(refresh, "Content-Type"), "application/x-www-form-urlencoded");
  ASSERT_TRUE(store.tokens);
  EXPECT_EQ(store.tokens->refresh_token, "refresh-1") << "rotated in the store";
  EXPECT_EQ(store.tokens->access_expires_at, kT0 + 1'800'000);
  EXPECT_EQ(store.tokens->seed_fingerprint, OAuthFingerprint("seed-refresh"));

  clock.now += 1'739'000;  // 61 s before expiry: reused
  EXPECT_EQ(tokens.Get(), "access-1");
  EXPECT_EQ(log.requests.size(), 1u);
  clock.now += 1'000;  // 60 s before: refreshed with the rotated token
  EXPECT_EQ(tokens.Get(), "access-2");
  ASSERT_EQ(log.requests.size(), 2u);
  EXPECT_EQ(log.requests[1].body, "grant_type=refresh_token&refresh_token=refresh-1");
  EXPECT_EQ(store.tokens->refresh_token, "refresh-2");
  EXPECT_EQ(tokens.refreshes(), 2);
}

TEST(OAuthAccessTokens, ANewObjectReusesTheStoredAccessToken) {
  Clock clock;
  MemoryTokenStore store;
  store.tokens = OAuthTokens{"refresh-1", "access-1", kT0 + 600'000, OAuthFingerprint("seed")};
  ScriptedTransport::Log log;
  ScriptedTransport transport(log);
  OAuthAccessTokens tokens("xero", Oauth("seed"), store, transport, clock.Now());
  EXPECT_EQ(tokens.Get(), "access-1");
  EXPECT_TRUE(log.requests.empty());
  EXPECT_EQ(store.updates, 0) << "a plain read, no lock";
}

TEST(OAuthAccessTokens, AChangedConfiguredTokenReplacesTheStoredOnes) {
  Clock clock;
  MemoryTokenStore store;
  store.tokens = OAuthTokens{"refresh-old", "access-old", kT0 + 600'000, OAuthFingerprint("seed")};
  ScriptedTransport::Log log;
  log.responses = {TokenAnswer("access-new", "refresh-new")};
  ScriptedTransport transport(log);
  OAuthAccessTokens tokens("xero", Oauth("re-authorised"), store, transport, clock.Now());
  EXPECT_EQ(tokens.Get(), "access-new");
  ASSERT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(log.requests[0].body, "grant_type=refresh_token&refresh_token=re-authorised");
  EXPECT_EQ(store.tokens->seed_fingerprint, OAuthFingerprint("re-authorised"));
}

TEST(OAuthAccessTokens, AnotherProcessRefreshedWhileWeWaitedForTheLock) {
  Clock clock;
  // Load sees an expired token; by the time Update holds the lock, another replica has
  // stored a fresh one.
  class RacingStore final : public TokenStore {
   public:
    std::optional<OAuthTokens> Load() override {
      return OAuthTokens{"refresh-1", "access-1", kT0 - 1, ""};
    }
    OAuthTokens Update(const Updater& update) override {
      const OAuthTokens theirs{"refresh-2", "access-2", kT0 + 1'800'000, ""};
      EXPECT_FALSE(update(theirs)) << "nothing to store";
      return theirs;
    }
  } store;
  ScriptedTransport::Log log;
  ScriptedTransport transport(log);
  OAuthAccessTokens tokens("xero", Oauth(std::nullopt), store, transport, clock.Now());
  EXPECT_EQ(tokens.Get(), "access-2");
  EXPECT_TRUE(log.requests.empty()) << "their refresh token was not spent again";
}

TEST(OAuthAccessTokens, InvalidGrantTellsTheOperatorToReauthoriseWithoutAnyToken) {
  Clock clock;
  MemoryTokenStore store;
  store.tokens = OAuthTokens{"refresh-secret-value", "access-secret-value", kT0 - 1, ""};
  ScriptedTransport::Log log;
  log.responses = {HttpResponse{
      400, "Bad Request", {{"Content-Type", "application/json"}}, R"({"error":"invalid_grant"})"}};
  ScriptedTransport transport(log);
  OAuthAccessTokens tokens("xero", Oauth(std::nullopt), store, transport, clock.Now());
  try {
    (void)tokens.Get();
    FAIL() << "expected HttpStatusError";
  } catch (const HttpStatusError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.status(), 400);
    EXPECT_NE(message.find("invalid_grant"), std::string::npos) << message;
    EXPECT_NE(message.find("re-authorise"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret-value"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  }
  EXPECT_EQ(store.tokens->refresh_token, "refresh-secret-value") << "nothing stored";
}

TEST(OAuthAccessTokens, NoStoredAndNoConfiguredTokenIsAClearError) {
  MemoryTokenStore store;
  ScriptedTransport::Log log;
  ScriptedTransport transport(log);
  OAuthAccessTokens tokens("xero", Oauth(std::nullopt), store, transport);
  try {
    (void)tokens.Get();
    FAIL();
  } catch (const FetchError& error) {
    EXPECT_NE(std::string(error.what()).find("refresh_token"), std::string::npos) << error.what();
  }
}

TEST(OAuthAccessTokens, ParseTokenResponseRefusesIncompleteAnswers) {
  EXPECT_THROW((void)ParseTokenResponse("xero", "not json", kT0), FetchError);
  EXPECT_THROW((void)ParseTokenResponse("xero", R"({"access_token":"a"})", kT0), FetchError);
  EXPECT_THROW((void)ParseTokenResponse(
                   "xero", R"({"access_token":"a","refresh_token":"r","expires_in":-5})", kT0),
               FetchError);
  const OAuthTokens parsed =
      ParseTokenResponse("xero", R"({"access_token":"a","refresh_token":"r"})", kT0);
  EXPECT_EQ(parsed.access_expires_at, kT0 + 1'800'000) << "30 min when expires_in is absent";
}

// ---- the source ---------------------------------------------------------------------------

HttpResponse ContactsPage() {
  return HttpResponse{200,
                      "OK",
                      {{"Content-Type", "application/json"},
                       {"X-MinLimit-Remaining", "59"},
                       {"X-DayLimit-Remaining", "4999"}},
                      R"({"Status":"OK","Contacts":[{"ContactID":"c1","Name":"A",)"
                      R"("EmailAddress":"a@example.com","ContactStatus":"ACTIVE"}]})"};
}

XeroSettings Settings() {
  XeroSettings settings;
  settings.base_url = "https://xero.test/api.xro/2.0";
  settings.xero_tenant_id = "tenant-1";
  settings.page_size = 100;
  return settings;
}

TEST(XeroSourceAccess, SendsTheRefreshedTokenAndRefreshesOnceOnA401) {
  Clock clock;
  std::vector<milliseconds> sleeps;
  MemoryTokenStore store;
  ScriptedTransport::Log api, identity;
  api.responses = {HttpResponse{401, "Unauthorized", {}, ""}, ContactsPage()};
  identity.responses = {TokenAnswer("access-1", "refresh-1"), TokenAnswer("access-2", "refresh-2")};
  XeroAccess access;
  access.oauth = Oauth();
  access.token_store = &store;
  access.now = clock.Now();
  auto source = MakeXeroSource(Settings(), access, std::make_unique<ScriptedTransport>(api),
                               std::make_unique<ScriptedTransport>(identity), clock.Sleep(sleeps));
  std::size_t persons = 0;
  (void)source->Fetch({}, [&](FinancePage&& page) { persons += page.persons.size(); });
  EXPECT_EQ(persons, 1u);
  ASSERT_EQ(api.requests.size(), 2u);
  EXPECT_EQ(HeaderOf(api.requests[0], "Authorization"), "Bearer access-1");
  EXPECT_EQ(HeaderOf(api.requests[1], "Authorization"), "Bearer access-2");
  EXPECT_EQ(store.tokens->refresh_token, "refresh-2");
}

TEST(XeroSourceAccess, ADayLimitFailsTheFetchNamingTheLimitAndCountsIt) {
  Clock clock;
  std::vector<milliseconds> sleeps;
  std::vector<std::string> hits;
  ScriptedTransport::Log api;
  api.responses = {HttpResponse{
      429, "Too Many Requests", {{"Retry-After", "5400"}, {"X-Rate-Limit-Problem", "day"}}, ""}};
  XeroSettings settings = Settings();
  settings.access_token = "static";
  XeroAccess access;
  access.now = clock.Now();
  access.on_limit = [&](std::string_view limit) { hits.emplace_back(limit); };
  auto source = MakeXeroSource(settings, access, std::make_unique<ScriptedTransport>(api), nullptr,
                               clock.Sleep(sleeps));
  try {
    (void)source->Fetch({}, [](FinancePage&&) {});
    FAIL() << "expected FetchError";
  } catch (const FetchError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("day limit"), std::string::npos) << message;
    EXPECT_NE(message.find(FormatResetTime(kT0 + 5'400'000)), std::string::npos) << message;
  }
  EXPECT_EQ(api.requests.size(), 1u) << "no retry";
  EXPECT_TRUE(sleeps.empty());
  EXPECT_EQ(hits, std::vector<std::string>{"day"});
}

TEST(XeroSourceAccess, SharedLimiterCarriesTheMinuteOverToTheNextRun) {
  Clock clock;
  std::vector<milliseconds> sleeps;
  auto limiter = std::make_shared<RateLimiter>(RateLimits{.per_minute = 2});
  XeroSettings settings = Settings();
  settings.access_token = "static";
  for (int run = 0; run < 2; ++run) {
    ScriptedTransport::Log api;
    api.responses = {ContactsPage()};
    XeroAccess access;
    access.now = clock.Now();
    access.limiter = limiter;
    auto source = MakeXeroSource(settings, access, std::make_unique<ScriptedTransport>(api),
                                 nullptr, clock.Sleep(sleeps));
    (void)source->Fetch({}, [](FinancePage&&) {});
  }
  EXPECT_TRUE(sleeps.empty());
  ScriptedTransport::Log api;
  api.responses = {ContactsPage()};
  XeroAccess access;
  access.now = clock.Now();
  access.limiter = limiter;
  auto third = MakeXeroSource(settings, access, std::make_unique<ScriptedTransport>(api), nullptr,
                              clock.Sleep(sleeps));
  (void)third->Fetch({}, [](FinancePage&&) {});
  EXPECT_EQ(sleeps, std::vector<milliseconds>{seconds(60)}) << "the third call in a minute waits";
}

TEST(XeroSourceAccess, EitherAStaticTokenOrOAuth) {
  XeroSettings settings = Settings();
  ScriptedTransport::Log log;
  EXPECT_THROW((void)MakeXeroSource(settings, XeroAccess{},
                                    std::make_unique<ScriptedTransport>(log), nullptr),
               std::invalid_argument);
  MemoryTokenStore store;
  settings.access_token = "static";
  XeroAccess access;
  access.oauth = Oauth();
  access.token_store = &store;
  EXPECT_THROW((void)MakeXeroSource(settings, access, std::make_unique<ScriptedTransport>(log),
                                    std::make_unique<ScriptedTransport>(log)),
               std::invalid_argument);
}

}  // namespace
}  // namespace concord::connectors
