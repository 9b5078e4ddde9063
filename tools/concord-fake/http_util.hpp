#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http_types.hpp"
#include "reconcile/model.hpp"

// Small request/response helpers shared by the Xero, QBO and SCIM handlers.
namespace concord::fake {

// ASCII case-insensitive equality (header values, parameter names, SCIM keywords).
[[nodiscard]] bool IEquals(std::string_view a, std::string_view b);

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive), or nullopt
// when the header is missing or uses another scheme.
[[nodiscard]] std::optional<std::string_view> BearerToken(const HttpRequest& req);

// A whole decimal integer (optional leading '-'); nullopt for anything else or on overflow.
[[nodiscard]] std::optional<std::int64_t> ParseInteger(std::string_view text);

// True if the Accept header lists application/json (parameters such as q= are ignored).
[[nodiscard]] bool AcceptsJson(const HttpRequest& req);

// A response to `req` with the given status and body: HTTP version and keep-alive follow the
// request, Content-Type is set, a Date header is added (`now_ms`), Content-Length is computed.
[[nodiscard]] HttpResponse MakeResponse(const HttpRequest& req, unsigned status,
                                        std::string_view content_type, std::string body,
                                        reconcile::Millis now_ms);

}  // namespace concord::fake
