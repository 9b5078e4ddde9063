#include "connectors/vendor_http.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace concord::connectors::detail {
namespace {

std::string Lower(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered;
}

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
}

HttpResponse GetWithRetries(std::string_view connector, HttpTransport& transport,
                            const HttpRequest& request, const HttpSettings& settings,
                            const SleepFunction& sleep, const TransientResponse& also_transient) {
  const std::chrono::milliseconds max_wait = std::chrono::seconds(settings.max_retry_wait_seconds);
  const auto backoff = [&](int attempt) {
    const std::chrono::milliseconds doubled(std::int64_t{500} << std::min(attempt, 20));
    return std::min(doubled, max_wait);
  };
  const auto wait = [&](std::chrono::milliseconds pause) {
    if (sleep) {
      sleep(pause);
    } else {
      std::this_thread::sleep_for(pause);
    }
  };
  for (int attempt = 0;; ++attempt) {
    const bool may_retry = attempt < settings.max_retries;
    HttpResponse response;
    try {
      response = transport.Get(request);
    } catch (const TransportError& error) {
      if (error.transient() && may_retry) {
        wait(backoff(attempt));
        continue;
      }
      throw TransportError(std::string(connector) + ": " + error.what(), error.transient());
    } catch (const FetchError& error) {
      throw TransportError(std::string(connector) + ": " + error.what(), false);
    }
    const bool retryable_status = response.status == 429 || response.status == 502 ||
                                  response.status == 503 || response.status == 504 ||
                                  (also_transient && !response.Ok() && also_transient(response));
    if (!retryable_status || !may_retry) return response;
    std::chrono::milliseconds pause = backoff(attempt);
    if (const std::optional<std::int64_t> retry_after = RetryAfterSeconds(response)) {
      if (*retry_after > settings.max_retry_wait_seconds) return response;  // not worth waiting
      pause = std::chrono::seconds(*retry_after);
    }
    wait(pause);
  }
}

std::optional<std::int64_t> RetryAfterSeconds(const HttpResponse& response) {
  const auto header = response.Header("Retry-After");
  if (!header) return std::nullopt;
  const std::string_view text = Trim(*header);
  std::int64_t seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end != text.data() + text.size() || seconds < 0) {
    return std::nullopt;
  }
  return seconds;
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
  const std::string lowered = Lower(media_type);
  const bool json =
      lowered == "application/json" || (lowered.size() > 5 && lowered.ends_with("+json"));
  if (!json) {
    throw FetchError(std::string(connector) + ": GET " + url + " returned Content-Type '" +
                     std::string(*header) + "', expected JSON");
  }
}

}  // namespace concord::connectors::detail
