#pragma once
// Xero Accounting API contacts as a FinanceSource (wire-formats §1). The page parser is pure
// and separate from the paging loop, so both can be tested without a network.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/http_client.hpp"
#include "connectors/malformed_page.hpp"
#include "connectors/oauth.hpp"
#include "connectors/rate_limiter.hpp"
#include "connectors/source.hpp"

namespace concord::connectors {

// One GET /Contacts page, parsed.
struct XeroPage {
  FinancePage page;                        // persons (source "xero") and quarantined records
  std::size_t contact_count = 0;           // Contacts[] entries, quarantined ones included
  std::optional<std::int64_t> page_count;  // pagination.pageCount, when sent
  std::optional<reconcile::Millis> date_time_utc;  // the envelope's DateTimeUTC, when readable
};

// Each Contact becomes one person per human on it: the main person (remote_id = ContactID)
// and one per ContactPersons[] entry (remote_id = "ContactID/persons/<exact email key>", or
// "ContactID/persons/#<index>" when the entry has no valid email or repeats a key already used
// on the contact). A contact or entry that cannot be read is quarantined with the reason.
// Throws MalformedPage when the body is not a JSON object with a Contacts array.
[[nodiscard]] XeroPage ParseXeroPage(std::string_view body);

// {base_url}/Contacts?page=<page>&pageSize=<page_size>&includeArchived=true. Throws
// std::invalid_argument when base_url is not an absolute http(s) URL.
[[nodiscard]] std::string XeroContactsUrl(std::string_view base_url, std::int64_t page,
                                          int page_size);

// How a Xero source authenticates and keeps to the tenant's call limits, beyond XeroSettings.
struct XeroAccess {
  // Set: access tokens come from the token endpoint through token_store (refreshed and
  // rotated), and XeroSettings::access_token must be empty. Unset: that static token is used.
  std::optional<OAuthSettings> oauth;
  TokenStore* token_store = nullptr;  // required with oauth; must outlive the source
  // The tenant's limiter, shared by every run of the tenant in this process so the minute and
  // day counts carry over. Null: the source makes its own with Xero's default limits.
  std::shared_ptr<RateLimiter> limiter;
  RateLimitedTransport::LimitHit on_limit;  // each limit hit, for a metric; may be empty
  NowFunction now;                          // empty: the system clock
};

// The Xero source over given transports (tests pass scripted fakes): `transport` for the API,
// `token_transport` for the token endpoint (may be null without oauth). Waits between retries
// and for the minute limit through sleep (empty: really sleep). Throws std::invalid_argument
// naming the setting when settings are unusable (base_url, page_size outside 1..1000,
// xero_tenant_id empty, neither or both of access_token and oauth, oauth without a store).
std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings, XeroAccess access,
                                              std::unique_ptr<HttpTransport> transport,
                                              std::unique_ptr<HttpTransport> token_transport,
                                              SleepFunction sleep = {});

// The production source with `access` (HttpClient transports).
std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings, XeroAccess access);

// With a static access token and a limiter of its own.
std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings,
                                              std::unique_ptr<HttpTransport> transport,
                                              SleepFunction sleep = {});

}  // namespace concord::connectors
