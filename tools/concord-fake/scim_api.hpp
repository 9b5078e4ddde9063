#pragma once

#include <cstdint>
#include <optional>

#include "dataset.hpp"
#include "http_types.hpp"
#include "reconcile/model.hpp"

// The SCIM 2.0 Users listing, as wire-formats.md §4 describes it:
//   GET /scim/v2/Users?startIndex=&count=&filter=meta.lastModified gt "<RFC 3339>"
// Supported filters: `meta.lastModified gt "..."` and `meta.lastModified ge "..."` (attribute
// and operator case-insensitive); any other filter is a 400 invalidFilter. `count` above
// kScimMaxCount is clamped (the server "may return fewer"); sortBy, attributes and
// excludedAttributes are ignored; no single-user GET, no writes, no discovery endpoints.
// directory.quirks (dataset.hpp) switch on what real portals do: string booleans, no
// Resources on an empty page, a lower count cap (clamped or refused with 400 tooMany), and a
// totalResults larger than what is there.
namespace concord::fake {

inline constexpr std::string_view kScimUsersPath = "/scim/v2/Users";
inline constexpr std::int64_t kScimDefaultCount = 100;
inline constexpr std::int64_t kScimMaxCount = 1000;

// Everything about a request that the handler must not compute itself.
struct ScimRequestContext {
  reconcile::Millis now_ms = 0;
  std::optional<unsigned> fail_status;  // when set, every request gets this status
};

// Answers one request to the SCIM server from `directory`.
[[nodiscard]] HttpResponse HandleScimRequest(const HttpRequest& req, const ScimDirectory& directory,
                                             const ScimRequestContext& ctx);

}  // namespace concord::fake
