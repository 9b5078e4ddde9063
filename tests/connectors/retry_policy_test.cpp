// The retry policy every HTTP connector shares (connectors/vendor_http.hpp): which failures are
// retried, the jittered backoff, Retry-After in both forms, the per-fetch budget, and the
// notice a caller logs. Over a scripted transport with recorded waits: no network, no sleeping.

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <variant>
#include <vector>

#include "connectors/vendor_http.hpp"
#include "connectors/wire_time.hpp"
#include "connectors/xero.hpp"

namespace concord::connectors {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Answers from a script: a response, or a transport failure to throw.
class ScriptedTransport final : public HttpTransport {
 public:
  using Step = std::variant<HttpResponse, TransportError>;
  explicit ScriptedTransport(std::deque<Step> script) : steps(std::move(script)) {}

  HttpResponse Get(const HttpRequest& request) override {
    urls.push_back(request.url);
    if (steps.empty()) {
      ADD_FAILURE() << "unexpected request " << request.url;
      return HttpResponse{404, "Not Found", {}, {}};
    }
    Step step = std::move(steps.front());
    steps.pop_front();
    if (auto* failure = std::get_if<TransportError>(&step)) throw *failure;
    return std::get<HttpResponse>(std::move(step));
  }

  std::deque<Step> steps;  // what the next requests get, in order
  std::vector<std::string> urls;
};

HttpResponse Status(int status, std::string reason, HttpHeaders headers = {}) {
  return HttpResponse{status, std::move(reason), std::move(headers), ""};
}

HttpResponse Ok() { return HttpResponse{200, "OK", {{"Content-Type", "application/json"}}, "{}"}; }

// Settings whose jitter is a constant, and a recorder of waits and notices.
struct Harness {
  HttpSettings settings;
  std::vector<milliseconds> waits;
  std::vector<RetryNotice> notices;

  explicit Harness(double random = 1.0) {
    settings.hooks.random = [random] { return random; };
    settings.hooks.on_retry = [this](const RetryNotice& notice) { notices.push_back(notice); };
  }
  SleepFunction Sleep() {
    return [this](milliseconds pause) { waits.push_back(pause); };
  }
};

HttpRequest Request(std::string url = "https://api.test/v1/Things?page=1") {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

TEST(RetryPolicy, RetriesRateLimitsAndServerErrorsButNotWhatWillNotChange) {
  for (const int status : {429, 500, 502, 503, 504, 507, 520, 599}) {
    EXPECT_TRUE(detail::IsRetryableStatus(status)) << status;
  }
  // 501 and 505 describe the server's abilities; 4xx other than 429 the request itself.
  for (const int status : {200, 304, 400, 401, 403, 404, 409, 422, 501, 505}) {
    EXPECT_FALSE(detail::IsRetryableStatus(status)) << status;
  }
}

TEST(RetryPolicy, BackoffIsFullJitterUnderADoublingCap) {
  const milliseconds cap = seconds(60);
  EXPECT_EQ(detail::BackoffDelay(0, cap, 1.0), milliseconds(500));
  EXPECT_EQ(detail::BackoffDelay(1, cap, 1.0), milliseconds(1000));
  EXPECT_EQ(detail::BackoffDelay(3, cap, 1.0), milliseconds(4000));
  EXPECT_EQ(detail::BackoffDelay(3, cap, 0.25), milliseconds(1000));
  EXPECT_EQ(detail::BackoffDelay(3, cap, 0.0), milliseconds(0));
  EXPECT_EQ(detail::BackoffDelay(10, cap, 1.0), cap) << "capped by max_retry_wait_seconds";
  EXPECT_EQ(detail::BackoffDelay(200, cap, 0.5), seconds(30)) << "no overflow";
  EXPECT_EQ(detail::BackoffDelay(1, cap, 7.0), milliseconds(1000)) << "random clamped to 1";
  EXPECT_EQ(detail::BackoffDelay(1, cap, -1.0), milliseconds(0)) << "random clamped to 0";
}

TEST(RetryPolicy, RetryAfterReadsDeltaSecondsAndHttpDates) {
  EXPECT_EQ(detail::RetryAfterSeconds(Status(429, "", {{"Retry-After", " 7 "}})), 7);
  EXPECT_EQ(detail::RetryAfterSeconds(Status(429, "", {})), std::nullopt);
  EXPECT_EQ(detail::RetryAfterSeconds(Status(429, "", {{"Retry-After", "-3"}})), std::nullopt);
  EXPECT_EQ(detail::RetryAfterSeconds(Status(429, "", {{"Retry-After", "soon"}})), std::nullopt);

  // The date form is measured from the response's own Date header when it has one...
  const HttpResponse dated = Status(503, "",
                                    {{"Date", "Sun, 06 Dec 2026 12:00:00 GMT"},
                                     {"Retry-After", "Sun, 06 Dec 2026 12:00:42 GMT"}});
  EXPECT_EQ(detail::RetryAfterSeconds(dated), 42);
  EXPECT_EQ(detail::RetryAfterSeconds(dated, 0), 42) << "the server's clock wins over ours";
  // ...else from `now`; without either it cannot be read.
  const HttpResponse undated = Status(503, "", {{"Retry-After", "Sun, 06 Dec 2026 12:00:42 GMT"}});
  const reconcile::Millis noon = *ParseHttpDate("Sun, 06 Dec 2026 12:00:00 GMT");
  EXPECT_EQ(detail::RetryAfterSeconds(undated, noon), 42);
  EXPECT_EQ(detail::RetryAfterSeconds(undated, noon + 41'500), 1) << "rounded up";
  EXPECT_EQ(detail::RetryAfterSeconds(undated, noon + 3'600'000), 0) << "a past date: now";
  EXPECT_EQ(detail::RetryAfterSeconds(undated), std::nullopt);
}

TEST(RetryPolicy, ServerErrorsAndTransportHiccupsAreRetriedWithJitteredWaits) {
  Harness h(0.5);
  ScriptedTransport transport({Status(500, "Internal Server Error"),
                               TransportError("GET u failed: read: partial message", true),
                               Status(502, "Bad Gateway"), Ok()});
  const HttpResponse response =
      detail::GetWithRetries("xero", transport, Request(), h.settings, h.Sleep());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(transport.urls.size(), 4u);
  EXPECT_EQ(h.waits,
            (std::vector<milliseconds>{milliseconds(250), milliseconds(500), milliseconds(1000)}))
      << "half of 0.5 s, 1 s, 2 s";
  ASSERT_EQ(h.notices.size(), 3u);
  EXPECT_EQ(h.notices[0].connector, "xero");
  EXPECT_EQ(h.notices[0].url, "https://api.test/v1/Things?page=1");
  EXPECT_EQ(h.notices[0].cause, "500 Internal Server Error");
  EXPECT_EQ(h.notices[0].attempt, 1);
  EXPECT_EQ(h.notices[0].max_attempts, 4);
  EXPECT_EQ(h.notices[0].wait, milliseconds(250));
  EXPECT_EQ(h.notices[1].cause, "GET u failed: read: partial message");
  EXPECT_EQ(h.notices[2].attempt, 3);
}

TEST(RetryPolicy, PermanentAnswersAreReturnedAtOnce) {
  for (const int status : {400, 401, 403, 404, 501, 505}) {
    Harness h;
    ScriptedTransport transport({Status(status, "No")});
    EXPECT_EQ(detail::GetWithRetries("scim", transport, Request(), h.settings, h.Sleep()).status,
              status);
    EXPECT_TRUE(h.waits.empty()) << status;
    EXPECT_TRUE(h.notices.empty()) << status;
  }
  Harness h;
  ScriptedTransport refused({TransportError("GET u failed: connect: Connection refused", false)});
  EXPECT_THROW((void)detail::GetWithRetries("scim", refused, Request(), h.settings, h.Sleep()),
               TransportError);
  EXPECT_TRUE(h.waits.empty());
}

TEST(RetryPolicy, RetryAfterIsWaitedExactlyInEitherForm) {
  Harness h(0.0);
  ScriptedTransport transport({Status(429, "Too Many Requests", {{"Retry-After", "3"}}),
                               Status(503, "Service Unavailable",
                                      {{"Date", "Sun, 06 Dec 2026 12:00:00 GMT"},
                                       {"Retry-After", "Sun, 06 Dec 2026 12:00:05 GMT"}}),
                               Ok()});
  EXPECT_EQ(detail::GetWithRetries("qbo", transport, Request(), h.settings, h.Sleep()).status, 200);
  EXPECT_EQ(h.waits, (std::vector<milliseconds>{seconds(3), seconds(5)}));
}

TEST(RetryPolicy, TheLastResponseIsReturnedWhenAttemptsRunOut) {
  Harness h;
  h.settings.max_retries = 2;
  ScriptedTransport transport({Status(500, "Internal Server Error"),
                               Status(500, "Internal Server Error"),
                               Status(500, "Internal Server Error")});
  EXPECT_EQ(detail::GetWithRetries("myob", transport, Request(), h.settings, h.Sleep()).status,
            500);
  EXPECT_EQ(transport.urls.size(), 3u);
  EXPECT_EQ(h.waits.size(), 2u);
}

TEST(RetryPolicy, AnExhaustedBudgetFailsAtOnceSayingSo) {
  Harness h;
  h.settings.max_retries = 10;
  h.settings.retry_budget_seconds = 2;
  ScriptedTransport transport({Status(503, "Service Unavailable"),
                               Status(503, "Service Unavailable"),
                               Status(503, "Service Unavailable")});
  try {
    (void)detail::GetWithRetries("xero", transport, Request(), h.settings, h.Sleep());
    FAIL() << "expected HttpStatusError";
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 503);
    EXPECT_EQ(std::string(error.what()),
              "xero: GET https://api.test/v1/Things?page=1 returned 503 Service Unavailable; "
              "gave up after 3 attempts: waiting 2.0 s more would exceed the retry budget of "
              "2.0 s (retry_budget_seconds; 1.5 s spent)");
  }
  EXPECT_EQ(h.waits, (std::vector<milliseconds>{milliseconds(500), milliseconds(1000)}));
  EXPECT_EQ(h.notices.size(), 2u) << "no notice for a wait that does not happen";

  Harness t;
  t.settings.retry_budget_seconds = 0;
  ScriptedTransport timing_out({TransportError("GET u failed: timed out after 1000 ms", true)});
  try {
    (void)detail::GetWithRetries("scim", timing_out, Request(), t.settings, t.Sleep());
    FAIL() << "expected TransportError";
  } catch (const TransportError& error) {
    EXPECT_TRUE(error.transient());
    EXPECT_EQ(std::string(error.what()),
              "scim: GET u failed: timed out after 1000 ms; gave up after 1 attempt: waiting "
              "0.5 s more would exceed the retry budget of 0.0 s (retry_budget_seconds; 0.0 s "
              "spent)");
  }
}

TEST(RetryPolicy, TheBudgetCoversAWholeFetchNotEachPage) {
  // A two-page Xero read with a budget of 2 s: page 1 spends 1.5 s on two retries, so page 2
  // may wait 0.5 s but not the 1 s after that, though 1.5 s would fit a budget per request.
  auto page = [](int contacts) {
    std::string list;
    for (int i = 0; i < contacts; ++i) {
      if (!list.empty()) list += ",";
      list += R"({"ContactID":"c)" + std::to_string(i) + R"(","Name":"A"})";
    }
    return HttpResponse{200,
                        "OK",
                        {{"Content-Type", "application/json"}},
                        R"({"Status":"OK","Contacts":[)" + list + "]}"};
  };
  const HttpResponse unavailable = Status(503, "Service Unavailable");
  auto owned = std::make_unique<ScriptedTransport>(std::deque<ScriptedTransport::Step>{
      unavailable, unavailable, page(2), unavailable, unavailable});
  ScriptedTransport& transport = *owned;
  XeroSettings settings{"https://xero.test/api.xro/2.0", "token", "tenant", 2, {}};
  settings.http.retry_budget_seconds = 2;
  settings.http.hooks.random = [] { return 1.0; };
  std::vector<milliseconds> waits;
  auto source = MakeXeroSource(settings, std::move(owned),
                               [&waits](milliseconds pause) { waits.push_back(pause); });
  int pages = 0;
  try {
    (void)source->Fetch({}, [&pages](FinancePage&&) { ++pages; });
    FAIL() << "expected HttpStatusError";
  } catch (const HttpStatusError& error) {
    EXPECT_NE(std::string(error.what()).find("Contacts?page=2"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what())
                  .find("gave up after 2 attempts: waiting 1.0 s more would "
                        "exceed the retry budget of 2.0 s"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(pages, 1);
  EXPECT_EQ(waits,
            (std::vector<milliseconds>{milliseconds(500), milliseconds(1000), milliseconds(500)}));

  // The next Fetch has the whole budget again.
  waits.clear();
  transport.steps = {unavailable, unavailable, page(1)};
  EXPECT_EQ(source->Fetch({}, [](FinancePage&&) {}).records, 1);
  EXPECT_EQ(waits, (std::vector<milliseconds>{milliseconds(500), milliseconds(1000)}));
}

}  // namespace
}  // namespace concord::connectors
