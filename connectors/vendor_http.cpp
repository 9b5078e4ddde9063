#include "connectors/vendor_http.hpp"

#include <algorithm>
#include <boost/algorithm/string/case_conv.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <thread>

#include "connectors/wire_time.hpp"

namespace concord::connectors::detail {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<boost::urls::url> ParseBase(std::string_view base_url) {
  const auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) return std::nullopt;
  const auto scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
    return std::nullopt;
  }
  if (parsed->host().empty() || parsed->has_query() || parsed->has_fragment()) return std::nullopt;
  return boost::urls::url(*parsed);
}

// "1.5 s": a duration for an operator's eyes.
std::string Seconds(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

// The URL without user info, should one ever carry a password.
std::string UrlForLog(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed || !parsed->has_userinfo()) return url;
  boost::urls::url copy(*parsed);
  copy.remove_userinfo();
  return std::string(copy.buffer());
}

// The local clock, for a Retry-After date in a response without a Date header.
reconcile::Millis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Uniform in [0, 1]; one generator per thread, seeded once.
double DefaultRandom() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace

void RequireBaseUrl(std::string_view connector, std::string_view base_url) {
  if (!ParseBase(base_url)) {
    throw std::invalid_argument(std::string(connector) + ": base_url '" + std::string(base_url) +
                                "' is not an absolute http:// or https:// URL without a query");
  }
}

std::string BuildUrl(std::string_view base_url, std::string_view segment,
                     const std::vector<std::pair<std::string, std::string>>& params) {
  std::optional<boost::urls::url> url = ParseBase(base_url);
  if (!url) {
    throw std::invalid_argument("'" + std::string(base_url) +
                                "' is not an absolute http:// or https:// URL without a query");
  }
  auto segments = url->segments();
  if (!segments.empty() && segments.back().empty()) segments.pop_back();  // trailing '/'
  segments.push_back(segment);
  auto query = url->params();
  for (const auto& [key, value] : params) query.append({key, value});
  return std::string(url->buffer());
}

void RequireHttpSettings(std::string_view connector, const HttpSettings& settings) {
  const std::string prefix = std::string(connector) + ": http ";
  if (settings.timeout_seconds < 1) {
    throw std::invalid_argument(prefix + "timeout_seconds must be at least 1, got " +
                                std::to_string(settings.timeout_seconds));
  }
  if (settings.max_retries < 0) {
    throw std::invalid_argument(prefix + "max_retries must not be negative, got " +
                                std::to_string(settings.max_retries));
  }
  if (settings.max_retry_wait_seconds < 0) {
    throw std::invalid_argument(prefix + "max_retry_wait_seconds must not be negative, got " +
                                std::to_string(settings.max_retry_wait_seconds));
  }
  if (settings.retry_budget_seconds < 0) {
    throw std::invalid_argument(prefix + "retry_budget_seconds must not be negative, got " +
                                std::to_string(settings.retry_budget_seconds));
  }
}

bool IsRetryableStatus(int status) {
  return status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);
}

std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds cap, double random01) {
  const std::chrono::milliseconds step(std::int64_t{500} << std::clamp(retry, 0, 20));
  const double scale = std::isnan(random01) ? 1.0 : std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(
      std::llround(static_cast<double>(std::min(step, cap).count()) * scale));
}

HttpResponse GetWithRetries(std::string_view connector, HttpTransport& transport,
                            const HttpRequest& request, const HttpSettings& settings,
                            const SleepFunction& sleep, const TransientResponse& also_transient) {
  RetryBudget budget(settings);
  return GetWithRetries(connector, transport, request, settings, sleep, budget, also_transient);
}

HttpResponse GetWithRetries(std::string_view connector, HttpTransport& transport,
                            const HttpRequest& request, const HttpSettings& settings,
                            const SleepFunction& sleep, RetryBudget& budget,
                            const TransientResponse& also_transient) {
  const std::chrono::milliseconds max_wait = std::chrono::seconds(settings.max_retry_wait_seconds);
  const std::string name(connector);
  // Waits `pause` before attempt `attempt` + 1 failed with `cause`, or says why it will not.
  // Returns the text to end the error with when the budget forbids the wait.
  const auto wait = [&](int attempt, std::chrono::milliseconds pause,
                        const std::string& cause) -> std::optional<std::string> {
    if (!budget.Allows(pause)) {
      return "gave up after " + std::to_string(attempt + 1) +
             (attempt == 0 ? " attempt" : " attempts") + ": waiting " + Seconds(pause) +
             " more would exceed the retry budget of " + Seconds(budget.limit()) +
             " (retry_budget_seconds; " + Seconds(budget.spent()) + " spent)";
    }
    if (settings.hooks.on_retry) {
      settings.hooks.on_retry(RetryNotice{name, UrlForLog(request.url), cause, attempt + 1,
                                          settings.max_retries + 1, pause});
    }
    budget.Spend(pause);
    if (sleep) {
      sleep(pause);
    } else {
      std::this_thread::sleep_for(pause);
    }
    return std::nullopt;
  };
  const auto backoff = [&](int attempt) {
    return BackoffDelay(attempt, max_wait,
                        settings.hooks.random ? settings.hooks.random() : DefaultRandom());
  };
  for (int attempt = 0;; ++attempt) {
    const bool may_retry = attempt < settings.max_retries;
    HttpResponse response;
    try {
      response = transport.Get(request);
    } catch (const TransportError& error) {
      if (error.transient() && may_retry) {
        if (auto refused = wait(attempt, backoff(attempt), error.what())) {
          throw TransportError(name + ": " + error.what() + "; " + *refused, true);
        }
        continue;
      }
      throw TransportError(name + ": " + error.what(), error.transient());
    } catch (const FetchError& error) {
      throw TransportError(name + ": " + error.what(), false);
    }
    const bool retryable_status = IsRetryableStatus(response.status) ||
                                  (also_transient && !response.Ok() && also_transient(response));
    if (!retryable_status || !may_retry) return response;
    std::chrono::milliseconds pause = backoff(attempt);
    const std::optional<std::int64_t> retry_after = RetryAfterSeconds(response, NowMillis());
    if (retry_after) {
      if (*retry_after > settings.max_retry_wait_seconds) return response;  // not worth waiting
      pause = std::chrono::seconds(*retry_after);
    }
    std::string cause = std::to_string(response.status);
    if (!response.reason.empty()) cause += " " + response.reason;
    if (auto refused = wait(attempt, pause, cause)) {
      std::string message = name + ": GET " + request.url + " returned " + cause + "; " + *refused;
      throw HttpStatusError(message, response.status, retry_after);
    }
  }
}

std::optional<std::int64_t> RetryAfterSeconds(const HttpResponse& response,
                                              std::optional<reconcile::Millis> now) {
  const auto header = response.Header("Retry-After");
  if (!header) return std::nullopt;
  const std::string_view text = Trim(*header);
  std::int64_t seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error == std::errc() && end == text.data() + text.size()) {
    if (seconds < 0) return std::nullopt;
    return seconds;
  }
  const std::optional<reconcile::Millis> at = ParseHttpDate(text);
  if (!at) return std::nullopt;
  std::optional<reconcile::Millis> reference = now;
  if (const auto date = response.Header("Date")) {
    if (const auto server_now = ParseHttpDate(Trim(*date))) reference = server_now;
  }
  if (!reference) return std::nullopt;
  // Rounded up: waiting a fraction of a second too little would meet the limit again.
  return std::max<std::int64_t>(0, (*at - *reference + 999) / 1000);
}

void ThrowStatusError(std::string_view connector, const std::string& url,
                      const HttpResponse& response,
                      std::initializer_list<std::string_view> detail_keys,
                      std::string_view correlation_header) {
  std::string message =
      std::string(connector) + ": GET " + url + " returned " + std::to_string(response.status);
  if (!response.reason.empty()) message += " " + response.reason;

  boost::system::error_code error;
  const boost::json::value body = boost::json::parse(response.body, error);
  if (!error && body.is_object()) {
    for (const std::string_view key : detail_keys) {
      const boost::json::value* detail = body.get_object().if_contains(key);
      if (detail != nullptr && detail->is_string() && !detail->get_string().empty()) {
        message += ": " + std::string(detail->get_string());
        break;
      }
    }
  }
  if (!correlation_header.empty()) {
    if (const auto correlation = response.Header(correlation_header)) {
      message += " (" + std::string(correlation_header) + ": " + std::string(*correlation) + ")";
    }
  }
  const std::optional<std::int64_t> retry_after = RetryAfterSeconds(response);
  if (retry_after) message += " (Retry-After: " + std::to_string(*retry_after) + " s)";
  throw HttpStatusError(message, response.status, retry_after);
}

void RequireJsonContent(std::string_view connector, const std::string& url,
                        const HttpResponse& response) {
  const auto header = response.Header("Content-Type");
  if (!header) return;
  std::string_view media_type = *header;
  media_type = Trim(media_type.substr(0, media_type.find(';')));
  const std::string lowered = boost::algorithm::to_lower_copy(std::string(media_type));
  const bool json =
      lowered == "application/json" || (lowered.size() > 5 && lowered.ends_with("+json"));
  if (!json) {
    throw FetchError(std::string(connector) + ": GET " + url + " returned Content-Type '" +
                     std::string(*header) + "', expected JSON");
  }
}

}  // namespace concord::connectors::detail
