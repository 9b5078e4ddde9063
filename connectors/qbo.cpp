#include "connectors/qbo.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "connectors/json_fields.hpp"
#include "connectors/vendor_http.hpp"
#include "connectors/wire_time.hpp"

namespace concord::connectors {
namespace {

namespace json = boost::json;
using detail::FieldReader;
using reconcile::FinancePerson;
using reconcile::LinkStatus;
using reconcile::QuarantinedRecord;

constexpr std::string_view kSource = "qbo";
constexpr int kMaxPageSize = 1000;
// QBO nests sub-customers at most 5 levels deep; a longer chain is a cycle in bad data.
constexpr int kMaxDepth = 16;
// Ids per look-up query, to keep the URL short.
constexpr std::size_t kIdsPerLookup = 100;
// Look-up rounds per page: one per level of nesting.
constexpr int kMaxLookupRounds = 5;

void Quarantine(FinancePage& out, std::string remote_id, std::string reason, std::string raw) {
  out.quarantined.push_back(QuarantinedRecord{reconcile::Side::kFinance, std::string(kSource),
                                              std::move(remote_id), std::move(reason),
                                              std::move(raw)});
}

// Reads a nested {"<inner>": "..."} member such as PrimaryEmailAddr.Address.
std::string NestedString(FieldReader& fields, std::string_view key, std::string_view inner) {
  const json::object* object = fields.Object(key);
  if (object == nullptr) return {};
  FieldReader nested(*object, std::string(key) + ".");
  std::string value = nested.String(inner);
  fields.Absorb(nested);
  return value;
}

void ParseCustomer(const json::value& value, QboPage& out) {
  if (!value.is_object()) {
    Quarantine(out.page, {},
               "customer is " + std::string(detail::KindName(value)) + ", expected an object",
               json::serialize(value));
    return;
  }
  FieldReader fields(value.get_object());
  const json::value* id = fields.Value("Id");
  if (id == nullptr) {
    Quarantine(out.page, {}, "customer has no Id", json::serialize(value));
    return;
  }
  if (!id->is_string() || id->get_string().empty()) {
    Quarantine(out.page, {},
               id->is_string() ? "Id is empty" : fields.WrongType("Id", *id, "a string"),
               json::serialize(value));
    return;
  }

  FinancePerson person;
  QboAncestry ancestry;
  person.source = std::string(kSource);
  person.remote_id = std::string(id->get_string());
  ancestry.id = person.remote_id;
  ancestry.display_name = fields.String("DisplayName");
  person.given_name = fields.String("GivenName");
  person.family_name = fields.String("FamilyName");
  person.email = NestedString(fields, "PrimaryEmailAddr", "Address");
  const std::optional<bool> active = fields.Bool("Active");
  person.status = active.value_or(true) ? LinkStatus::kActive : LinkStatus::kArchived;
  if (const json::object* meta = fields.Object("MetaData")) {
    FieldReader meta_fields(*meta, "MetaData.");
    person.updated_at = meta_fields.IsoTime("LastUpdatedTime");
    fields.Absorb(meta_fields);
  }
  ancestry.parent_id = NestedString(fields, "ParentRef", "value");
  if (const json::value* level = fields.Value("Level")) {
    const std::optional<std::int64_t> number = detail::ToInteger(*level);
    if (number && *number >= 0 && *number <= kMaxDepth) {
      ancestry.level = static_cast<int>(*number);
    } else {
      fields.Fail("Level " + json::serialize(*level) + " is not a depth from 0 to 16");
    }
  }
  const std::string qualified = fields.String("FullyQualifiedName");
  if (fields.error()) {
    Quarantine(out.page, person.remote_id, *fields.error(), json::serialize(value));
    return;
  }
  if (ancestry.parent_id.empty()) {
    person.account_id = person.remote_id;
    person.account_name = ancestry.display_name;
  } else {
    // DisplayName may not contain ':', so the first part is the top-level customer's name.
    person.account_id = ancestry.parent_id;
    const std::size_t colon = qualified.find(':');
    if (colon != std::string::npos) person.account_name = qualified.substr(0, colon);
  }
  person.raw_json = json::serialize(value);
  out.page.persons.push_back(std::move(person));
  out.ancestry.push_back(std::move(ancestry));
}

// A single-quoted QBO string literal: quotes and backslashes escaped with a backslash.
std::string QuoteLiteral(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('\'');
  return quoted;
}

// The text of the first <tag>...</tag> in `xml` at or after `from`, entities decoded.
std::optional<std::string> XmlElement(std::string_view xml, std::string_view tag,
                                      std::size_t from = 0) {
  const std::string open = "<" + std::string(tag);
  std::size_t at = xml.find(open, from);
  while (at != std::string_view::npos) {
    const char after = at + open.size() < xml.size() ? xml[at + open.size()] : '\0';
    if (after == '>' || after == ' ' || after == '/') break;
    at = xml.find(open, at + 1);
  }
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t start = xml.find('>', at);
  if (start == std::string_view::npos) return std::nullopt;
  if (xml[start - 1] == '/') return std::string();
  const std::size_t end = xml.find("</" + std::string(tag) + ">", start);
  if (end == std::string_view::npos) return std::nullopt;
  std::string text;
  const std::string_view raw = xml.substr(start + 1, end - start - 1);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      text.push_back(raw[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool decoded = false;
    for (const auto& [entity, c] : kEntities) {
      if (raw.substr(i, entity.size()) == entity) {
        text.push_back(c);
        i += entity.size() - 1;
        decoded = true;
        break;
      }
    }
    if (!decoded) text.push_back('&');
  }
  return text;
}

// The value of attribute `name` in the start tag beginning at `at`.
std::string XmlAttribute(std::string_view xml, std::size_t at, std::string_view name) {
  const std::size_t end = xml.find('>', at);
  const std::string_view tag = xml.substr(at, end == std::string_view::npos ? 0 : end - at);
  const std::string needle = " " + std::string(name) + "=\"";
  const std::size_t start = tag.find(needle);
  if (start == std::string_view::npos) return {};
  const std::size_t value = start + needle.size();
  const std::size_t close = tag.find('"', value);
  if (close == std::string_view::npos) return {};
  return std::string(tag.substr(value, close - value));
}

std::string FaultLine(std::string message, std::string code, std::string detail) {
  std::string line = message.empty() ? std::string("fault") : std::move(message);
  if (!code.empty()) line += " (code " + code + ")";
  if (!detail.empty()) line += ": " + detail;
  return line;
}

std::optional<std::string> XmlFaultText(std::string_view xml) {
  const std::size_t fault = xml.find("<Fault");
  if (fault == std::string_view::npos) return std::nullopt;
  std::string text;
  for (std::size_t at = xml.find("<Error", fault); at != std::string_view::npos;
       at = xml.find("<Error", at + 1)) {
    const char after = at + 6 < xml.size() ? xml[at + 6] : '\0';
    if (after != ' ' && after != '>') continue;
    const std::size_t end = xml.find("</Error>", at);
    const std::string_view error =
        xml.substr(at, end == std::string_view::npos ? xml.npos : end - at);
    if (!text.empty()) text += "; ";
    text += FaultLine(XmlElement(error, "Message").value_or(""), XmlAttribute(xml, at, "code"),
                      XmlElement(error, "Detail").value_or(""));
  }
  if (text.empty()) text = "fault";
  return text;
}

std::string MemberText(const json::object& object, std::string_view key) {
  const json::value* member = object.if_contains(key);
  if (member == nullptr || member->is_null()) return {};
  if (member->is_string()) return std::string(member->get_string());
  return json::serialize(*member);
}

// Both JSON fault forms: {"Fault":{"Error":[...]}} and {"fault":{"error":[...]}}.
std::optional<std::string> JsonFaultText(const json::object& document) {
  const bool pascal = document.contains("Fault");
  const json::value* fault = document.if_contains(pascal ? "Fault" : "fault");
  if (fault == nullptr || !fault->is_object()) return std::nullopt;
  const json::value* errors = fault->get_object().if_contains(pascal ? "Error" : "error");
  std::string text;
  if (errors != nullptr && errors->is_array()) {
    for (const json::value& error : errors->get_array()) {
      if (!error.is_object()) continue;
      const json::object& e = error.get_object();
      if (!text.empty()) text += "; ";
      text += FaultLine(MemberText(e, pascal ? "Message" : "message"), MemberText(e, "code"),
                        MemberText(e, pascal ? "Detail" : "detail"));
    }
  }
  if (text.empty()) {
    const std::string type = MemberText(fault->get_object(), "type");
    text = type.empty() ? "fault" : type;
  }
  return text;
}

bool IsJsonContent(const HttpResponse& response) {
  const auto header = response.Header("Content-Type");
  if (!header) return true;
  std::string media(header->substr(0, header->find(';')));
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  return media == "application/json" || media.ends_with("+json");
}

class QboSource final : public FinanceSource {
 public:
  QboSource(QboSettings settings, std::unique_ptr<HttpTransport> transport, SleepFunction sleep)
      : settings_(std::move(settings)),
        transport_(std::move(transport)),
        sleep_(std::move(sleep)) {}

  FetchSummary Fetch(const FetchRequest& request,
                     const std::function<void(FinancePage&&)>& on_page) override {
    FetchSummary summary;
    retry_budget_ = detail::RetryBudget(settings_.http);
    QboHierarchy hierarchy;
    for (std::int64_t start = 1;; start += settings_.page_size) {
      std::optional<reconcile::Millis> date;
      QboPage parsed = Query(QboCustomerQuery(request.since, start, settings_.page_size), &date);
      if (start == 1) summary.source_clock = parsed.time.value_or(date.value_or(0));
      for (const QboAncestry& customer : parsed.ancestry) {
        if (!customer.parent_id.empty()) hierarchy.Add(customer);
      }
      LookUpAncestors(parsed.ancestry, hierarchy);
      hierarchy.Resolve(parsed.ancestry, parsed.page.persons);

      ++summary.pages;
      summary.records +=
          static_cast<std::int64_t>(parsed.page.persons.size() + parsed.page.quarantined.size());
      const bool last = parsed.customer_count < static_cast<std::size_t>(settings_.page_size);
      on_page(std::move(parsed.page));
      if (last) break;
    }
    return summary;
  }

 private:
  // Runs one query statement; throws FetchError naming the URL on any failure. `date` gets
  // the response's Date header, when readable.
  QboPage Query(const std::string& statement, std::optional<reconcile::Millis>* date = nullptr) {
    HttpRequest http;
    http.url =
        QboQueryUrl(settings_.base_url, settings_.realm_id, statement, settings_.minorversion);
    http.headers = {{"Authorization", "Bearer " + settings_.access_token},
                    {"Accept", "application/json"}};
    http.timeout = std::chrono::seconds(settings_.http.timeout_seconds);
    const HttpResponse response =
        detail::GetWithRetries(kSource, *transport_, http, settings_.http, sleep_, retry_budget_);
    if (date != nullptr) {
      if (const auto header = response.Header("Date")) *date = ParseHttpDate(*header);
    }
    const std::string trace = TraceSuffix(response);
    if (!response.Ok()) {
      std::string message = std::string(kSource) + ": GET " + http.url + " returned " +
                            std::to_string(response.status);
      if (!response.reason.empty()) message += " " + response.reason;
      if (const auto fault = QboFaultText(response.body)) message += ": " + *fault;
      const std::optional<std::int64_t> retry_after = detail::RetryAfterSeconds(response);
      if (retry_after) message += " (Retry-After: " + std::to_string(*retry_after) + " s)";
      throw HttpStatusError(message + trace, response.status, retry_after);
    }
    if (!IsJsonContent(response)) {
      const auto fault = QboFaultText(response.body);
      throw FetchError(std::string(kSource) + ": GET " + http.url + " returned Content-Type '" +
                       std::string(response.Header("Content-Type").value_or("")) +
                       "', expected JSON" + (fault ? ": " + *fault : std::string()) + trace);
    }
    try {
      return ParseQboPage(response.body);
    } catch (const MalformedPage& error) {
      // A fault in a 2xx body (it has no QueryResponse) is looked for only then, so a good
      // page is parsed once.
      if (const auto fault = QboFaultText(response.body)) {
        throw FetchError(std::string(kSource) + ": GET " + http.url + " returned " +
                         std::to_string(response.status) + " with a fault: " + *fault + trace);
      }
      throw FetchError(std::string(kSource) + ": GET " + http.url +
                       " returned an unreadable query response: " + error.what() + trace);
    }
  }

  static std::string TraceSuffix(const HttpResponse& response) {
    const auto tid = response.Header("intuit_tid");
    return tid ? " (intuit_tid: " + std::string(*tid) + ")" : std::string();
  }

  // Reads the customers above sub-customers whose top-level customer is not known yet (an
  // incremental read sees a changed job without its unchanged parent).
  void LookUpAncestors(const std::vector<QboAncestry>& ancestry, QboHierarchy& hierarchy) {
    for (int round = 0; round < kMaxLookupRounds; ++round) {
      const std::vector<std::string> missing = hierarchy.Missing(ancestry);
      if (missing.empty()) return;
      for (std::size_t at = 0; at < missing.size(); at += kIdsPerLookup) {
        const std::vector<std::string> ids(
            missing.begin() + static_cast<std::ptrdiff_t>(at),
            missing.begin() +
                static_cast<std::ptrdiff_t>(std::min(at + kIdsPerLookup, missing.size())));
        const QboPage found = Query(QboCustomersByIdQuery(ids));
        std::unordered_set<std::string> returned;
        for (const QboAncestry& customer : found.ancestry) {
          hierarchy.Add(customer);
          returned.insert(customer.id);
        }
        for (const std::string& id : ids) {
          if (!returned.contains(id)) hierarchy.NotFound(id);
        }
      }
    }
  }

  QboSettings settings_;
  std::unique_ptr<HttpTransport> transport_;
  SleepFunction sleep_;
  detail::RetryBudget retry_budget_{settings_.http};  // renewed by every Fetch
};

}  // namespace

QboPage ParseQboPage(std::string_view body) {
  const json::object document = detail::ParseObject(body);
  QboPage result;
  // Strict on purpose: reading some other JSON document as "no customers" would make a full
  // sync see every record as deleted.
  const json::value* response = document.if_contains("QueryResponse");
  if (response == nullptr) throw MalformedPage("the body has no QueryResponse");
  if (!response->is_object()) {
    throw MalformedPage("QueryResponse is " + std::string(detail::KindName(*response)) +
                        ", expected an object");
  }
  if (const json::value* time = document.if_contains("time");
      time != nullptr && time->is_string()) {
    result.time = ParseIsoDateTime(time->get_string());
  }
  const json::value* customers = response->get_object().if_contains("Customer");
  if (customers == nullptr) return result;  // QBO leaves the key out of an empty page
  if (!customers->is_array()) {
    throw MalformedPage("QueryResponse.Customer is " + std::string(detail::KindName(*customers)) +
                        ", expected an array");
  }
  const json::array& entries = customers->get_array();
  result.customer_count = entries.size();
  for (const json::value& customer : entries) ParseCustomer(customer, result);
  return result;
}

void QboHierarchy::Add(const QboAncestry& customer) { known_[customer.id] = customer; }

void QboHierarchy::NotFound(const std::string& id) { not_found_.insert(id); }

std::string QboHierarchy::Top(const QboAncestry& customer, bool& complete) const {
  const QboAncestry* node = &customer;
  for (int step = 0; step < kMaxDepth; ++step) {
    if (node->parent_id.empty()) break;
    if (node->level == 1) {
      complete = true;
      return node->parent_id;
    }
    const auto it = known_.find(node->parent_id);
    if (it == known_.end()) {
      complete = not_found_.contains(node->parent_id);
      return node->parent_id;
    }
    node = &it->second;
  }
  complete = true;
  return node->id;
}

std::vector<std::string> QboHierarchy::Missing(const std::vector<QboAncestry>& ancestry) const {
  std::vector<std::string> missing;
  for (const QboAncestry& customer : ancestry) {
    if (customer.parent_id.empty()) continue;
    bool complete = false;
    std::string top = Top(customer, complete);
    if (!complete) missing.push_back(std::move(top));
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return missing;
}

void QboHierarchy::Resolve(const std::vector<QboAncestry>& ancestry,
                           std::vector<FinancePerson>& persons) const {
  for (std::size_t i = 0; i < ancestry.size() && i < persons.size(); ++i) {
    if (ancestry[i].parent_id.empty()) continue;
    bool complete = false;
    persons[i].account_id = Top(ancestry[i], complete);
    if (persons[i].account_name.empty()) {
      if (const auto it = known_.find(persons[i].account_id); it != known_.end()) {
        persons[i].account_name = it->second.display_name;
      }
    }
  }
}

std::string QboCustomerQuery(std::optional<reconcile::Millis> since, std::int64_t start_position,
                             int max_results) {
  std::string statement = "select * from Customer where Active IN (true,false)";
  if (since) {
    statement += " and Metadata.LastUpdatedTime >= '" + FormatIsoSeconds(*since) + "+00:00'";
  }
  statement += " orderby Id startposition " + std::to_string(start_position) + " maxresults " +
               std::to_string(max_results);
  return statement;
}

std::string QboCustomersByIdQuery(const std::vector<std::string>& ids) {
  std::string statement = "select * from Customer where Active IN (true,false) and Id IN (";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) statement += ",";
    statement += QuoteLiteral(ids[i]);
  }
  statement += ") maxresults " + std::to_string(std::max<std::size_t>(ids.size(), 1));
  return statement;
}

std::string QboQueryUrl(std::string_view base_url, std::string_view realm_id,
                        std::string_view statement, int minorversion) {
  // BuildUrl encodes the path segment; the query parameters go through Boost.URL, which
  // leaves '+' alone (legal in a query) while servers read it as a space: encode it here.
  std::string url = detail::BuildUrl(base_url, "v3", {});
  url = detail::BuildUrl(url, "company", {});
  url = detail::BuildUrl(url, realm_id, {});
  url = detail::BuildUrl(
      url, "query",
      {{"query", std::string(statement)}, {"minorversion", std::to_string(minorversion)}});
  std::string encoded;
  encoded.reserve(url.size());
  for (const char c : url) {
    if (c == '+') {
      encoded += "%2B";
    } else {
      encoded.push_back(c);
    }
  }
  return encoded;
}

std::optional<std::string> QboFaultText(std::string_view body) {
  boost::system::error_code error;
  const json::value document = json::parse(body, error);
  if (!error) {
    if (!document.is_object()) return std::nullopt;
    return JsonFaultText(document.get_object());
  }
  return XmlFaultText(body);
}

std::unique_ptr<FinanceSource> MakeQboSource(QboSettings settings,
                                             std::unique_ptr<HttpTransport> transport,
                                             SleepFunction sleep) {
  detail::RequireBaseUrl(kSource, settings.base_url);
  if (settings.page_size < 1 || settings.page_size > kMaxPageSize) {
    throw std::invalid_argument("qbo: page_size must be between 1 and 1000, got " +
                                std::to_string(settings.page_size));
  }
  if (settings.access_token.empty()) throw std::invalid_argument("qbo: access_token is empty");
  if (settings.realm_id.empty()) throw std::invalid_argument("qbo: realm_id is empty");
  if (settings.minorversion < 1) {
    throw std::invalid_argument("qbo: minorversion must be at least 1, got " +
                                std::to_string(settings.minorversion));
  }
  detail::RequireHttpSettings(kSource, settings.http);
  return std::make_unique<QboSource>(std::move(settings), std::move(transport), std::move(sleep));
}

std::unique_ptr<FinanceSource> MakeQboSource(QboSettings settings) {
  auto transport = std::make_unique<HttpClient>(settings.http);
  return MakeQboSource(std::move(settings), std::move(transport), {});
}

}  // namespace concord::connectors
