#pragma once
// MYOB Business API (AccountRight) customers as a FinanceSource (wire-formats §3). The page
// parser, the URL and the error-body reader are pure and separate from the paging loop, so
// each can be tested without a network.

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

// One GET {cf_uri}/Contact/Customer page, parsed.
struct MyobPage {
  FinancePage page;                   // persons (source "myob") and quarantined records
  std::size_t customer_count = 0;     // Items[] entries, quarantined ones included
  std::string next_page_link;         // NextPageLink; empty on the last page
  std::optional<std::int64_t> count;  // Count: customers matching the request, on all pages
};

// Each Customer (an account: account_id = UID, account_name = CompanyName, else "FirstName
// LastName") gives one person per human named in its Addresses[] (at most 5, read in Location
// order): an address names a person when it has an Email or a ContactName, and names the
// same person as an earlier address when its email has the same exact key (or, without an
// email, the same ContactName). The first person is the customer's primary one, remote_id =
// UID, so editing the primary email keeps its link (like Xero's main person); the others are
// "UID/persons/<exact email key>", or "UID/persons/#<Location>" without a valid email. A
// customer whose addresses name no one is still one person (remote_id = UID, no email), so it
// is never lost. Names: ContactName split at its first space; the customer's FirstName and
// LastName when ContactName is empty or, on an individual (IsIndividual), is just the
// customer's own first name or full name. IsActive = false → archived; updated_at =
// LastModified (no zone on the wire: read as UTC). A customer or address that cannot be read
// is quarantined with the reason. Throws MalformedPage unless the body is a JSON object with an
// Items array (and, when present, a string NextPageLink and a whole-number Count).
[[nodiscard]] MyobPage ParseMyobPage(std::string_view body);

// The first page: {base_url}/Contact/Customer?$top=<top>, with
// $filter=LastModified gt datetime'2024-06-09T23:40:11' when `since` is set (rounded down to
// the second). No $orderby: MYOB's own order (the file's record order) does not move rows
// when they are edited, and the following pages come from NextPageLink. Throws
// std::invalid_argument when base_url is not an absolute http(s) URL.
[[nodiscard]] std::string MyobCustomersUrl(std::string_view base_url,
                                           std::optional<reconcile::Millis> since, int top);

// "<Name> (ErrorCode <n>): <Message> [<AdditionalDetails>]" for each entry of a MYOB error
// body {"Errors":[{"Name","Message","AdditionalDetails","ErrorCode","Severity"}]}, joined
// with "; ". nullopt when the body is not such a document.
[[nodiscard]] std::optional<std::string> MyobErrorText(std::string_view body);

// True for MYOB's rate-limit refusal: 403 (or 429) with an error named "RateLimitError".
// The source retries it like a 429.
[[nodiscard]] bool IsMyobRateLimit(const HttpResponse& response);

// The MYOB source over a given transport (tests pass a scripted fake), waiting between
// retries through sleep (empty: really sleep). Throws std::invalid_argument naming the
// setting when settings are unusable (base_url, page_size outside 1..1000, empty api_key or
// access_token).
std::unique_ptr<FinanceSource> MakeMyobSource(MyobSettings settings,
                                              std::unique_ptr<HttpTransport> transport,
                                              SleepFunction sleep = {});

}  // namespace concord::connectors
