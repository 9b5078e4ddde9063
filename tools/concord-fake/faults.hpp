#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dataset.hpp"
#include "http_types.hpp"
#include "reconcile/model.hpp"

// Fault injection: the failures real vendor APIs show, on demand, so tests can check that a
// connector recovers from the transient ones and fails cleanly on the permanent ones. A fault
// is armed from the command line (--fault JSON) or by an admin call on any of the fake's
// ports (POST /_fake/faults), and applies to the requests of one server (or all) whose target
// starts with a path, `count` times after letting `after` such requests through.
//
//   {"server": "xero" | "qbo" | "myob" | "scim" | "*",  default "*"
//    "path": "/api.xro/2.0/Contacts",                   default "": every request
//    "fault": "status" | "slow" | "reset" | "truncate" | "malformed_json" | "xml_body" |
//             "change",
//    "status": 503,            "status" only: 400-599
//    "retry_after": 2,         "status" only, optional: a Retry-After header (seconds)
//    "rate_limit_problem": "minute",  "status" only, Xero's X-Rate-Limit-Problem on a 429
//    "delay_ms": 1500,         "slow" only: how long to wait before answering
//    "count": 1,               how many requests get the fault; -1: every one from then on
//    "after": 0}               matching requests answered normally before the first fault
namespace concord::fake {

// An unusable fault description; what() names the field.
class FaultError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FaultKind {
  kStatus,         // the status with the dialect's error body
  kSlow,           // the normal answer, delay_ms late
  kReset,          // the connection closed with a TCP reset, no answer
  kTruncate,       // the normal answer's headers and half its body, then the connection closed
  kMalformedJson,  // the normal answer's body cut in half, correctly framed (a 200 that lies)
  kXmlBody,        // the normal status with an XML body and Content-Type application/xml
  kChange,         // from this request on, the server's data has a record inserted at the front
};

struct Fault {
  std::string server = "*";
  std::string path;
  FaultKind kind = FaultKind::kStatus;
  unsigned status = 0;
  std::optional<std::int64_t> retry_after;
  std::string rate_limit_problem;
  std::int64_t delay_ms = 0;
  std::int64_t count = 1;
  std::int64_t after = 0;
};

// Reads one fault object (format above). Throws FaultError naming the field.
[[nodiscard]] Fault ParseFault(const boost::json::value& value);

// Reads a fault object, or an array of them, from JSON text. Throws FaultError.
[[nodiscard]] std::vector<Fault> ParseFaults(std::string_view json_text);

// The faults armed on a running fake, shared by its servers. Thread-safe.
class FaultPlan {
 public:
  void Add(Fault fault);
  void Clear();
  // Every armed fault as JSON, with how many matching requests it saw and how often it fired.
  [[nodiscard]] boost::json::array Describe() const;
  // The fault the request to `server` for `target` gets, if any: the first armed fault that
  // matches it and is due. Counts the request against every matching fault.
  [[nodiscard]] std::optional<Fault> Take(std::string_view server, std::string_view target);

  // Marks `server`'s data as changed (a kChange fault fired); Clear() undoes it.
  void MarkChanged(std::string_view server);
  // The data `server` answers from: `current`, or, once marked changed, `current` with one
  // record inserted at the front (WithRecordInserted; made once per version of `current`).
  [[nodiscard]] std::shared_ptr<const Dataset> Data(std::string_view server,
                                                    std::shared_ptr<const Dataset> current);

 private:
  struct Armed {
    Fault fault;
    std::int64_t seen = 0;
    std::int64_t fired = 0;
  };
  struct Changed {
    std::shared_ptr<const Dataset> base;
    std::shared_ptr<const Dataset> changed;
  };
  mutable std::mutex mutex_;
  std::vector<Armed> armed_;
  std::set<std::string, std::less<>> changed_servers_;
  std::map<std::string, Changed, std::less<>> changed_;
};

// `data` with one record inserted at the front of `server`'s listing, so that offset and page
// paging shift by one: a copy of the first record with a new id (Xero ContactID and SCIM id
// "00000000-fa17-4000-8000-000000000000", QBO Id "0", MYOB UID the same GUID) and every
// string holding an '@' replaced by "inserted@concord-fake.invalid". No records: unchanged.
[[nodiscard]] Dataset WithRecordInserted(const Dataset& data, std::string_view server);

// The path of the admin endpoint, served on every port when faults are enabled.
inline constexpr std::string_view kFaultAdminPath = "/_fake/faults";

// Answers an admin request: POST adds the faults in the body (201 with the plan), GET lists
// the plan, DELETE clears it (both 200); anything else 405; a bad body 400 naming the field.
[[nodiscard]] HttpResponse HandleFaultAdmin(const HttpRequest& req, FaultPlan& plan,
                                            reconcile::Millis now_ms);

// The answer a status fault gives on `server` ("xero", "qbo", "myob", "scim"): the status with
// that vendor's error body, Retry-After when the fault sets one, and for Xero's 429 an
// X-Rate-Limit-Problem header ("minute" unless the fault names another).
[[nodiscard]] HttpResponse StatusFaultResponse(std::string_view server, const HttpRequest& req,
                                               const Fault& fault, reconcile::Millis now_ms);

// Rewrites a normal answer for the faults that change the body: kMalformedJson (the body cut in
// half, Content-Length fixed) and kXmlBody. Other kinds leave it alone.
void CorruptBody(const Fault& fault, HttpResponse& res);

}  // namespace concord::fake
