#include "connectors/myob.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include "connectors/json_fields.hpp"
#include "connectors/vendor_http.hpp"
#include "connectors/wire_time.hpp"
#include "reconcile/email_key.hpp"

namespace concord::connectors {
namespace {

namespace json = boost::json;
using detail::FieldReader;
using reconcile::FinancePerson;
using reconcile::LinkStatus;
using reconcile::QuarantinedRecord;

constexpr std::string_view kSource = "myob";
constexpr int kMaxPageSize = 1000;
// MYOB has no documented request id header; this is the one its gateway is reported to send,
// and the only thing an operator can quote to MYOB support about one failed request.
constexpr std::string_view kRequestIdHeader = "x-myobapi-requestid";

void Quarantine(FinancePage& out, std::string remote_id, std::string reason, std::string raw) {
  out.quarantined.push_back(QuarantinedRecord{reconcile::Side::kFinance, std::string(kSource),
                                              std::move(remote_id), std::move(reason),
                                              std::move(raw)});
}

std::string Trimmed(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

// The customer-level facts every person on it shares.
struct Customer {
  std::string uid;
  std::string first_name;
  std::string last_name;
  bool individual = false;
  FinancePerson base;  // source, account, status and updated_at filled in
};

// One address that names a person, with where it came from.
struct NamedAddress {
  std::int64_t location = 0;  // 1..5 as sent, else the position in Addresses[] + 1
  std::string contact_name;
  std::string email;
  std::string raw_json;
};

// Splits ContactName at its first space; an individual's own name (just the first name, or
// the full name) keeps the customer's FirstName and LastName, which say which part is which.
void SetNames(const Customer& customer, const std::string& contact_name, FinancePerson& person) {
  const std::string full = Trimmed(customer.first_name + " " + customer.last_name);
  if (contact_name.empty() ||
      (customer.individual && (contact_name == customer.first_name || contact_name == full))) {
    person.given_name = customer.first_name;
    person.family_name = customer.last_name;
    return;
  }
  const std::size_t space = contact_name.find(' ');
  person.given_name = contact_name.substr(0, space);
  if (space != std::string::npos) person.family_name = Trimmed(contact_name.substr(space + 1));
}

// The addresses that name someone, in Location order; unreadable ones are quarantined.
std::vector<NamedAddress> ReadAddresses(const json::array& addresses, const std::string& uid,
                                        FinancePage& out) {
  std::vector<NamedAddress> named;
  for (std::size_t index = 0; index < addresses.size(); ++index) {
    const json::value& entry = addresses[index];
    const std::string position = "Addresses[" + std::to_string(index) + "]";
    const std::string index_id = uid + "/addresses/#" + std::to_string(index);
    if (!entry.is_object()) {
      Quarantine(out, index_id,
                 position + " is " + std::string(detail::KindName(entry)) + ", expected an object",
                 json::serialize(entry));
      continue;
    }
    FieldReader fields(entry.get_object(), position + ".");
    NamedAddress address;
    address.location = static_cast<std::int64_t>(index) + 1;
    if (const json::value* location = fields.Value("Location")) {
      const std::optional<std::int64_t> number = detail::ToInteger(*location);
      if (number && *number >= 1 && *number <= 5) {
        address.location = *number;
      } else {
        fields.Fail(position + ".Location " + json::serialize(*location) +
                    " is not a location from 1 to 5");
      }
    }
    address.contact_name = Trimmed(fields.String("ContactName"));
    address.email = fields.String("Email");
    if (fields.error()) {
      Quarantine(out, index_id, *fields.error(), json::serialize(entry));
      continue;
    }
    if (address.contact_name.empty() && Trimmed(address.email).empty()) continue;
    address.raw_json = json::serialize(entry);
    named.push_back(std::move(address));
  }
  std::stable_sort(named.begin(), named.end(), [](const NamedAddress& a, const NamedAddress& b) {
    return a.location < b.location;
  });
  return named;
}

void ParseCustomer(const json::value& value, FinancePage& out) {
  if (!value.is_object()) {
    Quarantine(out, {},
               "customer is " + std::string(detail::KindName(value)) + ", expected an object",
               json::serialize(value));
    return;
  }
  FieldReader fields(value.get_object());
  const json::value* uid = fields.Value("UID");
  if (uid == nullptr) {
    Quarantine(out, {}, "customer has no UID", json::serialize(value));
    return;
  }
  if (!uid->is_string() || uid->get_string().empty()) {
    Quarantine(out, {},
               uid->is_string() ? "UID is empty" : fields.WrongType("UID", *uid, "a string"),
               json::serialize(value));
    return;
  }

  Customer customer;
  customer.uid = std::string(uid->get_string());
  customer.first_name = Trimmed(fields.String("FirstName"));
  customer.last_name = Trimmed(fields.String("LastName"));
  customer.individual = fields.Bool("IsIndividual").value_or(false);
  const std::string company = Trimmed(fields.String("CompanyName"));
  FinancePerson& base = customer.base;
  base.source = std::string(kSource);
  base.account_id = customer.uid;
  base.account_name =
      company.empty() ? Trimmed(customer.first_name + " " + customer.last_name) : company;
  base.status =
      fields.Bool("IsActive").value_or(true) ? LinkStatus::kActive : LinkStatus::kArchived;
  base.updated_at = fields.IsoTime("LastModified");
  const json::array* addresses = fields.Array("Addresses");
  if (fields.error()) {
    Quarantine(out, customer.uid, *fields.error(), json::serialize(value));
    return;
  }

  const std::vector<NamedAddress> named = addresses == nullptr
                                              ? std::vector<NamedAddress>{}
                                              : ReadAddresses(*addresses, customer.uid, out);
  // What makes two addresses the same person: the exact key of a valid email, else the email
  // as written, else the contact name.
  std::unordered_set<std::string> seen;
  std::unordered_set<std::string> remote_ids;
  bool primary_done = false;
  for (const NamedAddress& address : named) {
    const reconcile::EmailKey key = reconcile::ExactEmailKey(address.email);
    const std::string written = Trimmed(address.email);
    const std::string identity = key.valid()        ? "key:" + key.key
                                 : !written.empty() ? "email:" + written
                                                    : "name:" + address.contact_name;
    if (!seen.insert(identity).second) continue;
    FinancePerson person = base;
    SetNames(customer, address.contact_name, person);
    person.email = address.email;
    if (!primary_done) {
      person.remote_id = customer.uid;
      person.raw_json = json::serialize(value);
    } else {
      person.remote_id = customer.uid + "/persons/" +
                         (key.valid() ? key.key : "#" + std::to_string(address.location));
      person.raw_json = address.raw_json;
    }
    if (!remote_ids.insert(person.remote_id).second) {
      Quarantine(out, person.remote_id,
                 "Location " + std::to_string(address.location) +
                     " is used by an earlier address of the customer",
                 address.raw_json);
      continue;
    }
    primary_done = true;
    out.persons.push_back(std::move(person));
  }
  if (!primary_done) {
    FinancePerson person = std::move(base);
    SetNames(customer, {}, person);
    person.remote_id = customer.uid;
    person.raw_json = json::serialize(value);
    out.persons.push_back(std::move(person));
  }
}

// Both URLs on the same scheme, host and port: the bearer token and API key must not follow
// a NextPageLink anywhere else.
bool SameOrigin(std::string_view a, std::string_view b) {
  const auto ua = boost::urls::parse_uri(a);
  const auto ub = boost::urls::parse_uri(b);
  if (!ua || !ub) return false;
  return ua->scheme_id() == ub->scheme_id() && ua->host() == ub->host() &&
         ua->port_number() == ub->port_number() && ua->port() == ub->port();
}

class MyobSource final : public FinanceSource {
 public:
  MyobSource(MyobSettings settings, std::unique_ptr<HttpTransport> transport, SleepFunction sleep)
      : settings_(std::move(settings)),
        transport_(std::move(transport)),
        sleep_(std::move(sleep)) {}

  FetchSummary Fetch(const FetchRequest& request,
                     const std::function<void(FinancePage&&)>& on_page) override {
    FetchSummary summary;
    detail::RetryBudget retry_budget(settings_.http);
    std::optional<std::int64_t> first_count;
    std::string url = MyobCustomersUrl(settings_.base_url, request.since, settings_.page_size);
    for (;;) {
      HttpRequest http;
      http.url = url;
      http.headers = {{"Authorization", "Bearer " + settings_.access_token},
                      {"x-myobapi-key", settings_.api_key},
                      {"x-myobapi-version", "v2"},
                      {"Accept", "application/json"}};
      if (!settings_.cftoken.empty())
        http.headers.emplace_back("x-myobapi-cftoken", settings_.cftoken);
      http.timeout = std::chrono::seconds(settings_.http.timeout_seconds);
      const HttpResponse response = detail::GetWithRetries(
          kSource, *transport_, http, settings_.http, sleep_, retry_budget, IsMyobRateLimit);
      if (summary.pages == 0) {
        if (const auto date = response.Header("Date")) {
          summary.source_clock = ParseHttpDate(*date).value_or(0);
        }
      }
      const std::string request_id = RequestIdSuffix(response);
      if (!response.Ok()) ThrowStatus(http.url, response, request_id);
      try {
        detail::RequireJsonContent(kSource, http.url, response);
      } catch (const FetchError& error) {
        throw FetchError(error.what() + request_id);
      }
      MyobPage parsed;
      try {
        parsed = ParseMyobPage(response.body);
      } catch (const MalformedPage& error) {
        // An Errors body under a 2xx status is looked for only then, so a good page is
        // parsed once.
        if (const auto errors = MyobErrorText(response.body)) {
          throw FetchError(std::string(kSource) + ": GET " + http.url + " returned " +
                           std::to_string(response.status) + " with errors: " + *errors +
                           request_id);
        }
        throw FetchError(std::string(kSource) + ": GET " + http.url +
                         " returned an unreadable Customer page: " + error.what() + request_id);
      }
      // $skip paging over a collection that lost rows meanwhile skips rows, and a full read
      // that skipped a customer would mark its persons deleted: refuse rather than guess.
      if (!request.since && parsed.count) {
        if (!first_count) {
          first_count = parsed.count;
        } else if (*first_count != *parsed.count) {
          throw FetchError(std::string(kSource) + ": the customer Count changed from " +
                           std::to_string(*first_count) + " to " + std::to_string(*parsed.count) +
                           " during a full read (GET " + http.url + "); the next run reads again" +
                           request_id);
        }
      }

      ++summary.pages;
      summary.records +=
          static_cast<std::int64_t>(parsed.page.persons.size() + parsed.page.quarantined.size());
      const std::string next = std::move(parsed.next_page_link);
      const bool last = next.empty() || parsed.customer_count == 0;
      on_page(std::move(parsed.page));
      if (last) break;
      if (next == url) {
        throw FetchError(std::string(kSource) + ": GET " + url +
                         " returned itself as NextPageLink" + request_id);
      }
      if (!SameOrigin(next, settings_.base_url)) {
        throw FetchError(std::string(kSource) + ": GET " + url + " returned NextPageLink '" + next +
                         "' outside base_url " + settings_.base_url +
                         "; credentials are not sent there" + request_id);
      }
      url = next;
    }
    return summary;
  }

 private:
  static std::string RequestIdSuffix(const HttpResponse& response) {
    const auto id = response.Header(kRequestIdHeader);
    return id ? " (" + std::string(kRequestIdHeader) + ": " + std::string(*id) + ")"
              : std::string();
  }

  [[noreturn]] static void ThrowStatus(const std::string& url, const HttpResponse& response,
                                       const std::string& request_id) {
    std::string message =
        std::string(kSource) + ": GET " + url + " returned " + std::to_string(response.status);
    if (!response.reason.empty()) message += " " + response.reason;
    if (const auto errors = MyobErrorText(response.body)) message += ": " + *errors;
    const std::optional<std::int64_t> retry_after = detail::RetryAfterSeconds(response);
    if (retry_after) message += " (Retry-After: " + std::to_string(*retry_after) + " s)";
    throw HttpStatusError(message + request_id, response.status, retry_after);
  }

  MyobSettings settings_;
  std::unique_ptr<HttpTransport> transport_;
  SleepFunction sleep_;
};

}  // namespace

MyobPage ParseMyobPage(std::string_view body) {
  const json::object document = detail::ParseObject(body);
  MyobPage result;
  // Strict on purpose: reading some other JSON document as "no customers" would make a full
  // sync see every record as deleted.
  const json::value* items = document.if_contains("Items");
  if (items == nullptr) throw MalformedPage("the body has no Items");
  if (!items->is_array()) {
    throw MalformedPage("Items is " + std::string(detail::KindName(*items)) +
                        ", expected an array");
  }
  if (const json::value* next = document.if_contains("NextPageLink");
      next != nullptr && !next->is_null()) {
    if (!next->is_string()) {
      throw MalformedPage("NextPageLink is " + std::string(detail::KindName(*next)) +
                          ", expected a string");
    }
    result.next_page_link = std::string(next->get_string());
  }
  if (const json::value* count = document.if_contains("Count");
      count != nullptr && !count->is_null()) {
    result.count = count->is_string() ? std::nullopt : detail::ToInteger(*count);
    if (!result.count) {
      throw MalformedPage("Count " + json::serialize(*count) + " is not a whole number");
    }
  }
  const json::array& entries = items->get_array();
  result.customer_count = entries.size();
  for (const json::value& customer : entries) ParseCustomer(customer, result.page);
  return result;
}

std::string MyobCustomersUrl(std::string_view base_url, std::optional<reconcile::Millis> since,
                             int top) {
  std::vector<std::pair<std::string, std::string>> params{{"$top", std::to_string(top)}};
  if (since) {
    params.emplace_back("$filter", "LastModified gt datetime'" + FormatIsoSeconds(*since) + "'");
  }
  return detail::BuildUrl(detail::BuildUrl(base_url, "Contact", {}), "Customer", params);
}

std::optional<std::string> MyobErrorText(std::string_view body) {
  boost::system::error_code error;
  const json::value document = json::parse(body, error);
  if (error || !document.is_object()) return std::nullopt;
  const json::value* errors = document.get_object().if_contains("Errors");
  if (errors == nullptr || !errors->is_array()) return std::nullopt;
  const auto text_of = [](const json::object& entry, std::string_view key) -> std::string {
    const json::value* member = entry.if_contains(key);
    if (member == nullptr || member->is_null()) return {};
    if (member->is_string()) return std::string(member->get_string());
    return json::serialize(*member);
  };
  std::string text;
  for (const json::value& entry : errors->get_array()) {
    if (!entry.is_object()) continue;
    const json::object& e = entry.get_object();
    std::string line = text_of(e, "Name");
    if (line.empty()) line = "error";
    if (const std::string code = text_of(e, "ErrorCode"); !code.empty()) {
      line += " (ErrorCode " + code + ")";
    }
    if (const std::string message = text_of(e, "Message"); !message.empty()) {
      line += ": " + message;
    }
    if (const std::string details = text_of(e, "AdditionalDetails"); !details.empty()) {
      line += " [" + details + "]";
    }
    if (!text.empty()) text += "; ";
    text += line;
  }
  if (text.empty()) text = "Errors (none described)";
  return text;
}

bool IsMyobRateLimit(const HttpResponse& response) {
  if (response.status != 403 && response.status != 429) return false;
  boost::system::error_code error;
  const json::value document = json::parse(response.body, error);
  if (error || !document.is_object()) return false;
  const json::value* errors = document.get_object().if_contains("Errors");
  if (errors == nullptr || !errors->is_array()) return false;
  return std::any_of(
      errors->get_array().begin(), errors->get_array().end(), [](const json::value& entry) {
        if (!entry.is_object()) return false;
        const json::value* name = entry.get_object().if_contains("Name");
        return name != nullptr && name->is_string() && name->get_string() == "RateLimitError";
      });
}

std::unique_ptr<FinanceSource> MakeMyobSource(MyobSettings settings,
                                              std::unique_ptr<HttpTransport> transport,
                                              SleepFunction sleep) {
  detail::RequireBaseUrl(kSource, settings.base_url);
  if (settings.page_size < 1 || settings.page_size > kMaxPageSize) {
    throw std::invalid_argument("myob: page_size must be between 1 and 1000, got " +
                                std::to_string(settings.page_size));
  }
  if (settings.api_key.empty()) throw std::invalid_argument("myob: api_key is empty");
  if (settings.access_token.empty()) throw std::invalid_argument("myob: access_token is empty");
  detail::RequireHttpSettings(kSource, settings.http);
  return std::make_unique<MyobSource>(std::move(settings), std::move(transport), std::move(sleep));
}

std::unique_ptr<FinanceSource> MakeMyobSource(MyobSettings settings) {
  auto transport = std::make_unique<HttpClient>(settings.http);
  return MakeMyobSource(std::move(settings), std::move(transport), {});
}

}  // namespace concord::connectors
