#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "reconcile/model.hpp"

// The records the fake servers serve, and the data file they come from.
//
// Data file format (UTF-8 JSON; both sections optional, unknown keys are errors):
//   {"xero": {"tenant_id": "<uuid>", "access_token": "<token>", "fail_status": 503?,
//             "contacts": [<Xero Contact object in wire format>, ...]},
//    "scim": {"token": "<token>", "fail_status": 500?,
//             "quirks": {"string_booleans": true?, "omit_empty_resources": true?,
//                        "max_count": 2?, "reject_over_max_count": true?,
//                        "overstate_total": 3?}?,
//             "users": [<SCIM User resource>, ...]},
//    "qbo": {"realm_id": "<company id>", "access_token": "<token>", "fail_status": 500?,
//            "customers": [<QBO Customer object in wire format>, ...]},
//    "myob": {"company_file_id": "<guid>", "api_key": "<key>", "access_token": "<token>",
//             "cftoken": "<base64(user:password)>"?, "fail_status": 500?,
//             "customers": [<MYOB Customer object in wire format>, ...]}}
// A contact needs "ContactID" and "UpdatedDateUTC" ("/Date(ms+0000)/"); "ContactStatus"
// "ARCHIVED" hides it unless includeArchived=true. A user needs "id" and
// "meta.lastModified" (ISO-8601). A customer needs "Id" and "MetaData.LastUpdatedTime"
// (ISO-8601 with an offset); "Active" defaults to true. A MYOB customer needs "UID" and
// "LastModified" (ISO-8601 without a zone, read as UTC); "IsActive" defaults to true; MYOB
// customers are served in data-file order (the company file's record order). Everything else is
// served exactly as written. The optional "fail_status" makes that server answer every request with
// that status (429, 500, 503, ...).
namespace concord::fake {

// A data file that cannot be used; what() names the file, record and field.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One Xero Contact, serialised once when the dataset is built.
struct XeroContact {
  std::string contact_id;
  reconcile::Millis updated_ms = 0;
  bool archived = false;
  std::string json;  // the Contact object as Xero writes it: every '/' escaped as "\/"
};

// xero.oauth: the identity server's side of OAuth2 refresh (wire-formats §1.8). When present,
// Contacts calls need an access token POST /connect/token issued (access_token is ignored).
struct XeroOAuthConfig {
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;  // the initial one, as an app's consent flow would hand it out
  std::int64_t access_token_ttl_seconds = 1800;
  std::int64_t grace_seconds = 1800;  // a rotated refresh token stays usable this long
};

// xero.rate_limits: limits the fake enforces (429 with Retry-After and X-Rate-Limit-Problem).
struct XeroRateLimits {
  std::int64_t minute = 60;
  std::int64_t day = 5000;
};

// The finance side: one Xero organisation.
struct XeroTenant {
  std::string tenant_id;
  std::string access_token;
  std::optional<unsigned> fail_status;
  std::optional<XeroOAuthConfig> oauth;
  std::optional<XeroRateLimits> rate_limits;  // absent: limits are reported, not enforced
  // Sorted by (updated_ms, contact_id): the order of every listing, stable across pages.
  std::vector<XeroContact> contacts;
  // active_before[i] = number of contacts in [0, i) that are not archived; size contacts + 1.
  std::vector<std::uint32_t> active_before;
};

// One SCIM User resource, serialised once when the dataset is built.
struct ScimUser {
  std::string id;
  reconcile::Millis last_modified_ms = 0;
  std::string json;
};

// Behaviours of real SCIM portals (wire-formats §4) the fake shows on request, from the data
// file's "scim": {"quirks": {...}}; every one is off by default.
struct ScimQuirks {
  bool string_booleans = false;           // active and emails[].primary as "True"/"False" (Entra)
  bool omit_empty_resources = false;      // an empty page has no Resources member
  std::optional<std::int64_t> max_count;  // a page holds at most this many users
  bool reject_over_max_count = false;     // count above max_count: 400 tooMany, not clamped
  std::int64_t overstate_total = 0;  // added to totalResults: pages past the end come back empty
};

// The portal side: one SCIM service provider.
struct ScimDirectory {
  std::string token;
  std::optional<unsigned> fail_status;
  ScimQuirks quirks;
  std::vector<ScimUser> users;  // sorted by (last_modified_ms, id)
};

// One QuickBooks Online Customer, serialised once when the dataset is built; the fields the
// query language can filter on are kept beside it.
struct QboCustomer {
  std::string id;
  bool active = true;
  bool job = false;
  reconcile::Millis created_ms = 0;
  reconcile::Millis updated_ms = 0;
  std::string display_name;
  std::string given_name;
  std::string family_name;
  std::string company_name;
  std::string json;
};

// The finance side in QBO's dialect: one company (realm).
struct QboCompany {
  std::string realm_id;
  std::string access_token;
  std::optional<unsigned> fail_status;
  std::vector<QboCustomer> customers;  // sorted by Id (numeric Ids in numeric order)
};

// One MYOB Customer, serialised once when the dataset is built; the fields the OData $filter
// can test are kept beside it.
struct MyobCustomer {
  std::string uid;
  bool active = true;
  reconcile::Millis last_modified_ms = 0;
  std::string json;
};

// The finance side in MYOB's dialect: one company file.
struct MyobCompanyFile {
  std::string id;  // the GUID in {cf_uri} = /accountright/{id}
  std::string api_key;
  std::string access_token;
  std::string cftoken;  // empty: the file takes no x-myobapi-cftoken
  std::optional<unsigned> fail_status;
  std::vector<MyobCustomer> customers;  // in data-file order
};

struct Dataset {
  XeroTenant xero;
  ScimDirectory scim;
  QboCompany qbo;
  MyobCompanyFile myob;
};

// QBO's order of Ids: numeric Ids by value (shorter first), then text.
[[nodiscard]] bool QboIdLess(std::string_view a, std::string_view b);

// Escapes every '/' in serialised JSON as "\/", as Xero's .NET serialiser does. Valid because
// '/' can only occur inside strings in JSON text.
[[nodiscard]] std::string EscapeJsonSlashes(std::string_view json);

// Builds a Dataset one record at a time (the loader and the generator both feed it), so a
// large generated dataset never exists twice in memory. Throws DatasetError on a bad record.
class DatasetBuilder {
 public:
  void SetXeroCredentials(std::string tenant_id, std::string access_token);
  void SetXeroFailStatus(std::optional<unsigned> status);
  void SetXeroOAuth(std::optional<XeroOAuthConfig> oauth);
  void SetXeroRateLimits(std::optional<XeroRateLimits> limits);
  void SetScimToken(std::string token);
  void SetScimFailStatus(std::optional<unsigned> status);
  void SetScimQuirks(ScimQuirks quirks);
  void SetQboCredentials(std::string realm_id, std::string access_token);
  void SetQboFailStatus(std::optional<unsigned> status);
  void SetMyobCompanyFile(std::string id, std::string api_key, std::string access_token,
                          std::string cftoken);
  void SetMyobFailStatus(std::optional<unsigned> status);
  // `where` names the record in error messages, e.g. "xero.contacts[3]".
  void AddContact(const boost::json::object& contact, std::string_view where);
  void AddUser(const boost::json::object& user, std::string_view where);
  void AddCustomer(const boost::json::object& customer, std::string_view where);
  void AddMyobCustomer(const boost::json::object& customer, std::string_view where);
  // Sorts, indexes and checks that ids are unique.
  [[nodiscard]] Dataset Finish() &&;

 private:
  Dataset dataset_;
};

// Parses a data file's content (format above). Throws DatasetError.
[[nodiscard]] Dataset ParseDataset(std::string_view json_text);

// Reads and parses a data file. Throws DatasetError.
[[nodiscard]] Dataset LoadDatasetFile(const std::string& path);

// The dataset being served: either fixed (generated) or a data file that is re-read when it
// changes, checked whenever Current() is called. A change is seen from the file's inode, size,
// mtime or ctime; while those are less than a second older than our last read (a rewrite in the
// same timestamp tick would leave them equal), the content itself is re-read and compared, so
// no rewrite is ever missed. Not thread-safe: call it from the server's one thread.
class DatasetSource {
 public:
  // Serves `dataset` forever.
  explicit DatasetSource(Dataset dataset);
  // Loads `path` now (throws DatasetError) and follows it afterwards.
  explicit DatasetSource(std::string path);

  // The dataset to answer the next request from. If the file changed but no longer parses,
  // logs the error to stderr once and keeps serving the previous dataset (a writer that is
  // half-way through will finish, and the next change is picked up).
  [[nodiscard]] std::shared_ptr<const Dataset> Current();

 private:
  struct FileIdentity {
    ino_t inode = 0;
    off_t size = -1;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  [[nodiscard]] std::optional<FileIdentity> Stat() const;
  // Reads the file; returns false (and keeps everything) if it cannot be read. Parses it only
  // if its content differs from the last content read. Throws DatasetError if `strict`.
  bool Refresh(const FileIdentity& identity, bool strict);

  std::string path_;  // empty: fixed dataset
  std::shared_ptr<const Dataset> current_;
  std::optional<FileIdentity> seen_;  // identity at the last read
  std::size_t seen_hash_ = 0;         // hash of the content at the last read
  bool settled_ = false;              // seen_ cannot hide a later rewrite
};

}  // namespace concord::fake
