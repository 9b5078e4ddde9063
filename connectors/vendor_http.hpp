#pragma once
// What the Xero and SCIM sources share around a GET: building URLs under a base URL, naming
// the connector in transport errors, and turning error statuses and non-JSON replies into
// FetchErrors an operator can act on. Private to connectors/.

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

// transport.Get(request), retried after transient failures as HttpSettings describes (and
// after responses `also_transient` accepts), waiting through sleep. Returns the last
// response, which may still carry an error status. A transport failure is rethrown (as
// TransportError) with the connector's name in front.
HttpResponse GetWithRetries(std::string_view connector, HttpTransport& transport,
                            const HttpRequest& request, const HttpSettings& settings,
                            const SleepFunction& sleep,
                            const TransientResponse& also_transient = {});

// Retry-After in seconds, when the response carries the delta-seconds form.
std::optional<std::int64_t> RetryAfterSeconds(const HttpResponse& response);

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
