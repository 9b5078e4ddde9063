#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dataset.hpp"
#include "http_types.hpp"
#include "reconcile/model.hpp"

// QuickBooks Online's query endpoint for Customer, as wire-formats.md §2 describes it:
//   GET /v3/company/{realmId}/query?query=<select statement>&minorversion=N
// The statement is parsed strictly (ParseQboQuery); anything outside the subset below is a 400
// ValidationFault, so a client that would send QBO a malformed query fails its tests.
// Simplifications (tools/concord-fake/README.md): Customer only; no POST form of the query,
// no CDC, no single-entity GET, no writes; a request without `Accept: application/json` gets an
// XML envelope without the customers (QBO answers XML then; a JSON client cannot read it).
namespace concord::fake {

inline constexpr std::int64_t kQboDefaultMaxResults = 100;
inline constexpr std::int64_t kQboMaxResults = 1000;  // larger MAXRESULTS values are capped

// The Customer properties the fake can filter and order on.
enum class QboField {
  kId,
  kActive,
  kJob,
  kLastUpdatedTime,  // Metadata.LastUpdatedTime
  kCreateTime,       // Metadata.CreateTime
  kDisplayName,
  kGivenName,
  kFamilyName,
  kCompanyName,
};

enum class QboOp { kEq, kLt, kGt, kLe, kGe, kIn, kLike };

// One WHERE condition; values are the literals as text (quotes removed, escapes resolved;
// booleans "true"/"false"; times as UTC milliseconds in `times`).
struct QboCondition {
  QboField field = QboField::kId;
  QboOp op = QboOp::kEq;
  std::vector<std::string> values;
  std::vector<reconcile::Millis> times;
};

struct QboOrder {
  QboField field = QboField::kId;
  bool descending = false;
};

// The accepted subset of QBO's query language (keywords and property names case-insensitive,
// the entity name case-sensitive):
//   SELECT * | COUNT(*) FROM Customer
//     [WHERE cond {AND cond}] [ORDERBY prop [ASC|DESC] {, prop [ASC|DESC]}]
//     [STARTPOSITION n] [MAXRESULTS m]          (either order, each at most once)
//   cond: Id = | IN; Active, Job = | IN (true/false); Metadata.LastUpdatedTime,
//         Metadata.CreateTime = < > <= >= '<ISO-8601 date-time or date>'; DisplayName,
//         GivenName, FamilyName, CompanyName = | IN | LIKE '<text with %>'
// STARTPOSITION is 1-based (below 1 is an error), MAXRESULTS 1..∞ (capped at 1000).
struct QboQuery {
  bool count = false;
  std::vector<QboCondition> where;
  std::vector<QboOrder> order;
  std::int64_t start_position = 1;
  std::int64_t max_results = kQboDefaultMaxResults;
};

// Parses a statement; a std::string is the reason it was refused (the 400's Detail).
[[nodiscard]] std::variant<QboQuery, std::string> ParseQboQuery(std::string_view statement);

// Everything about a request that the handler must not compute itself.
struct QboRequestContext {
  reconcile::Millis now_ms = 0;
  std::string intuit_tid;               // the intuit_tid response header
  std::optional<unsigned> fail_status;  // when set, every request gets this status
};

// "2024-06-10T09:15:02.118-07:00": `at` written in US Pacific daylight time with
// milliseconds, as QBO writes the envelope's "time".
[[nodiscard]] std::string QboTime(reconcile::Millis at);

// Answers one request to the QBO server from `company`.
[[nodiscard]] HttpResponse HandleQboRequest(const HttpRequest& req, const QboCompany& company,
                                            const QboRequestContext& ctx);

}  // namespace concord::fake
