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

// MYOB Business API (AccountRight) customers, as wire-formats.md §3 describes them:
//   GET /accountright/                              the company-file list (Uri points back here)
//   GET /accountright/{cf id}/Contact/Customer      customers, OData-paged
// Every request needs x-myobapi-key, x-myobapi-version: v2 and a bearer token, and the
// company file's x-myobapi-cftoken when the data file sets one; failures answer MYOB's
// {"Errors":[...]} body. The OData options are parsed strictly (ParseMyobQuery): anything
// outside the subset below is a 400, so a client that would send MYOB a malformed query
// fails its tests. Simplifications (tools/concord-fake/README.md): Customer only, no writes
// (so no RowVersion 409), no $orderby, no gzip.
namespace concord::fake {

inline constexpr std::int64_t kMyobDefaultTop = 400;
inline constexpr std::int64_t kMyobMaxTop = 1000;  // a larger $top is a 400

// One $filter condition: LastModified compared with a datetime literal, or IsActive eq.
struct MyobCondition {
  enum class Field { kLastModified, kIsActive };
  enum class Op { kEq, kGt, kGe, kLt, kLe };
  Field field = Field::kLastModified;
  Op op = Op::kEq;
  reconcile::Millis at = 0;  // kLastModified
  bool active = true;        // kIsActive
};

// The accepted OData subset (option and property names case-sensitive, as OData's are):
//   $top=1..1000 (default 400)   $skip=0.. (default 0)
//   $filter=cond {and cond}      cond: LastModified gt|ge|lt|le|eq
//   datetime'YYYY-MM-DDTHH:MM:SS[.fff]'
//                                      (no zone: OData v3 datetime) | IsActive eq true|false
// No other parameter is accepted. `params` are the decoded query parameters in order.
struct MyobQuery {
  std::int64_t top = kMyobDefaultTop;
  std::int64_t skip = 0;
  std::string filter;  // as received, for NextPageLink
  std::vector<MyobCondition> where;
};

// Parses the query parameters; a std::string is the reason they were refused (the 400's
// Message).
[[nodiscard]] std::variant<MyobQuery, std::string> ParseMyobQuery(
    const std::vector<std::pair<std::string, std::string>>& params);

// Everything about a request that the handler must not compute itself.
struct MyobRequestContext {
  reconcile::Millis now_ms = 0;
  std::string request_id;               // the x-myobapi-requestid response header
  std::optional<unsigned> fail_status;  // when set, every request gets this status
};

// Answers one request to the MYOB server from `file`.
[[nodiscard]] HttpResponse HandleMyobRequest(const HttpRequest& req, const MyobCompanyFile& file,
                                             const MyobRequestContext& ctx);

}  // namespace concord::fake
