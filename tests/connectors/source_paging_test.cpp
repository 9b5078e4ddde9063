// The paging loops of the Xero, QBO, MYOB and SCIM sources over a scripted transport: which
// requests they send, when they stop, what they report, and how they fail. No network.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "connectors/myob.hpp"
#include "connectors/qbo.hpp"
#include "connectors/scim.hpp"
#include "connectors/xero.hpp"
#include "scripted_transport.hpp"

namespace concord::connectors {
namespace {

using testing::HeaderOf;
using testing::ScriptedTransport;

HttpResponse Json(std::string body, HttpHeaders extra = {}) {
  HttpResponse response{
      200, "OK", {{"Content-Type", "application/json; charset=utf-8"}}, std::move(body)};
  for (auto& header : extra) response.headers.push_back(std::move(header));
  return response;
}

// A Xero Contacts page holding contacts first..last (ids "c<n>").
HttpResponse XeroPageOf(int first, int last, std::optional<int> page_count,
                        const char* date_time = "\\/Date(1718000000123)\\/") {
  std::string contacts;
  for (int n = first; n <= last; ++n) {
    if (!contacts.empty()) contacts += ",";
    contacts += R"({"ContactID":"c)" + std::to_string(n) + R"(","Name":"Account )" +
                std::to_string(n) + R"(","EmailAddress":"p)" + std::to_string(n) +
                R"(@example.com","ContactStatus":"ACTIVE"})";
  }
  std::string body = R"({"Status":"OK",)";
  if (date_time != nullptr) body += R"("DateTimeUTC":")" + std::string(date_time) + R"(",)";
  if (page_count) body += R"("pagination":{"pageCount":)" + std::to_string(*page_count) + "},";
  body += R"("Contacts":[)" + contacts + "]}";
  return Json(std::move(body), {{"Date", "Sun, 09 Jun 2024 23:40:11 GMT"}});
}

XeroSettings Xero(int page_size) {
  XeroSettings settings;
  settings.base_url = "https://xero.test/api.xro/2.0";
  settings.access_token = "token-1";
  settings.xero_tenant_id = "tenant-1";
  settings.page_size = page_size;
  settings.http.timeout_seconds = 7;
  settings.http.hooks.random = [] { return 1.0; };  // no jitter: the backoff steps themselves
  return settings;
}

struct Collected {
  std::vector<std::string> remote_ids;
  std::size_t quarantined = 0;
  int pages = 0;
};

FetchSummary FetchXero(FinanceSource& source, const FetchRequest& request, Collected& out) {
  return source.Fetch(request, [&](FinancePage&& page) {
    ++out.pages;
    for (const auto& person : page.persons) out.remote_ids.push_back(person.remote_id);
    out.quarantined += page.quarantined.size();
  });
}

FetchSummary FetchScim(PortalSource& source, const FetchRequest& request, Collected& out) {
  return source.Fetch(request, [&](PortalPage&& page) {
    ++out.pages;
    for (const auto& user : page.users) out.remote_ids.push_back(user.remote_id);
    out.quarantined += page.quarantined.size();
  });
}

TEST(XeroSource, PagesUntilAShortPage) {
  ScriptedTransport::Log log;
  log.responses = {XeroPageOf(1, 3, std::nullopt), XeroPageOf(4, 6, std::nullopt),
                   XeroPageOf(7, 7, std::nullopt)};
  auto source = MakeXeroSource(Xero(3), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  const FetchSummary summary = FetchXero(*source, {}, got);

  EXPECT_EQ(got.remote_ids, (std::vector<std::string>{"c1", "c2", "c3", "c4", "c5", "c6", "c7"}));
  EXPECT_EQ(summary.pages, 3);
  EXPECT_EQ(summary.records, 7);
  EXPECT_EQ(summary.source_clock, 1718000000123) << "the envelope's DateTimeUTC";
  ASSERT_EQ(log.requests.size(), 3u);
  for (std::size_t i = 0; i < log.requests.size(); ++i) {
    const HttpRequest& request = log.requests[i];
    EXPECT_EQ(request.url, "https://xero.test/api.xro/2.0/Contacts?page=" + std::to_string(i + 1) +
                               "&pageSize=3&includeArchived=true");
    EXPECT_EQ(HeaderOf(request, "Authorization"), "Bearer token-1");
    EXPECT_EQ(HeaderOf(request, "xero-tenant-id"), "tenant-1");
    EXPECT_EQ(HeaderOf(request, "Accept"), "application/json");
    EXPECT_EQ(HeaderOf(request, "If-Modified-Since"), std::nullopt) << "a full read";
    EXPECT_EQ(request.timeout, std::chrono::seconds(7));
  }
}

TEST(XeroSource, StopsAtPageCountAndOnAnEmptyPage) {
  {
    ScriptedTransport::Log log;
    log.responses = {XeroPageOf(1, 2, 2), XeroPageOf(3, 4, 2)};
    auto source = MakeXeroSource(Xero(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    EXPECT_EQ(FetchXero(*source, {}, got).pages, 2);
    EXPECT_EQ(got.remote_ids.size(), 4u);
  }
  {
    ScriptedTransport::Log log;
    log.responses = {XeroPageOf(1, 2, std::nullopt), XeroPageOf(1, 0, std::nullopt)};
    auto source = MakeXeroSource(Xero(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    EXPECT_EQ(FetchXero(*source, {}, got).pages, 2);
    EXPECT_EQ(got.remote_ids.size(), 2u);
  }
}

TEST(XeroSource, IncrementalSendsIfModifiedSince) {
  ScriptedTransport::Log log;
  log.responses = {XeroPageOf(1, 1, 1)};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  (void)FetchXero(*source, FetchRequest{1717976411999}, got);
  ASSERT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(HeaderOf(log.requests[0], "If-Modified-Since"), "2024-06-09T23:40:11");
}

TEST(XeroSource, NotModifiedEndsTheFetchWithTheDateHeaderAsClock) {
  ScriptedTransport::Log log;
  log.responses = {
      HttpResponse{304, "Not Modified", {{"Date", "Sun, 09 Jun 2024 23:40:11 GMT"}}, {}}};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  const FetchSummary summary = FetchXero(*source, FetchRequest{1}, got);
  EXPECT_EQ(summary.pages, 0);
  EXPECT_EQ(got.pages, 0);
  EXPECT_EQ(summary.source_clock, 1717976411000);
}

TEST(XeroSource, ClockFallsBackToTheDateHeader) {
  ScriptedTransport::Log log;
  log.responses = {XeroPageOf(1, 1, 1, nullptr)};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchXero(*source, {}, got).source_clock, 1717976411000);
}

TEST(XeroSource, ErrorStatusNamesConnectorUrlStatusDetailAndCorrelation) {
  ScriptedTransport::Log log;
  log.responses = {HttpResponse{
      401,
      "Unauthorized",
      {{"Content-Type", "application/json"}, {"Xero-Correlation-Id", "corr-42"}},
      R"({"Type":null,"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: token expired"})"}};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  try {
    (void)FetchXero(*source, {}, got);
    FAIL() << "expected HttpStatusError";
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 401);
    EXPECT_EQ(std::string(error.what()),
              "xero: GET https://xero.test/api.xro/2.0/Contacts?page=1&pageSize=100"
              "&includeArchived=true returned 401 Unauthorized: TokenExpired: token expired "
              "(Xero-Correlation-Id: corr-42)");
  }
}

TEST(XeroSource, RetriesRateLimitsAndUnavailableServers) {
  ScriptedTransport::Log log;
  log.responses = {HttpResponse{429, "Too Many Requests", {{"Retry-After", "2"}}, ""},
                   HttpResponse{503, "Service Unavailable", {}, ""}, XeroPageOf(1, 1, 1)};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchXero(*source, {}, got).records, 1);
  EXPECT_EQ(log.requests.size(), 3u);
  EXPECT_EQ(log.sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::seconds(2),
                                                                std::chrono::milliseconds(500)}))
      << "Retry-After (the rate limiter's wait, not a retry), then the first step of the backoff";
}

TEST(XeroSource, GivesUpAfterMaxRetries) {
  ScriptedTransport::Log log;
  for (int i = 0; i < 4; ++i) {
    log.responses.push_back(HttpResponse{503, "Service Unavailable", {}, ""});
  }
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  try {
    (void)FetchXero(*source, {}, got);
    FAIL();
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 503);
  }
  EXPECT_EQ(log.requests.size(), 4u);
  EXPECT_EQ(log.sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500),
                                                                std::chrono::milliseconds(1000),
                                                                std::chrono::milliseconds(2000)}));
}

TEST(XeroSource, RetriesOnlyTransientTransportFailures) {
  ScriptedTransport::Log log;
  log.responses = {TransportError("GET u failed: timed out after 7000 ms (during read)", true),
                   XeroPageOf(1, 1, 1)};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchXero(*source, {}, got).records, 1);
  EXPECT_EQ(log.sleeps.size(), 1u);

  ScriptedTransport::Log refused;
  refused.responses = {TransportError("GET u failed: connect: Connection refused", false)};
  auto failing =
      MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(refused), refused.Sleep());
  EXPECT_THROW((void)FetchXero(*failing, {}, got), TransportError);
  EXPECT_EQ(refused.requests.size(), 1u);
  EXPECT_TRUE(refused.sleeps.empty());
}

TEST(XeroSource, NoRetriesWhenDisabled) {
  ScriptedTransport::Log log;
  log.responses = {HttpResponse{503, "Service Unavailable", {}, ""}};
  XeroSettings settings = Xero(100);
  settings.http.max_retries = 0;
  auto source = MakeXeroSource(settings, std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_THROW((void)FetchXero(*source, {}, got), HttpStatusError);
  EXPECT_EQ(log.requests.size(), 1u);
}

TEST(XeroSource, DayLimitFailsAtOnceWithRetryAfter) {
  ScriptedTransport::Log log;
  log.responses = {HttpResponse{
      429, "Too Many Requests", {{"Retry-After", "3600"}, {"X-Rate-Limit-Problem", "day"}}, ""}};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  try {
    (void)FetchXero(*source, {}, got);
    FAIL() << "expected FetchError";
  } catch (const FetchError& error) {
    EXPECT_NE(std::string(error.what()).find("day limit"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("Retry-After: 3600 s"), std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(log.sleeps.empty());
  EXPECT_EQ(log.requests.size(), 1u);
}

TEST(XeroSource, NonJsonOrMalformedBodiesAreFetchErrors) {
  {
    ScriptedTransport::Log log;
    log.responses = {HttpResponse{200, "OK", {{"Content-Type", "text/xml"}}, "<Response/>"}};
    auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      FAIL();
    } catch (const FetchError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind("xero: GET https://xero.test/", 0), 0u) << message;
      EXPECT_NE(message.find("text/xml"), std::string::npos) << message;
    }
  }
  {
    ScriptedTransport::Log log;
    log.responses = {Json(R"({"Contacts":[{"ContactID":"x"})")};
    auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      FAIL();
    } catch (const FetchError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind("xero: GET https://xero.test/", 0), 0u) << message;
      EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
    }
  }
}

TEST(XeroSource, TransportErrorsNameTheConnector) {
  ScriptedTransport::Log log;
  log.responses = {
      TransportError("GET https://xero.test/x failed: connect: Connection refused", false)};
  auto source = MakeXeroSource(Xero(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  try {
    (void)FetchXero(*source, {}, got);
    FAIL();
  } catch (const FetchError& error) {
    EXPECT_EQ(std::string(error.what()),
              "xero: GET https://xero.test/x failed: connect: Connection refused");
  }
}

TEST(XeroSource, RejectsUnusableSettings) {
  ScriptedTransport::Log log;
  const auto make = [&](XeroSettings settings) {
    return MakeXeroSource(std::move(settings), std::make_unique<ScriptedTransport>(log),
                          log.Sleep());
  };
  XeroSettings settings = Xero(0);
  EXPECT_THROW(make(settings), std::invalid_argument);
  settings = Xero(1001);
  EXPECT_THROW(make(settings), std::invalid_argument);
  settings = Xero(10);
  settings.base_url = "api.xero.com";
  EXPECT_THROW(make(settings), std::invalid_argument);
  settings = Xero(10);
  settings.access_token.clear();
  EXPECT_THROW(make(settings), std::invalid_argument);
  settings = Xero(10);
  settings.xero_tenant_id.clear();
  EXPECT_THROW(make(settings), std::invalid_argument);
  settings = Xero(10);
  settings.http.timeout_seconds = 0;
  EXPECT_THROW(make(settings), std::invalid_argument);
  settings = Xero(10);
  settings.http.max_retries = -1;
  EXPECT_THROW(make(settings), std::invalid_argument);
}

// A SCIM ListResponse holding users first..last (ids "u<n>") out of total.
HttpResponse ScimPageOf(int first, int last, int total, bool with_resources = true) {
  std::string users;
  for (int n = first; n <= last; ++n) {
    if (!users.empty()) users += ",";
    users += R"({"id":"u)" + std::to_string(n) + R"(","userName":"u)" + std::to_string(n) +
             R"(@example.com"})";
  }
  std::string body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)";
  body += R"("totalResults":)" + std::to_string(total) + R"(,"startIndex":)" +
          std::to_string(first) + R"(,"itemsPerPage":)" + std::to_string(last - first + 1);
  if (with_resources) body += R"(,"Resources":[)" + users + "]";
  body += "}";
  HttpResponse response = Json(std::move(body), {{"Date", "Sun, 09 Jun 2024 23:40:11 GMT"}});
  response.headers[0].second = "application/scim+json";
  return response;
}

ScimSettings Scim(int page_size) {
  ScimSettings settings;
  settings.base_url = "https://portal.test/scim/v2";
  settings.token = "scim-token";
  settings.page_size = page_size;
  settings.http.hooks.random = [] { return 1.0; };
  return settings;
}

TEST(ScimSource, PagesByStartIndexUntilTotalResults) {
  ScriptedTransport::Log log;
  log.responses = {ScimPageOf(1, 3, 7), ScimPageOf(4, 6, 7), ScimPageOf(7, 7, 7)};
  auto source = MakeScimSource(Scim(3), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  const FetchSummary summary = FetchScim(*source, {}, got);

  EXPECT_EQ(got.remote_ids, (std::vector<std::string>{"u1", "u2", "u3", "u4", "u5", "u6", "u7"}));
  EXPECT_EQ(summary.pages, 3);
  EXPECT_EQ(summary.records, 7);
  EXPECT_EQ(summary.source_clock, 1717976411000) << "the first response's Date header";
  ASSERT_EQ(log.requests.size(), 3u);
  const char* const starts[] = {"1", "4", "7"};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(log.requests[i].url, std::string("https://portal.test/scim/v2/Users?startIndex=") +
                                       starts[i] + "&count=3");
    EXPECT_EQ(HeaderOf(log.requests[i], "Authorization"), "Bearer scim-token");
    EXPECT_EQ(HeaderOf(log.requests[i], "Accept"), "application/scim+json, application/json");
  }
}

TEST(ScimSource, ToleratesShortPages) {
  ScriptedTransport::Log log;
  log.responses = {ScimPageOf(1, 2, 5), ScimPageOf(3, 4, 5), ScimPageOf(5, 5, 5)};
  auto source = MakeScimSource(Scim(3), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  (void)FetchScim(*source, {}, got);
  EXPECT_EQ(got.remote_ids.size(), 5u);
  ASSERT_EQ(log.requests.size(), 3u);
  EXPECT_EQ(log.requests[1].url, "https://portal.test/scim/v2/Users?startIndex=3&count=3");
  EXPECT_EQ(log.requests[2].url, "https://portal.test/scim/v2/Users?startIndex=5&count=3");
}

TEST(ScimSource, AnEmptyPageThatClaimsMoreIsAnErrorNotTheEnd) {
  for (const bool with_resources : {true, false}) {
    ScriptedTransport::Log log;
    log.responses = {ScimPageOf(1, 2, 9), ScimPageOf(3, 2, 9, with_resources)};
    auto source = MakeScimSource(Scim(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchScim(*source, {}, got);
      FAIL() << "an empty page before totalResults must not end the read quietly";
    } catch (const FetchError& error) {
      EXPECT_EQ(std::string(error.what()),
                "scim: GET https://portal.test/scim/v2/Users?startIndex=3&count=2 returned no "
                "users at startIndex 3 although totalResults is 9");
    }
    EXPECT_EQ(log.requests.size(), 2u);
  }
}

TEST(ScimSource, StopsOnAnEmptyPagePastAShrunkTotal) {
  ScriptedTransport::Log log;
  // Users were deleted between the pages: the second page is empty and says so.
  log.responses = {ScimPageOf(1, 2, 9), ScimPageOf(3, 2, 2, false)};
  auto source = MakeScimSource(Scim(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchScim(*source, {}, got).pages, 2);
  EXPECT_EQ(got.remote_ids.size(), 2u);
}

TEST(ScimSource, EmptyDirectory) {
  ScriptedTransport::Log log;
  log.responses = {ScimPageOf(1, 0, 0, false)};
  auto source = MakeScimSource(Scim(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  const FetchSummary summary = FetchScim(*source, {}, got);
  EXPECT_EQ(summary.records, 0);
  EXPECT_EQ(log.requests.size(), 1u);
}

TEST(ScimSource, IncrementalSendsTheFilter) {
  ScriptedTransport::Log log;
  log.responses = {ScimPageOf(1, 1, 1)};
  auto source = MakeScimSource(Scim(50), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  (void)FetchScim(*source, FetchRequest{1717976411000}, got);
  ASSERT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(log.requests[0].url,
            "https://portal.test/scim/v2/Users?startIndex=1&count=50&filter=meta.lastModified"
            "%20gt%20%222024-06-09T23:40:11Z%22");
}

TEST(ScimSource, ErrorStatusNamesConnectorUrlStatusAndDetail) {
  ScriptedTransport::Log log;
  log.responses = {
      HttpResponse{401,
                   "Unauthorized",
                   {{"Content-Type", "application/scim+json"}},
                   R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401",
          "detail":"bearer token rejected"})"}};
  auto source = MakeScimSource(Scim(50), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  try {
    (void)FetchScim(*source, {}, got);
    FAIL();
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 401);
    EXPECT_EQ(std::string(error.what()),
              "scim: GET https://portal.test/scim/v2/Users?startIndex=1&count=50 returned 401 "
              "Unauthorized: bearer token rejected");
  }
}

TEST(ScimSource, ErrorStatusNamesTheScimType) {
  ScriptedTransport::Log log;
  log.responses = {
      HttpResponse{400,
                   "Bad Request",
                   {{"Content-Type", "application/scim+json"}},
                   R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400",
          "scimType":"tooMany","detail":"count must be at most 100"})"},
      HttpResponse{502, "Bad Gateway", {{"Content-Type", "text/html"}}, "<html>oops</html>"}};
  ScimSettings settings = Scim(500);
  settings.http.max_retries = 0;
  auto source = MakeScimSource(settings, std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  const auto message = [&] {
    try {
      (void)FetchScim(*source, {}, got);
    } catch (const HttpStatusError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(),
            "scim: GET https://portal.test/scim/v2/Users?startIndex=1&count=500 returned 400 "
            "Bad Request: tooMany: count must be at most 100");
  EXPECT_EQ(message(),
            "scim: GET https://portal.test/scim/v2/Users?startIndex=1&count=500 returned 502 "
            "Bad Gateway")
      << "a body that is not a SCIM Error adds nothing";
}

TEST(ScimSource, RetriesRateLimits) {
  ScriptedTransport::Log log;
  log.responses = {HttpResponse{429, "Too Many Requests", {{"Retry-After", "30"}}, ""},
                   ScimPageOf(1, 1, 1)};
  auto source = MakeScimSource(Scim(5), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchScim(*source, {}, got).records, 1);
  EXPECT_EQ(log.sleeps, std::vector<std::chrono::milliseconds>{std::chrono::seconds(30)});
}

TEST(ScimSource, RejectsUnusableSettings) {
  ScriptedTransport::Log log;
  ScimSettings settings = Scim(0);
  EXPECT_THROW(MakeScimSource(settings, std::make_unique<ScriptedTransport>(log), log.Sleep()),
               std::invalid_argument);
  settings = Scim(10);
  settings.token.clear();
  EXPECT_THROW(MakeScimSource(settings, std::make_unique<ScriptedTransport>(log), log.Sleep()),
               std::invalid_argument);
}

// ---- QuickBooks Online --------------------------------------------------------------------

QboSettings Qbo(int page_size) {
  QboSettings settings;
  settings.base_url = "https://qbo.test";
  settings.access_token = "qbo-token";
  settings.realm_id = "9130350000000001";
  settings.page_size = page_size;
  settings.http.timeout_seconds = 9;
  settings.http.hooks.random = [] { return 1.0; };
  return settings;
}

// A query response holding customers first..last (Ids "<n>"); `extra` is appended raw.
HttpResponse QboPageOf(int first, int last, const std::string& extra = "",
                       HttpHeaders headers = {}) {
  std::string customers;
  for (int n = first; n <= last; ++n) {
    if (!customers.empty()) customers += ",";
    customers += R"({"Id":")" + std::to_string(n) + R"(","DisplayName":"Account )" +
                 std::to_string(n) + R"(","Active":true})";
  }
  if (!extra.empty()) customers += (customers.empty() ? "" : ",") + extra;
  std::string body = customers.empty() ? std::string(R"({"QueryResponse":{})")
                                       : R"({"QueryResponse":{"Customer":[)" + customers + "]}";
  body += R"(,"time":"2024-06-10T09:15:02.118-07:00"})";
  headers.emplace_back("intuit_tid", "1-abc");
  return Json(std::move(body), std::move(headers));
}

// The decoded value of the query parameter `name` in `url`.
std::string QueryParam(const std::string& url, const std::string& name) {
  const std::size_t at = url.find(name + "=");
  if (at == std::string::npos) return {};
  const std::size_t start = at + name.size() + 1;
  const std::string encoded = url.substr(start, url.find('&', start) - start);
  std::string decoded;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      decoded.push_back(static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      decoded.push_back(encoded[i]);
    }
  }
  return decoded;
}

TEST(QboSource, PagesByStartPositionUntilAShortPage) {
  ScriptedTransport::Log log;
  log.responses = {QboPageOf(1, 2), QboPageOf(3, 4), QboPageOf(5, 5)};
  auto source = MakeQboSource(Qbo(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  const FetchSummary summary = FetchXero(*source, {}, got);
  EXPECT_EQ(got.remote_ids, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(summary.pages, 3);
  EXPECT_EQ(summary.records, 5);
  EXPECT_EQ(summary.source_clock, 1718036102118) << "the envelope's time";
  ASSERT_EQ(log.requests.size(), 3u);
  for (std::size_t i = 0; i < log.requests.size(); ++i) {
    const HttpRequest& request = log.requests[i];
    EXPECT_TRUE(request.url.starts_with("https://qbo.test/v3/company/9130350000000001/query?"))
        << request.url;
    EXPECT_EQ(QueryParam(request.url, "query"),
              "select * from Customer where Active IN (true,false) orderby Id startposition " +
                  std::to_string(2 * i + 1) + " maxresults 2");
    EXPECT_EQ(QueryParam(request.url, "minorversion"), "75");
    EXPECT_EQ(HeaderOf(request, "Authorization"), "Bearer qbo-token");
    EXPECT_EQ(HeaderOf(request, "Accept"), "application/json");
    EXPECT_EQ(request.timeout, std::chrono::seconds(9));
  }
}

TEST(QboSource, AFullLastPageIsFollowedByAnEmptyOne) {
  ScriptedTransport::Log log;
  log.responses = {QboPageOf(1, 2), QboPageOf(1, 0)};
  auto source = MakeQboSource(Qbo(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchXero(*source, {}, got).pages, 2);
  EXPECT_EQ(got.remote_ids.size(), 2u);
}

TEST(QboSource, IncrementalFiltersOnLastUpdatedTimeAndSendsTheConfiguredMinorversion) {
  ScriptedTransport::Log log;
  log.responses = {QboPageOf(1, 1)};
  QboSettings settings = Qbo(100);
  settings.minorversion = 76;
  auto source = MakeQboSource(settings, std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  (void)FetchXero(*source, FetchRequest{1717976411999}, got);
  ASSERT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(QueryParam(log.requests[0].url, "query"),
            "select * from Customer where Active IN (true,false) and Metadata.LastUpdatedTime >= "
            "'2024-06-09T23:40:11+00:00' orderby Id startposition 1 maxresults 100");
  EXPECT_NE(log.requests[0].url.find("%2B00:00"), std::string::npos) << "'+' is encoded";
  EXPECT_EQ(QueryParam(log.requests[0].url, "minorversion"), "76");
}

TEST(QboSource, ClockFallsBackToTheDateHeader) {
  ScriptedTransport::Log log;
  log.responses = {Json(R"({"QueryResponse":{}})", {{"Date", "Sun, 09 Jun 2024 23:40:11 GMT"}})};
  auto source = MakeQboSource(Qbo(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchXero(*source, {}, got).source_clock, 1717976411000);
}

TEST(QboSource, SubCustomersJoinTheirTopLevelAccountLookingUpUnknownAncestors) {
  // An incremental page holding only a level-2 job: its parent (a level-1 sub-customer) and
  // the top-level customer are read by Id, then the job lands on the top-level account.
  ScriptedTransport::Log log;
  log.responses = {
      QboPageOf(1, 0,
                R"({"Id":"30","Job":true,"Level":2,"ParentRef":{"value":"20"},)"
                R"("FullyQualifiedName":"Top Co:Site:Kitchen","GivenName":"Kit"})"),
      QboPageOf(1, 0, R"({"Id":"20","Job":true,"Level":1,"ParentRef":{"value":"10"}})")};
  auto source = MakeQboSource(Qbo(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
  std::vector<reconcile::FinancePerson> persons;
  (void)source->Fetch(FetchRequest{1}, [&](FinancePage&& page) {
    for (auto& p : page.persons) persons.push_back(std::move(p));
  });
  ASSERT_EQ(persons.size(), 1u) << "looked-up ancestors are not delivered";
  EXPECT_EQ(persons[0].remote_id, "30");
  EXPECT_EQ(persons[0].account_id, "10");
  EXPECT_EQ(persons[0].account_name, "Top Co");
  ASSERT_EQ(log.requests.size(), 2u);
  EXPECT_EQ(QueryParam(log.requests[1].url, "query"),
            "select * from Customer where Active IN (true,false) and Id IN ('20') maxresults 1");
}

TEST(QboSource, FaultsNameConnectorUrlStatusCodeDetailAndIntuitTid) {
  struct Case {
    HttpResponse response;
    int status;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {HttpResponse{
           401,
           "Unauthorized",
           {{"Content-Type", "application/json"}, {"intuit_tid", "1-tid-401"}},
           R"({"warnings":null,"fault":{"error":[{"message":"message=AuthenticationFailed;)"
           R"( errorCode=003200; statusCode=401","detail":"Token expired: x","code":"3200",)"
           R"("element":null}],"type":"AUTHENTICATION"},"time":1633520295688})"},
       401,
       {"qbo: GET https://qbo.test/v3/company/9130350000000001/query?",
        " returned 401 Unauthorized", "AuthenticationFailed", "(code 3200): Token expired: x",
        "(intuit_tid: 1-tid-401)"}},
      {HttpResponse{400,
                    "Bad Request",
                    {{"Content-Type", "application/json"}, {"intuit_tid", "1-tid-400"}},
                    R"({"Fault":{"Error":[{"Message":"Error parsing query","Detail":)"
                    R"("QueryParserError: Encountered \"x\"","code":"4000"}],)"
                    R"("type":"ValidationFault"},"time":"2024-06-10T09:15:02-07:00"})"},
       400,
       {"returned 400 Bad Request: Error parsing query (code 4000): QueryParserError",
        "(intuit_tid: 1-tid-400)"}},
      {HttpResponse{403,
                    "Forbidden",
                    {{"Content-Type", "application/xml"}},
                    R"(<Fault type="AuthenticationFault"><Error code="100"><Message>General )"
                    R"(Authentication Error</Message></Error></Fault>)"},
       403,
       {"returned 403 Forbidden: General Authentication Error (code 100)"}},
  };
  for (const Case& c : cases) {
    ScriptedTransport::Log log;
    log.responses = {c.response};
    auto source = MakeQboSource(Qbo(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      ADD_FAILURE() << "expected HttpStatusError for " << c.status;
    } catch (const HttpStatusError& error) {
      EXPECT_EQ(error.status(), c.status);
      for (const std::string& part : c.expected) {
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
            << error.what() << "\nshould contain: " << part;
      }
    }
  }
}

TEST(QboSource, ThrottleIsRetriedThenReportedWithTheXmlFault) {
  const HttpResponse throttled{
      429,
      "Too Many Requests",
      {{"Content-Type", "application/xml"}},
      R"(<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; )"
      R"(errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.)"
      R"(</Detail></Error></Fault>)"};
  {
    ScriptedTransport::Log log;
    log.responses = {throttled, QboPageOf(1, 1)};
    auto source = MakeQboSource(Qbo(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    EXPECT_EQ(FetchXero(*source, {}, got).records, 1);
    EXPECT_EQ(log.sleeps.size(), 1u);
  }
  {
    ScriptedTransport::Log log;
    log.responses = {throttled, throttled, throttled, throttled};
    auto source = MakeQboSource(Qbo(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      FAIL() << "expected HttpStatusError";
    } catch (const HttpStatusError& error) {
      EXPECT_EQ(error.status(), 429);
      EXPECT_NE(std::string(error.what()).find("ThrottleExceeded"), std::string::npos)
          << error.what();
    }
  }
}

TEST(QboSource, XmlJsonFaultsAndMalformedBodiesAreFetchErrors) {
  const std::pair<HttpResponse, std::string> cases[] = {
      {HttpResponse{200,
                    "OK",
                    {{"Content-Type", "application/xml"}},
                    "<IntuitResponse><QueryResponse/></IntuitResponse>"},
       "returned Content-Type 'application/xml', expected JSON"},
      {Json(R"({"Fault":{"Error":[{"Message":"Boom","code":"10000"}],"type":"SystemFault"}})"),
       "returned 200 with a fault: Boom (code 10000)"},
      {Json(R"({"QueryResponse":{"Customer":{}}})"), "unreadable query response"},
      {Json("{truncated"), "unreadable query response"},
  };
  for (const auto& [response, expected] : cases) {
    ScriptedTransport::Log log;
    log.responses = {response};
    auto source = MakeQboSource(Qbo(100), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      ADD_FAILURE() << "expected a FetchError: " << expected;
    } catch (const HttpStatusError& error) {
      ADD_FAILURE() << "not a status error: " << error.what();
    } catch (const FetchError& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("qbo: GET https://qbo.test/"), std::string::npos);
    }
    EXPECT_EQ(got.pages, 0);
  }
}

TEST(QboSource, RejectsUnusableSettings) {
  const auto error_of = [](QboSettings settings) -> std::string {
    ScriptedTransport::Log log;
    try {
      (void)MakeQboSource(std::move(settings), std::make_unique<ScriptedTransport>(log), {});
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  QboSettings bad = Qbo(100);
  bad.base_url = "qbo.test";
  EXPECT_NE(error_of(bad).find("base_url"), std::string::npos);
  bad = Qbo(1001);
  EXPECT_NE(error_of(bad).find("page_size"), std::string::npos);
  bad = Qbo(0);
  EXPECT_NE(error_of(bad).find("page_size"), std::string::npos);
  bad = Qbo(100);
  bad.access_token.clear();
  EXPECT_NE(error_of(bad).find("access_token"), std::string::npos);
  bad = Qbo(100);
  bad.realm_id.clear();
  EXPECT_NE(error_of(bad).find("realm_id"), std::string::npos);
  bad = Qbo(100);
  bad.minorversion = 0;
  EXPECT_NE(error_of(bad).find("minorversion"), std::string::npos);
  EXPECT_EQ(error_of(Qbo(1000)), "");
}

// ---- MYOB ---------------------------------------------------------------------------------

constexpr const char* kMyobBase = "https://arl2.myob.test/accountright/cf-1";

MyobSettings Myob(int page_size) {
  MyobSettings settings;
  settings.base_url = kMyobBase;
  settings.api_key = "myob-key";
  settings.access_token = "myob-token";
  settings.page_size = page_size;
  settings.http.timeout_seconds = 11;
  settings.http.hooks.random = [] { return 1.0; };
  return settings;
}

// A Customer page holding customers first..last (UIDs "u<n>"), Count `count`, and `next` as
// NextPageLink (empty: null).
HttpResponse MyobPageOf(int first, int last, const std::string& next, int count,
                        HttpHeaders headers = {}) {
  std::string items;
  for (int n = first; n <= last; ++n) {
    if (!items.empty()) items += ",";
    items += R"({"UID":"u)" + std::to_string(n) + R"(","CompanyName":"Account )" +
             std::to_string(n) + R"(","IsActive":true,"Addresses":[{"Location":1,"Email":"p)" +
             std::to_string(n) + R"(@example.com"}]})";
  }
  std::string body = R"({"Items":[)" + items + R"(],"NextPageLink":)" +
                     (next.empty() ? std::string("null") : "\"" + next + "\"") + R"(,"Count":)" +
                     std::to_string(count) + "}";
  headers.emplace_back("x-myobapi-requestid", "req-1");
  return Json(std::move(body), std::move(headers));
}

TEST(MyobSource, FollowsNextPageLinkWithEveryHeader) {
  const std::string page2 = std::string(kMyobBase) + "/Contact/Customer?$top=2&$skip=2";
  const std::string page3 = std::string(kMyobBase) + "/Contact/Customer?$top=2&$skip=4";
  ScriptedTransport::Log log;
  log.responses = {MyobPageOf(1, 2, page2, 5, {{"Date", "Sun, 09 Jun 2024 23:40:11 GMT"}}),
                   MyobPageOf(3, 4, page3, 5, {{"Date", "Sun, 09 Jun 2024 23:41:00 GMT"}}),
                   MyobPageOf(5, 5, "", 5)};
  MyobSettings settings = Myob(2);
  settings.cftoken = "QWRtaW5pc3RyYXRvcjo=";
  auto source = MakeMyobSource(settings, std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  const FetchSummary summary = FetchXero(*source, {}, got);
  EXPECT_EQ(got.remote_ids, (std::vector<std::string>{"u1", "u2", "u3", "u4", "u5"}));
  EXPECT_EQ(summary.pages, 3);
  EXPECT_EQ(summary.records, 5);
  EXPECT_EQ(summary.source_clock, 1717976411000) << "the first response's Date header";
  ASSERT_EQ(log.requests.size(), 3u);
  EXPECT_EQ(log.requests[0].url, std::string(kMyobBase) + "/Contact/Customer?$top=2");
  EXPECT_EQ(log.requests[1].url, page2);
  EXPECT_EQ(log.requests[2].url, page3);
  for (const HttpRequest& request : log.requests) {
    EXPECT_EQ(HeaderOf(request, "Authorization"), "Bearer myob-token");
    EXPECT_EQ(HeaderOf(request, "x-myobapi-key"), "myob-key");
    EXPECT_EQ(HeaderOf(request, "x-myobapi-version"), "v2");
    EXPECT_EQ(HeaderOf(request, "x-myobapi-cftoken"), "QWRtaW5pc3RyYXRvcjo=");
    EXPECT_EQ(HeaderOf(request, "Accept"), "application/json");
    EXPECT_EQ(request.timeout, std::chrono::seconds(11));
  }
}

TEST(MyobSource, IncrementalFiltersOnLastModifiedAndSendsNoCftokenUnlessSet) {
  ScriptedTransport::Log log;
  log.responses = {MyobPageOf(1, 1, "", 1)};
  auto source = MakeMyobSource(Myob(400), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  (void)FetchXero(*source, FetchRequest{1717976411999}, got);
  ASSERT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(QueryParam(log.requests[0].url, "$filter"),
            "LastModified gt datetime'2024-06-09T23:40:11'");
  EXPECT_EQ(QueryParam(log.requests[0].url, "$top"), "400");
  EXPECT_EQ(HeaderOf(log.requests[0], "x-myobapi-cftoken"), std::nullopt);
}

TEST(MyobSource, AnEmptyPageEndsTheFetchEvenWithANextPageLink) {
  ScriptedTransport::Log log;
  log.responses = {MyobPageOf(1, 0, std::string(kMyobBase) + "/Contact/Customer?$skip=9", 0)};
  auto source = MakeMyobSource(Myob(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  EXPECT_EQ(FetchXero(*source, {}, got).pages, 1);
  EXPECT_TRUE(got.remote_ids.empty());
}

TEST(MyobSource, RefusesNextPageLinksElsewhereOrToItself) {
  for (const std::string& next :
       {std::string("https://evil.test/accountright/cf-1/Contact/Customer?$skip=2"),
        std::string("http://arl2.myob.test/accountright/cf-1/Contact/Customer?$skip=2"),
        std::string(kMyobBase) + "/Contact/Customer?$top=2"}) {
    ScriptedTransport::Log log;
    log.responses = {MyobPageOf(1, 2, next, 4)};
    auto source = MakeMyobSource(Myob(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      ADD_FAILURE() << "followed " << next;
    } catch (const FetchError& error) {
      EXPECT_NE(std::string(error.what()).find("NextPageLink"), std::string::npos) << error.what();
    }
    EXPECT_EQ(log.requests.size(), 1u);
  }
}

TEST(MyobSource, AFullReadFailsWhenTheCountChangesBetweenPages) {
  ScriptedTransport::Log log;
  const std::string page2 = std::string(kMyobBase) + "/Contact/Customer?$top=2&$skip=2";
  log.responses = {MyobPageOf(1, 2, page2, 4), MyobPageOf(4, 4, "", 3)};
  auto source = MakeMyobSource(Myob(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
  Collected got;
  try {
    (void)FetchXero(*source, {}, got);
    FAIL() << "expected FetchError";
  } catch (const FetchError& error) {
    EXPECT_NE(std::string(error.what()).find("Count changed from 4 to 3"), std::string::npos)
        << error.what();
  }
  // An incremental read only re-reads what changed since the cursor: a shift is harmless.
  log.responses = {MyobPageOf(1, 2, page2, 4), MyobPageOf(4, 4, "", 3)};
  source = MakeMyobSource(Myob(2), std::make_unique<ScriptedTransport>(log), log.Sleep());
  EXPECT_EQ(FetchXero(*source, FetchRequest{1}, got).pages, 2);
}

TEST(MyobSource, ErrorsNameConnectorUrlStatusErrorsAndRequestId) {
  struct Case {
    HttpResponse response;
    int status;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {HttpResponse{401,
                    "Unauthorized",
                    {{"Content-Type", "application/json"}, {"x-myobapi-requestid", "r-401"}},
                    R"({"Errors":[{"Name":"OAuthTokenIsInvalid","Message":"The supplied )"
                    R"(OAuth token (Bearer) is not valid","AdditionalDetails":"Header: )"
                    R"(Authorization","ErrorCode":31001,"Severity":"Error"}]})"},
       401,
       {"myob: GET https://arl2.myob.test/accountright/cf-1/Contact/Customer?$top=400",
        " returned 401 Unauthorized: OAuthTokenIsInvalid (ErrorCode 31001): The supplied",
        "[Header: Authorization]", "(x-myobapi-requestid: r-401)"}},
      {HttpResponse{403,
                    "Forbidden",
                    {{"Content-Type", "application/json"}},
                    R"({"Errors":[{"Name":"DeveloperInactive","ErrorCode":403}]})"},
       403,
       {"returned 403 Forbidden: DeveloperInactive (ErrorCode 403)"}},
      {HttpResponse{501, "Not Implemented", {}, "oops"}, 501, {"returned 501 Not Implemented"}},
  };
  for (const Case& c : cases) {
    ScriptedTransport::Log log;
    log.responses = {c.response};
    auto source = MakeMyobSource(Myob(400), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      ADD_FAILURE() << "expected HttpStatusError for " << c.status;
    } catch (const HttpStatusError& error) {
      EXPECT_EQ(error.status(), c.status);
      for (const std::string& part : c.expected) {
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
            << error.what() << "\nshould contain: " << part;
      }
    }
    EXPECT_TRUE(log.sleeps.empty()) << "not retried";
  }
}

TEST(MyobSource, RateLimitsAndUnavailableServersAreRetried) {
  const HttpResponse limited{403,
                             "Forbidden",
                             {{"Content-Type", "application/json"}},
                             R"({"Errors":[{"Name":"RateLimitError","Message":"API key rate )"
                             R"(limit exceeded","AdditionalDetails":"Header: x-myobapi-key"}]})"};
  {
    ScriptedTransport::Log log;
    log.responses = {limited, HttpResponse{504, "Gateway Timeout", {}, ""},
                     HttpResponse{429, "Too Many Requests", {{"Retry-After", "2"}}, ""},
                     MyobPageOf(1, 1, "", 1)};
    auto source = MakeMyobSource(Myob(400), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    EXPECT_EQ(FetchXero(*source, {}, got).records, 1);
    EXPECT_EQ(log.sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500),
                                                                  std::chrono::milliseconds(1000),
                                                                  std::chrono::seconds(2)}));
  }
  {
    ScriptedTransport::Log log;
    log.responses = {limited, limited, limited, limited};
    auto source = MakeMyobSource(Myob(400), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      FAIL() << "expected HttpStatusError";
    } catch (const HttpStatusError& error) {
      EXPECT_EQ(error.status(), 403);
      EXPECT_NE(std::string(error.what()).find("RateLimitError"), std::string::npos)
          << error.what();
    }
    EXPECT_EQ(log.requests.size(), 4u);
  }
}

TEST(MyobSource, ErrorBodiesUnderOkNonJsonAndMalformedPagesAreFetchErrors) {
  const std::pair<HttpResponse, std::string> cases[] = {
      {HttpResponse{200, "OK", {{"Content-Type", "text/html"}}, "<html>sign in</html>"},
       "returned Content-Type 'text/html', expected JSON"},
      {Json(R"({"Errors":[{"Name":"InternalError","Message":"Boom","ErrorCode":1}]})"),
       "returned 200 with errors: InternalError (ErrorCode 1): Boom"},
      {Json(R"({"Items":{}})"), "unreadable Customer page: Items is an object"},
      {Json("{truncated"), "unreadable Customer page"},
  };
  for (const auto& [response, expected] : cases) {
    ScriptedTransport::Log log;
    log.responses = {response};
    auto source = MakeMyobSource(Myob(400), std::make_unique<ScriptedTransport>(log), log.Sleep());
    Collected got;
    try {
      (void)FetchXero(*source, {}, got);
      ADD_FAILURE() << "expected a FetchError: " << expected;
    } catch (const HttpStatusError& error) {
      ADD_FAILURE() << "not a status error: " << error.what();
    } catch (const FetchError& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("myob: GET https://arl2.myob.test/"),
                std::string::npos);
    }
    EXPECT_EQ(got.pages, 0);
  }
}

TEST(MyobSource, RejectsUnusableSettings) {
  const auto error_of = [](MyobSettings settings) -> std::string {
    ScriptedTransport::Log log;
    try {
      (void)MakeMyobSource(std::move(settings), std::make_unique<ScriptedTransport>(log), {});
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  MyobSettings bad = Myob(400);
  bad.base_url = "arl2.myob.test";
  EXPECT_NE(error_of(bad).find("base_url"), std::string::npos);
  EXPECT_NE(error_of(Myob(1001)).find("page_size"), std::string::npos);
  EXPECT_NE(error_of(Myob(0)).find("page_size"), std::string::npos);
  bad = Myob(400);
  bad.api_key.clear();
  EXPECT_NE(error_of(bad).find("api_key"), std::string::npos);
  bad = Myob(400);
  bad.access_token.clear();
  EXPECT_NE(error_of(bad).find("access_token"), std::string::npos);
  EXPECT_EQ(error_of(Myob(1000)), "");
}

}  // namespace
}  // namespace concord::connectors
