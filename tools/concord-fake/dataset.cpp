#include "dataset.hpp"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <unordered_set>

#include "connectors/wire_time.hpp"

namespace concord::fake {
namespace {

namespace json = boost::json;

std::string Str(std::string_view s) { return std::string(s); }

// A required non-empty string member.
std::string RequireString(const json::object& obj, std::string_view key, std::string_view where) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    throw DatasetError(Str(where) + ": \"" + Str(key) + "\" must be a non-empty string");
  }
  return Str(v->get_string());
}

std::optional<unsigned> OptionalStatus(const json::object& obj, std::string_view where) {
  const json::value* v = obj.if_contains("fail_status");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_int64() || v->get_int64() < 400 || v->get_int64() > 599) {
    throw DatasetError(Str(where) + ".fail_status: must be an HTTP status from 400 to 599");
  }
  return static_cast<unsigned>(v->get_int64());
}

void RejectUnknownKeys(const json::object& obj, std::initializer_list<std::string_view> known,
                       std::string_view where) {
  for (const auto& member : obj) {
    if (std::find(known.begin(), known.end(), member.key()) == known.end()) {
      throw DatasetError(Str(where) + ": unknown key \"" + Str(member.key()) + "\"");
    }
  }
}

const json::array& RequireArray(const json::object& obj, std::string_view key,
                                std::string_view where) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_array()) {
    throw DatasetError(Str(where) + ": \"" + Str(key) + "\" must be an array");
  }
  return v->get_array();
}

const json::object& RequireObject(const json::value& v, std::string_view where) {
  if (!v.is_object()) throw DatasetError(Str(where) + ": must be a JSON object");
  return v.get_object();
}

// "scim": {"quirks": {...}}: booleans and whole numbers, each optional.
ScimQuirks ParseScimQuirks(const json::object& obj) {
  RejectUnknownKeys(obj,
                    {"string_booleans", "omit_empty_resources", "max_count",
                     "reject_over_max_count", "overstate_total"},
                    "scim.quirks");
  const auto flag = [&](std::string_view key) {
    const json::value* v = obj.if_contains(key);
    if (v == nullptr) return false;
    if (!v->is_bool()) throw DatasetError("scim.quirks." + Str(key) + ": must be a boolean");
    return v->get_bool();
  };
  const auto number = [&](std::string_view key,
                          std::int64_t minimum) -> std::optional<std::int64_t> {
    const json::value* v = obj.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_int64() || v->get_int64() < minimum) {
      throw DatasetError("scim.quirks." + Str(key) + ": must be a whole number of at least " +
                         std::to_string(minimum));
    }
    return v->get_int64();
  };
  ScimQuirks quirks;
  quirks.string_booleans = flag("string_booleans");
  quirks.omit_empty_resources = flag("omit_empty_resources");
  quirks.max_count = number("max_count", 1);
  quirks.reject_over_max_count = flag("reject_over_max_count");
  quirks.overstate_total = number("overstate_total", 0).value_or(0);
  return quirks;
}

// A positive whole number member, or `fallback` when absent.
std::int64_t PositiveInteger(const json::object& o, std::string_view key, std::int64_t fallback,
                             std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (!v->is_int64() || v->get_int64() < 1) {
    throw DatasetError(Str(where) + "." + Str(key) + ": must be a positive integer");
  }
  return v->get_int64();
}

std::optional<XeroOAuthConfig> OptionalXeroOAuth(const json::object& xero) {
  const json::value* v = xero.if_contains("oauth");
  if (v == nullptr) return std::nullopt;
  const json::object& o = RequireObject(*v, "xero.oauth");
  RejectUnknownKeys(
      o,
      {"client_id", "client_secret", "refresh_token", "access_token_ttl_seconds", "grace_seconds"},
      "xero.oauth");
  XeroOAuthConfig config;
  config.client_id = RequireString(o, "client_id", "xero.oauth");
  config.client_secret = RequireString(o, "client_secret", "xero.oauth");
  config.refresh_token = RequireString(o, "refresh_token", "xero.oauth");
  config.access_token_ttl_seconds =
      PositiveInteger(o, "access_token_ttl_seconds", config.access_token_ttl_seconds, "xero.oauth");
  config.grace_seconds = PositiveInteger(o, "grace_seconds", config.grace_seconds, "xero.oauth");
  return config;
}

std::optional<XeroRateLimits> OptionalXeroRateLimits(const json::object& xero) {
  const json::value* v = xero.if_contains("rate_limits");
  if (v == nullptr) return std::nullopt;
  const json::object& o = RequireObject(*v, "xero.rate_limits");
  RejectUnknownKeys(o, {"minute", "day"}, "xero.rate_limits");
  XeroRateLimits limits;
  limits.minute = PositiveInteger(o, "minute", limits.minute, "xero.rate_limits");
  limits.day = PositiveInteger(o, "day", limits.day, "xero.rate_limits");
  return limits;
}

}  // namespace

std::string EscapeJsonSlashes(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size() + json_text.size() / 16);
  for (const char c : json_text) {
    if (c == '/') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void DatasetBuilder::SetXeroCredentials(std::string tenant_id, std::string access_token) {
  dataset_.xero.tenant_id = std::move(tenant_id);
  dataset_.xero.access_token = std::move(access_token);
}

void DatasetBuilder::SetXeroFailStatus(std::optional<unsigned> status) {
  dataset_.xero.fail_status = status;
}

void DatasetBuilder::SetXeroOAuth(std::optional<XeroOAuthConfig> oauth) {
  dataset_.xero.oauth = std::move(oauth);
}

void DatasetBuilder::SetXeroRateLimits(std::optional<XeroRateLimits> limits) {
  dataset_.xero.rate_limits = limits;
}

void DatasetBuilder::SetScimToken(std::string token) { dataset_.scim.token = std::move(token); }

void DatasetBuilder::SetScimFailStatus(std::optional<unsigned> status) {
  dataset_.scim.fail_status = status;
}

void DatasetBuilder::SetScimQuirks(ScimQuirks quirks) { dataset_.scim.quirks = quirks; }

void DatasetBuilder::SetQboCredentials(std::string realm_id, std::string access_token) {
  dataset_.qbo.realm_id = std::move(realm_id);
  dataset_.qbo.access_token = std::move(access_token);
}

void DatasetBuilder::SetQboFailStatus(std::optional<unsigned> status) {
  dataset_.qbo.fail_status = status;
}

bool QboIdLess(std::string_view a, std::string_view b) {
  const auto numeric = [](std::string_view id) {
    return !id.empty() &&
           std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const bool na = numeric(a);
  const bool nb = numeric(b);
  if (na != nb) return na;
  if (na && a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

void DatasetBuilder::AddCustomer(const json::object& customer, std::string_view where) {
  QboCustomer c;
  c.id = RequireString(customer, "Id", where);
  const json::value* meta = customer.if_contains("MetaData");
  if (meta == nullptr || !meta->is_object()) {
    throw DatasetError(Str(where) + ": \"MetaData\" must be an object with \"LastUpdatedTime\"");
  }
  const auto read_time = [&](std::string_view key, bool required) -> reconcile::Millis {
    const json::value* v = meta->get_object().if_contains(key);
    if (v == nullptr && !required) return 0;
    const std::string text = RequireString(meta->get_object(), key, Str(where) + ".MetaData");
    const auto ms = connectors::ParseIsoDateTime(text);
    if (!ms) {
      throw DatasetError(Str(where) + ".MetaData." + Str(key) + ": \"" + text +
                         "\" is not an ISO-8601 date-time");
    }
    return *ms;
  };
  c.updated_ms = read_time("LastUpdatedTime", true);
  c.created_ms = read_time("CreateTime", false);
  const auto flag = [&](std::string_view key, bool fallback) {
    const json::value* v = customer.if_contains(key);
    if (v == nullptr) return fallback;
    if (!v->is_bool()) throw DatasetError(Str(where) + ": " + Str(key) + " must be a boolean");
    return v->get_bool();
  };
  c.active = flag("Active", true);
  c.job = flag("Job", false);
  const auto text = [&](std::string_view key) {
    const json::value* v = customer.if_contains(key);
    return v != nullptr && v->is_string() ? Str(v->get_string()) : std::string();
  };
  c.display_name = text("DisplayName");
  c.given_name = text("GivenName");
  c.family_name = text("FamilyName");
  c.company_name = text("CompanyName");
  c.json = json::serialize(customer);
  dataset_.qbo.customers.push_back(std::move(c));
}

void DatasetBuilder::SetMyobCompanyFile(std::string id, std::string api_key,
                                        std::string access_token, std::string cftoken) {
  dataset_.myob.id = std::move(id);
  dataset_.myob.api_key = std::move(api_key);
  dataset_.myob.access_token = std::move(access_token);
  dataset_.myob.cftoken = std::move(cftoken);
}

void DatasetBuilder::SetMyobFailStatus(std::optional<unsigned> status) {
  dataset_.myob.fail_status = status;
}

void DatasetBuilder::AddMyobCustomer(const json::object& customer, std::string_view where) {
  MyobCustomer c;
  c.uid = RequireString(customer, "UID", where);
  const std::string modified = RequireString(customer, "LastModified", where);
  const auto ms = connectors::ParseIsoDateTime(modified);
  if (!ms) {
    throw DatasetError(Str(where) + ".LastModified: \"" + modified +
                       "\" is not an ISO-8601 date-time");
  }
  c.last_modified_ms = *ms;
  if (const json::value* v = customer.if_contains("IsActive")) {
    if (!v->is_bool()) throw DatasetError(Str(where) + ": IsActive must be a boolean");
    c.active = v->get_bool();
  }
  c.json = json::serialize(customer);
  dataset_.myob.customers.push_back(std::move(c));
}

void DatasetBuilder::AddContact(const json::object& contact, std::string_view where) {
  XeroContact c;
  c.contact_id = RequireString(contact, "ContactID", where);
  const std::string updated = RequireString(contact, "UpdatedDateUTC", where);
  const auto ms = connectors::ParseXeroDate(updated);
  if (!ms) {
    throw DatasetError(Str(where) + ": UpdatedDateUTC \"" + updated +
                       "\" is not in the form /Date(ms+0000)/");
  }
  c.updated_ms = *ms;
  if (const json::value* status = contact.if_contains("ContactStatus")) {
    if (!status->is_string()) throw DatasetError(Str(where) + ": ContactStatus must be a string");
    c.archived = status->get_string() == "ARCHIVED";
  }
  c.json = EscapeJsonSlashes(json::serialize(contact));
  dataset_.xero.contacts.push_back(std::move(c));
}

void DatasetBuilder::AddUser(const json::object& user, std::string_view where) {
  ScimUser u;
  u.id = RequireString(user, "id", where);
  const json::value* meta = user.if_contains("meta");
  if (meta == nullptr || !meta->is_object()) {
    throw DatasetError(Str(where) + ": \"meta\" must be an object with \"lastModified\"");
  }
  const std::string last_modified =
      RequireString(meta->get_object(), "lastModified", Str(where) + ".meta");
  const auto ms = connectors::ParseIsoDateTime(last_modified);
  if (!ms) {
    throw DatasetError(Str(where) + ".meta.lastModified: \"" + last_modified +
                       "\" is not an ISO-8601 date-time");
  }
  u.last_modified_ms = *ms;
  u.json = json::serialize(user);
  dataset_.scim.users.push_back(std::move(u));
}

Dataset DatasetBuilder::Finish() && {
  auto& contacts = dataset_.xero.contacts;
  std::sort(contacts.begin(), contacts.end(), [](const XeroContact& a, const XeroContact& b) {
    return std::tie(a.updated_ms, a.contact_id) < std::tie(b.updated_ms, b.contact_id);
  });
  std::unordered_set<std::string_view> seen;
  auto& active_before = dataset_.xero.active_before;
  active_before.assign(1, 0);
  active_before.reserve(contacts.size() + 1);
  for (const XeroContact& c : contacts) {
    if (!seen.insert(c.contact_id).second) {
      throw DatasetError("xero.contacts: duplicate ContactID " + c.contact_id);
    }
    active_before.push_back(active_before.back() + (c.archived ? 0 : 1));
  }

  auto& customers = dataset_.qbo.customers;
  std::sort(customers.begin(), customers.end(),
            [](const QboCustomer& a, const QboCustomer& b) { return QboIdLess(a.id, b.id); });
  for (std::size_t i = 1; i < customers.size(); ++i) {
    if (customers[i - 1].id == customers[i].id) {
      throw DatasetError("qbo.customers: duplicate Id " + customers[i].id);
    }
  }

  std::unordered_set<std::string_view> myob_uids;
  for (const MyobCustomer& c : dataset_.myob.customers) {
    if (!myob_uids.insert(c.uid).second) {
      throw DatasetError("myob.customers: duplicate UID " + c.uid);
    }
  }

  auto& users = dataset_.scim.users;
  std::sort(users.begin(), users.end(), [](const ScimUser& a, const ScimUser& b) {
    return std::tie(a.last_modified_ms, a.id) < std::tie(b.last_modified_ms, b.id);
  });
  seen.clear();
  for (const ScimUser& u : users) {
    if (!seen.insert(u.id).second) throw DatasetError("scim.users: duplicate id " + u.id);
  }
  return std::move(dataset_);
}

Dataset ParseDataset(std::string_view json_text) {
  boost::json::monotonic_resource resource;
  boost::system::error_code ec;
  const json::value root = json::parse(json_text, ec, &resource);
  if (ec) throw DatasetError("not valid JSON: " + ec.message());
  const json::object& top = RequireObject(root, "data file");
  RejectUnknownKeys(top, {"xero", "scim", "qbo", "myob"}, "data file");

  DatasetBuilder builder;
  if (const json::value* xero_value = top.if_contains("xero")) {
    const json::object& xero = RequireObject(*xero_value, "xero");
    RejectUnknownKeys(
        xero, {"tenant_id", "access_token", "fail_status", "oauth", "rate_limits", "contacts"},
        "xero");
    builder.SetXeroCredentials(RequireString(xero, "tenant_id", "xero"),
                               RequireString(xero, "access_token", "xero"));
    builder.SetXeroFailStatus(OptionalStatus(xero, "xero"));
    builder.SetXeroOAuth(OptionalXeroOAuth(xero));
    builder.SetXeroRateLimits(OptionalXeroRateLimits(xero));
    const json::array& contacts = RequireArray(xero, "contacts", "xero");
    for (std::size_t i = 0; i < contacts.size(); ++i) {
      const std::string where = "xero.contacts[" + std::to_string(i) + "]";
      builder.AddContact(RequireObject(contacts[i], where), where);
    }
  }
  if (const json::value* scim_value = top.if_contains("scim")) {
    const json::object& scim = RequireObject(*scim_value, "scim");
    RejectUnknownKeys(scim, {"token", "fail_status", "quirks", "users"}, "scim");
    builder.SetScimToken(RequireString(scim, "token", "scim"));
    builder.SetScimFailStatus(OptionalStatus(scim, "scim"));
    if (const json::value* quirks = scim.if_contains("quirks")) {
      builder.SetScimQuirks(ParseScimQuirks(RequireObject(*quirks, "scim.quirks")));
    }
    const json::array& users = RequireArray(scim, "users", "scim");
    for (std::size_t i = 0; i < users.size(); ++i) {
      const std::string where = "scim.users[" + std::to_string(i) + "]";
      builder.AddUser(RequireObject(users[i], where), where);
    }
  }
  if (const json::value* qbo_value = top.if_contains("qbo")) {
    const json::object& qbo = RequireObject(*qbo_value, "qbo");
    RejectUnknownKeys(qbo, {"realm_id", "access_token", "fail_status", "customers"}, "qbo");
    builder.SetQboCredentials(RequireString(qbo, "realm_id", "qbo"),
                              RequireString(qbo, "access_token", "qbo"));
    builder.SetQboFailStatus(OptionalStatus(qbo, "qbo"));
    const json::array& customers = RequireArray(qbo, "customers", "qbo");
    for (std::size_t i = 0; i < customers.size(); ++i) {
      const std::string where = "qbo.customers[" + std::to_string(i) + "]";
      builder.AddCustomer(RequireObject(customers[i], where), where);
    }
  }
  if (const json::value* myob_value = top.if_contains("myob")) {
    const json::object& myob = RequireObject(*myob_value, "myob");
    RejectUnknownKeys(
        myob, {"company_file_id", "api_key", "access_token", "cftoken", "fail_status", "customers"},
        "myob");
    const json::value* cftoken = myob.if_contains("cftoken");
    builder.SetMyobCompanyFile(
        RequireString(myob, "company_file_id", "myob"), RequireString(myob, "api_key", "myob"),
        RequireString(myob, "access_token", "myob"),
        cftoken == nullptr ? std::string() : RequireString(myob, "cftoken", "myob"));
    builder.SetMyobFailStatus(OptionalStatus(myob, "myob"));
    const json::array& customers = RequireArray(myob, "customers", "myob");
    for (std::size_t i = 0; i < customers.size(); ++i) {
      const std::string where = "myob.customers[" + std::to_string(i) + "]";
      builder.AddMyobCustomer(RequireObject(customers[i], where), where);
    }
  }
  return std::move(builder).Finish();
}

namespace {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DatasetError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw DatasetError(path + ": read error");
  return std::move(content).str();
}

Dataset ParseDatasetFile(const std::string& path, std::string_view content) {
  try {
    return ParseDataset(content);
  } catch (const DatasetError& e) {
    throw DatasetError(path + ": " + e.what());
  }
}

std::int64_t WallClockNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

}  // namespace

Dataset LoadDatasetFile(const std::string& path) {
  return ParseDatasetFile(path, ReadWholeFile(path));
}

DatasetSource::DatasetSource(Dataset dataset)
    : current_(std::make_shared<const Dataset>(std::move(dataset))) {}

DatasetSource::DatasetSource(std::string path) : path_(std::move(path)) {
  const auto identity = Stat();
  if (!identity) throw DatasetError(path_ + ": cannot stat: " + std::strerror(errno));
  Refresh(*identity, /*strict=*/true);
}

std::optional<DatasetSource::FileIdentity> DatasetSource::Stat() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_ino, st.st_size,
                      st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                      st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec};
}

bool DatasetSource::Refresh(const FileIdentity& identity, bool strict) {
  // File timestamps are coarse (a kernel tick): a rewrite less than a tick after our read can
  // keep every field of the identity. Once the identity is older than our read by a margin,
  // any later rewrite changes it.
  constexpr std::int64_t kTimestampMarginNs = 1'000'000'000;
  const std::int64_t read_start = WallClockNs();
  std::string content;
  try {
    content = ReadWholeFile(path_);
  } catch (const DatasetError&) {
    if (strict) throw;
    return false;  // mid-rename, say: keep the previous dataset, look again next time
  }
  seen_ = identity;
  settled_ = identity.mtime_ns < read_start - kTimestampMarginNs &&
             identity.ctime_ns < read_start - kTimestampMarginNs;
  const std::size_t hash = std::hash<std::string_view>{}(content);
  if (current_ && hash == seen_hash_) return true;  // same bytes as last time
  seen_hash_ = hash;
  if (strict) {
    current_ = std::make_shared<const Dataset>(ParseDatasetFile(path_, content));
    return true;
  }
  try {
    current_ = std::make_shared<const Dataset>(ParseDatasetFile(path_, content));
    std::fprintf(stderr,
                 "data file reloaded: %s (%zu contacts, %zu users, %zu qbo customers, %zu myob "
                 "customers)\n",
                 path_.c_str(), current_->xero.contacts.size(), current_->scim.users.size(),
                 current_->qbo.customers.size(), current_->myob.customers.size());
  } catch (const DatasetError& e) {
    std::fprintf(stderr, "data file not reloaded, keeping the previous data: %s\n", e.what());
  }
  return true;
}

std::shared_ptr<const Dataset> DatasetSource::Current() {
  if (path_.empty()) return current_;
  const auto identity = Stat();
  if (!identity) return current_;  // mid-rename, say
  if (identity == seen_ && settled_) return current_;
  Refresh(*identity, /*strict=*/false);
  return current_;
}

}  // namespace concord::fake
