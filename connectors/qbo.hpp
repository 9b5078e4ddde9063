#pragma once
// QuickBooks Online customers as a FinanceSource (wire-formats §2). Incremental reads use the
// query API filtered on Metadata.LastUpdatedTime, not CDC (docs/connectors.md says why). The
// page parser, the query text, the fault reader and the sub-customer hierarchy are pure and
// separate from the paging loop, so each can be tested without a network.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "connectors/http_client.hpp"
#include "connectors/malformed_page.hpp"
#include "connectors/source.hpp"

namespace concord::connectors {

// Where a customer sits in QBO's customer tree: sub-customers and jobs are Customer rows too
// (Job = true, ParentRef = the direct parent, Level = depth, 1 under a top-level customer).
struct QboAncestry {
  std::string id;
  std::string parent_id;  // empty: a top-level customer
  int level = 0;          // 0: not sent
  std::string display_name;
};

// One query response page, parsed.
struct QboPage {
  // Persons (source "qbo", one per customer, remote_id = Id). A sub-customer's account_id is
  // its direct parent's Id until QboHierarchy::Resolve replaces it by the top-level one.
  FinancePage page;
  // Parallel to page.persons: where each person's customer sits.
  std::vector<QboAncestry> ancestry;
  std::size_t customer_count = 0;         // Customer[] entries, quarantined ones included
  std::optional<reconcile::Millis> time;  // the envelope's "time" (the server clock)
};

// Each Customer becomes one person: remote_id = Id, given/family name from GivenName and
// FamilyName, email = PrimaryEmailAddr.Address as written (reconcile splits a field holding
// several addresses), Active = false → archived, updated_at = MetaData.LastUpdatedTime. The
// account is the top-level customer: its own Id and DisplayName, for a sub-customer the
// first part of FullyQualifiedName ("Parent:Child"). A customer that cannot be read (no Id,
// wrong types, an unreadable time) is quarantined with the reason. Throws MalformedPage unless
// the body is a JSON object with a QueryResponse object (an empty page has no Customer key).
[[nodiscard]] QboPage ParseQboPage(std::string_view body);

// The sub-customers seen during one fetch, so that each person is put on its top-level
// customer's account even when only the sub-customer changed.
class QboHierarchy {
 public:
  // Remembers where a customer sits (top-level ones too, when they were looked up).
  void Add(const QboAncestry& customer);
  // Remembers that a looked-up Id did not come back, so it is not asked for again.
  void NotFound(const std::string& id);
  // The Ids to look up before Resolve can reach the top of every person's tree, sorted.
  [[nodiscard]] std::vector<std::string> Missing(const std::vector<QboAncestry>& ancestry) const;
  // Sets each sub-customer person's account_id to its top-level customer's Id (as far up as
  // known) and, when its account_name is empty, to that customer's DisplayName when known.
  void Resolve(const std::vector<QboAncestry>& ancestry,
               std::vector<reconcile::FinancePerson>& persons) const;

 private:
  // The top-level Id above `customer`, or the first unknown Id on the way there.
  [[nodiscard]] std::string Top(const QboAncestry& customer, bool& complete) const;
  std::unordered_map<std::string, QboAncestry> known_;
  std::unordered_set<std::string> not_found_;
};

// The query statement for one page of customers, deactivated ones included:
//   select * from Customer where Active IN (true,false)
//     [and Metadata.LastUpdatedTime >= '2024-06-09T23:40:11+00:00'] orderby Id
//     startposition <start> maxresults <max>
// `since` is rounded down to the second. Ordering by Id keeps paging stable while customers
// change: an update never moves a row, so no row is skipped.
[[nodiscard]] std::string QboCustomerQuery(std::optional<reconcile::Millis> since,
                                           std::int64_t start_position, int max_results);

// select * from Customer where Active IN (true,false) and Id IN ('1','2') maxresults <n>.
// Ids are quoted with backslash escapes. Precondition: ids is not empty.
[[nodiscard]] std::string QboCustomersByIdQuery(const std::vector<std::string>& ids);

// {base_url}/v3/company/{realm_id}/query?query=<statement>&minorversion=<n>, percent-encoded
// ('+' as %2B). Throws std::invalid_argument when base_url is not an absolute http(s) URL.
[[nodiscard]] std::string QboQueryUrl(std::string_view base_url, std::string_view realm_id,
                                      std::string_view statement, int minorversion);

// "<Message> (code <code>): <Detail>" for each error of a QBO fault in any of its forms:
// the API's JSON {"Fault":{"Error":[{"Message","Detail","code"}],"type"}}, the gateway's
// JSON {"fault":{"error":[{"message","detail","code"}]}} and the XML
// <Fault><Error code="..."><Message>..</Message><Detail>..</Detail></Error></Fault>; several
// errors are joined with "; ". nullopt when the body holds no fault.
[[nodiscard]] std::optional<std::string> QboFaultText(std::string_view body);

// The QBO source over a given transport (tests pass a scripted fake), waiting between
// retries through sleep (empty: really sleep). Throws std::invalid_argument naming the
// setting when settings are unusable (base_url, page_size outside 1..1000, empty
// access_token or realm_id, minorversion < 1).
std::unique_ptr<FinanceSource> MakeQboSource(QboSettings settings,
                                             std::unique_ptr<HttpTransport> transport,
                                             SleepFunction sleep = {});

}  // namespace concord::connectors
