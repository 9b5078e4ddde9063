#pragma once
// SCIM 2.0 Users (RFC 7643/7644, wire-formats §4) as a PortalSource. The page parser is pure
// and separate from the paging loop, so both can be tested without a network.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/http_client.hpp"
#include "connectors/malformed_page.hpp"
#include "connectors/source.hpp"

namespace concord::connectors {

// One GET /Users ListResponse, parsed.
struct ScimPage {
  PortalPage page;                             // users (source "scim") and quarantined records
  std::size_t resource_count = 0;              // Resources[] entries, quarantined ones included
  std::int64_t total_results = 0;              // totalResults
  std::optional<std::int64_t> start_index;     // startIndex, when sent
  std::optional<std::int64_t> items_per_page;  // itemsPerPage, when sent
};

// Maps each User: remote_id = id, user_name = userName, email = the primary email (the
// emails[] entry with primary true, else type "work", else the first, else userName when it
// contains '@'), names from name.givenName/familyName and displayName, active (string
// booleans accepted; absent means true), updated_at from meta.lastModified. A User without
// an id, or with members of the wrong type, is quarantined with the reason. Resources may
// be absent on an empty page. raw_json keeps the whole resource, meta.version (the ETag)
// included. Throws MalformedPage when the body is not a JSON object with a numeric
// totalResults (naming scimType and detail when it is a SCIM Error).
[[nodiscard]] ScimPage ParseScimPage(std::string_view body);

// A body in the SCIM Error schema (RFC 7644 §3.12, wire-formats §4.7). Every member as the
// server sent it; status is the HTTP code as a string (a number is accepted too).
struct ScimError {
  std::string status;
  std::string scim_type;  // invalidFilter, tooMany, uniqueness, ...; may be empty
  std::string detail;
};

// The SCIM Error in body: a JSON object whose schemas name the Error schema, or that has a
// string scimType or detail. nullopt for anything else (not JSON, an HTML error page, ...).
[[nodiscard]] std::optional<ScimError> ParseScimError(std::string_view body);

// {base_url}/Users?startIndex=<start_index>&count=<count>, plus
// filter=meta.lastModified gt "<since, ISO-8601 UTC with Z>" when since is set. Throws
// std::invalid_argument when base_url is not an absolute http(s) URL.
[[nodiscard]] std::string ScimUsersUrl(std::string_view base_url, std::int64_t start_index,
                                       int count, std::optional<reconcile::Millis> since);

// The SCIM source over a given transport (tests pass a scripted fake), waiting between
// retries through sleep (empty: really sleep). Pages by startIndex plus the number of users
// actually returned (a server may cap count), until totalResults; an empty page before
// totalResults is a FetchError. An error status is an HttpStatusError naming the SCIM Error's
// scimType and detail. Throws
// std::invalid_argument naming the setting when settings are unusable (base_url, page_size
// below 1, empty token).
std::unique_ptr<PortalSource> MakeScimSource(ScimSettings settings,
                                             std::unique_ptr<HttpTransport> transport,
                                             SleepFunction sleep = {});

}  // namespace concord::connectors
