#pragma once
// What the HTTP sources share around a GET: building URLs under a base URL, the retry policy
// (which failures are transient, jittered backoff, Retry-After, the per-fetch budget), naming
// the connector in transport errors, and turning error statuses and non-JSON replies into
// FetchErrors an operator can act on. Private to connectors/.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/http_client.hpp"

namespace concord::connectors::detail {

// base_url + "/" + segment + "?" + the query parameters, percent-encoded by Boost.URL. Throws
// std::invalid_argument when base_url is not an absolute http(s) URL.
std::string BuildUrl(std::string_view base_url, std::string_view segment,
                     const std::vector<std::pair<std::string, std::string>>& params);

// Throws std::invalid_argument naming connector and key unless base_url is an absolute
// http(s) URL.
void RequireBaseUrl(std::string_view connector, std::string_view base_url);

// Throws std::invalid_argument naming connector and key for an unusable HttpSettings value.
void RequireHttpSettings(std::string_view connector, const HttpSettings& settings);

// Says whether a response with a status HttpSettings does not call transient is a passing
// refusal all the same (MYOB answers its rate limits with 403 RateLimitError, not 429).
using TransientResponse = std::function<bool(const HttpResponse&)>;

// Whether a status is worth another attempt: 429 and every 5xx except 501 Not Implemented
// and 505 HTTP Version Not Supported, which describe what the server can do, not how it is
// doing, and so will be the same answer next time.
bool IsRetryableStatus(int status);

// The wait before retry number `retry` (0 for the first) under full jitter:
// random01 × min(cap, 500 ms × 2^retry), random01 clamped to [0, 1].
std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds cap, double random01);

// How long one Fetch may still wait between retries (HttpSettings::retry_budget_seconds).
// A source makes one per Fetch and hands it to every GetWithRetries of that Fetch.
class RetryBudget {
 public:
  explicit RetryBudget(const HttpSettings& settings)
      : limit_(std::chrono::seconds(settings.retry_budget_seconds)) {}
  // Whether waiting `pause` more stays within the budget.
  [[nodiscard]] bool Allows(std::chrono::milliseconds pause) const {
    return spent_ + pause <= limit_;
  }
  void Spend(std::chrono::milliseconds pause) { spent_ += pause; }
  [[nodiscard]] std::chrono::milliseconds spent() const { return spent_; }
  [[nodiscard]] std::chrono::milliseconds limit() const { return limit_; }

 private:
  std::chrono::milliseconds limit_;
  std::chrono::milliseconds spent_{0};
};

// transport.Get(request), retried after transient failures (IsRetryableStatus, responses
// `also_transient` accepts, TransportError::transient()) as HttpSettings describes: at most
// max_retries times, waiting Retry-After when the response has one (at most
// max_retry_wait_seconds, else the response is returned at once) or a jittered backoff step,
// through sleep, and telling settings.hooks.on_retry before each wait. Returns the last
// response, which may still carry an error status. A transport failure is rethrown (as
// TransportError) with the connector's name in front. When the next wait would overspend
// `budget`, throws at once: HttpStatusError (or TransportError) whose message ends
// "gave up after N attempts: waiting X s more would exceed the retry budget of B s".
HttpResponse GetWithRetries(std::string_view connector, HttpTransport& transport,
                            const HttpRequest& request, const HttpSettings& settings,
                            const SleepFunction& sleep, RetryBudget& budget,
                            const TransientResponse& also_transient = {});

// The same with a budget of its own, for a source that has not been given one.
HttpResponse GetWithRetries(std::string_view connector, HttpTransport& transport,
                            const HttpRequest& request, const HttpSettings& settings,
                            const SleepFunction& sleep,
                            const TransientResponse& also_transient = {});

// Retry-After in seconds: the delta-seconds form, or the HTTP-date form measured from the
// response's own Date header (the server's clock, so local clock skew does not matter) or,
// without one, from `now`. A date in the past is 0. nullopt when absent or unreadable.
std::optional<std::int64_t> RetryAfterSeconds(const HttpResponse& response,
                                              std::optional<reconcile::Millis> now = {});

// Throws HttpStatusError: "<connector>: GET <url> returned <status> <reason>: <detail>",
// where detail is the first of detail_keys present as a string in a JSON body, followed by
// the named correlation header and Retry-After when the response has them.
[[noreturn]] void ThrowStatusError(std::string_view connector, const std::string& url,
                                   const HttpResponse& response,
                                   std::initializer_list<std::string_view> detail_keys,
                                   std::string_view correlation_header);

// Throws FetchError unless the Content-Type (when present) is JSON: application/json or a
// "+json" type such as application/scim+json.
void RequireJsonContent(std::string_view connector, const std::string& url,
                        const HttpResponse& response);

}  // namespace concord::connectors::detail
