#include "faults.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

#include "http_util.hpp"

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kKindNames[] = {"status",         "slow",     "reset", "truncate",
                                           "malformed_json", "xml_body", "change"};
constexpr std::string_view kInsertedId = "00000000-fa17-4000-8000-000000000000";

std::string_view KindName(FaultKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::int64_t IntegerField(const json::object& object, std::string_view key, std::int64_t fallback,
                          std::int64_t min, std::int64_t max) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return fallback;
  if (!value->is_int64() || value->get_int64() < min || value->get_int64() > max) {
    throw FaultError("fault field '" + std::string(key) + "' must be an integer from " +
                     std::to_string(min) + " to " + std::to_string(max));
  }
  return value->get_int64();
}

std::string StringField(const json::object& object, std::string_view key, std::string fallback) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return fallback;
  if (!value->is_string())
    throw FaultError("fault field '" + std::string(key) + "' must be a string");
  return std::string(value->get_string());
}

std::string Reason(unsigned status) {
  const std::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
  return reason.empty() ? "Error" : std::string(reason);
}

json::object Describe(const Fault& fault) {
  json::object out{{"server", fault.server},
                   {"path", fault.path},
                   {"fault", KindName(fault.kind)},
                   {"count", fault.count},
                   {"after", fault.after}};
  if (fault.kind == FaultKind::kStatus) out["status"] = fault.status;
  if (fault.retry_after) out["retry_after"] = *fault.retry_after;
  if (!fault.rate_limit_problem.empty()) out["rate_limit_problem"] = fault.rate_limit_problem;
  if (fault.kind == FaultKind::kSlow) out["delay_ms"] = fault.delay_ms;
  return out;
}

HttpResponse Json(const HttpRequest& req, unsigned status, const json::value& body,
                  reconcile::Millis now_ms) {
  return MakeResponse(req, status, "application/json; charset=utf-8", json::serialize(body),
                      now_ms);
}

}  // namespace

Fault ParseFault(const json::value& value) {
  if (!value.is_object()) throw FaultError("a fault must be a JSON object");
  const json::object& object = value.as_object();
  for (const auto& item : object) {
    static constexpr std::string_view kKnown[] = {"server",   "path",        "fault",
                                                  "status",   "retry_after", "rate_limit_problem",
                                                  "delay_ms", "count",       "after"};
    bool known = false;
    for (const std::string_view key : kKnown) known = known || item.key() == key;
    if (!known) throw FaultError("unknown fault field '" + std::string(item.key()) + "'");
  }
  Fault fault;
  fault.server = StringField(object, "server", "*");
  if (fault.server != "*" && fault.server != "xero" && fault.server != "qbo" &&
      fault.server != "myob" && fault.server != "scim") {
    throw FaultError(
        "fault field 'server' must be \"xero\", \"qbo\", \"myob\", \"scim\" or "
        "\"*\", got \"" +
        fault.server + "\"");
  }
  fault.path = StringField(object, "path", "");
  const std::string kind = StringField(object, "fault", "");
  bool found = false;
  for (int i = 0; i < static_cast<int>(std::size(kKindNames)); ++i) {
    if (kind == kKindNames[i]) {
      fault.kind = static_cast<FaultKind>(i);
      found = true;
    }
  }
  if (!found) {
    throw FaultError(
        "fault field 'fault' must be one of status, slow, reset, truncate, "
        "malformed_json, xml_body, change; got \"" +
        kind + "\"");
  }
  const bool status = fault.kind == FaultKind::kStatus;
  if (status != object.contains("status")) {
    throw FaultError("fault field 'status' is required by, and only allowed with, \"status\"");
  }
  if (status) fault.status = static_cast<unsigned>(IntegerField(object, "status", 0, 400, 599));
  if (object.contains("retry_after") || object.contains("rate_limit_problem")) {
    if (!status) {
      throw FaultError("fault fields 'retry_after' and 'rate_limit_problem' go with \"status\"");
    }
    if (object.contains("retry_after")) {
      fault.retry_after = IntegerField(object, "retry_after", 0, 0, 86'400);
    }
    fault.rate_limit_problem = StringField(object, "rate_limit_problem", "");
  }
  const bool slow = fault.kind == FaultKind::kSlow;
  if (slow != object.contains("delay_ms")) {
    throw FaultError("fault field 'delay_ms' is required by, and only allowed with, \"slow\"");
  }
  if (slow) fault.delay_ms = IntegerField(object, "delay_ms", 0, 0, 600'000);
  fault.count = IntegerField(object, "count", 1, -1, 1'000'000'000);
  if (fault.count == 0) throw FaultError("fault field 'count' must be -1 or at least 1");
  fault.after = IntegerField(object, "after", 0, 0, 1'000'000'000);
  return fault;
}

std::vector<Fault> ParseFaults(std::string_view json_text) {
  boost::system::error_code error;
  const json::value value = json::parse(json_text, error);
  if (error) throw FaultError("faults must be JSON: " + error.message());
  std::vector<Fault> faults;
  if (value.is_array()) {
    for (const json::value& item : value.get_array()) faults.push_back(ParseFault(item));
  } else {
    faults.push_back(ParseFault(value));
  }
  return faults;
}

void FaultPlan::Add(Fault fault) {
  const std::lock_guard lock(mutex_);
  armed_.push_back({std::move(fault)});
}

void FaultPlan::Clear() {
  const std::lock_guard lock(mutex_);
  armed_.clear();
  changed_servers_.clear();
  changed_.clear();
}

void FaultPlan::MarkChanged(std::string_view server) {
  const std::lock_guard lock(mutex_);
  changed_servers_.emplace(server);
}

std::shared_ptr<const Dataset> FaultPlan::Data(std::string_view server,
                                               std::shared_ptr<const Dataset> current) {
  const std::lock_guard lock(mutex_);
  if (!changed_servers_.contains(server)) return current;
  auto it = changed_.find(server);
  if (it == changed_.end() || it->second.base != current) {
    auto changed = std::make_shared<const Dataset>(WithRecordInserted(*current, server));
    it = changed_.insert_or_assign(std::string(server), Changed{current, changed}).first;
  }
  return it->second.changed;
}

json::array FaultPlan::Describe() const {
  const std::lock_guard lock(mutex_);
  json::array out;
  for (const Armed& armed : armed_) {
    json::object item = concord::fake::Describe(armed.fault);
    item["seen"] = armed.seen;
    item["fired"] = armed.fired;
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<Fault> FaultPlan::Take(std::string_view server, std::string_view target) {
  const std::lock_guard lock(mutex_);
  std::optional<Fault> chosen;
  for (Armed& armed : armed_) {
    const Fault& fault = armed.fault;
    if (fault.server != "*" && fault.server != server) continue;
    if (!target.starts_with(fault.path)) continue;
    ++armed.seen;
    const bool due = armed.seen > fault.after && (fault.count < 0 || armed.fired < fault.count);
    if (due && !chosen) {
      ++armed.fired;
      chosen = fault;
    }
  }
  return chosen;
}

HttpResponse HandleFaultAdmin(const HttpRequest& req, FaultPlan& plan, reconcile::Millis now_ms) {
  if (req.method() == http::verb::get) {
    return Json(req, 200, json::object{{"faults", plan.Describe()}}, now_ms);
  }
  if (req.method() == http::verb::delete_) {
    plan.Clear();
    return Json(req, 200, json::object{{"faults", json::array()}}, now_ms);
  }
  if (req.method() == http::verb::post) {
    try {
      for (Fault& fault : ParseFaults(req.body())) plan.Add(std::move(fault));
    } catch (const FaultError& error) {
      return Json(req, 400, json::object{{"error", error.what()}}, now_ms);
    }
    return Json(req, 201, json::object{{"faults", plan.Describe()}}, now_ms);
  }
  HttpResponse res = Json(req, 405, json::object{{"error", "GET, POST or DELETE"}}, now_ms);
  res.set(http::field::allow, "GET, POST, DELETE");
  return res;
}

HttpResponse StatusFaultResponse(std::string_view server, const HttpRequest& req,
                                 const Fault& fault, reconcile::Millis now_ms) {
  const unsigned status = fault.status;
  const std::string detail =
      "injected by concord-fake: " + std::to_string(status) + " " + Reason(status);
  HttpResponse res;
  if (server == "xero") {
    res = Json(req, status,
               json::object{{"Type", nullptr},
                            {"Title", Reason(status)},
                            {"Status", status},
                            {"Detail", detail},
                            {"Instance", nullptr},
                            {"Extensions", json::object()}},
               now_ms);
    res.set("Xero-Correlation-Id", "concord-fake-fault");
    if (status == 429) {
      res.set("X-Rate-Limit-Problem",
              fault.rate_limit_problem.empty() ? "minute" : fault.rate_limit_problem);
    }
  } else if (server == "qbo") {
    const bool throttle = status == 429;
    res =
        Json(req, status,
             json::object{
                 {"Fault", json::object{{"Error", json::array{json::object{
                                                      {"Message", throttle ? "ThrottleExceeded"
                                                                           : "An application "
                                                                             "error has occurred"},
                                                      {"Detail", detail},
                                                      {"code", throttle ? "3001" : "10000"},
                                                      {"element", ""}}}},
                                        {"type", throttle ? "SERVICE" : "SystemFault"}}},
                 {"time", now_ms}},
             now_ms);
    res.set("intuit_tid", "concord-fake-fault");
  } else if (server == "myob") {
    const bool limit = status == 403 || status == 429;
    res = Json(
        req, status,
        json::object{{"Errors", json::array{json::object{
                                    {"Name", limit ? "RateLimitError" : "InternalError"},
                                    {"Message", detail},
                                    {"AdditionalDetails", limit ? "Header: x-myobapi-key" : ""},
                                    {"ErrorCode", limit ? 31003 : status},
                                    {"Severity", "Error"},
                                    {"LearnMore", nullptr}}}},
                     {"Information", nullptr}},
        now_ms);
  } else {
    res = MakeResponse(req, status, "application/scim+json",
                       json::serialize(json::object{
                           {"schemas", json::array{"urn:ietf:params:scim:api:messages:2.0:Error"}},
                           {"status", std::to_string(status)},
                           {"detail", detail}}),
                       now_ms);
  }
  if (fault.retry_after) res.set(http::field::retry_after, std::to_string(*fault.retry_after));
  return res;
}

namespace {

// The copy of a record that is inserted: a new id, and no address of a real person.
json::object InsertedCopy(std::string_view record_json, std::string_view id_key,
                          std::string_view id) {
  json::value copy = json::parse(record_json);
  const auto scrub = [](auto& self, json::value& value) -> void {
    if (value.is_string() &&
        std::string_view(value.get_string()).find('@') != std::string_view::npos) {
      value = "inserted@concord-fake.invalid";
    } else if (value.is_array()) {
      for (json::value& item : value.get_array()) self(self, item);
    } else if (value.is_object()) {
      for (auto& item : value.get_object()) self(self, item.value());
    }
  };
  scrub(scrub, copy);
  copy.as_object()[id_key] = id;
  return copy.as_object();
}

}  // namespace

Dataset WithRecordInserted(const Dataset& data, std::string_view server) {
  Dataset out = data;
  DatasetBuilder one;
  if (server == "xero" && !out.xero.contacts.empty()) {
    one.AddContact(InsertedCopy(out.xero.contacts.front().json, "ContactID", kInsertedId),
                   "inserted contact");
    XeroContact contact = std::move(std::move(one).Finish().xero.contacts.front());
    contact.updated_ms = out.xero.contacts.front().updated_ms;  // sorts first, by id
    out.xero.contacts.insert(out.xero.contacts.begin(), std::move(contact));
    out.xero.active_before.assign(1, 0);
    for (const XeroContact& c : out.xero.contacts) {
      out.xero.active_before.push_back(out.xero.active_before.back() + (c.archived ? 0 : 1));
    }
  } else if (server == "scim" && !out.scim.users.empty()) {
    one.AddUser(InsertedCopy(out.scim.users.front().json, "id", kInsertedId), "inserted user");
    ScimUser user = std::move(std::move(one).Finish().scim.users.front());
    user.last_modified_ms = out.scim.users.front().last_modified_ms;
    out.scim.users.insert(out.scim.users.begin(), std::move(user));
  } else if (server == "qbo" && !out.qbo.customers.empty()) {
    one.AddCustomer(InsertedCopy(out.qbo.customers.front().json, "Id", "0"), "inserted customer");
    out.qbo.customers.insert(out.qbo.customers.begin(),
                             std::move(std::move(one).Finish().qbo.customers.front()));
  } else if (server == "myob" && !out.myob.customers.empty()) {
    one.AddMyobCustomer(InsertedCopy(out.myob.customers.front().json, "UID", kInsertedId),
                        "inserted customer");
    out.myob.customers.insert(out.myob.customers.begin(),
                              std::move(std::move(one).Finish().myob.customers.front()));
  }
  return out;
}

void CorruptBody(const Fault& fault, HttpResponse& res) {
  if (fault.kind == FaultKind::kMalformedJson) {
    std::string& body = res.body();
    body.resize(body.size() / 2);
    if (body.empty()) body = "{";
    res.prepare_payload();
  } else if (fault.kind == FaultKind::kXmlBody) {
    res.set(http::field::content_type, "application/xml");
    res.body() =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Response><Status>OK</Status>"
        "<Detail>injected by concord-fake: an XML body</Detail></Response>\n";
    res.prepare_payload();
  }
}

}  // namespace concord::fake
