#include "connectors/xero.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <stdexcept>
#include <unordered_set>
#include <utility>

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

constexpr std::string_view kSource = "xero";
constexpr int kMaxPageSize = 1000;

void Quarantine(FinancePage& out, std::string remote_id, std::string reason, std::string raw) {
  out.quarantined.push_back(QuarantinedRecord{reconcile::Side::kFinance, std::string(kSource),
                                              std::move(remote_id), std::move(reason),
                                              std::move(raw)});
}

std::optional<LinkStatus> StatusFromText(std::string_view text) {
  if (text.empty() || text == "ACTIVE") return LinkStatus::kActive;  // absent: Xero's default
  if (text == "ARCHIVED") return LinkStatus::kArchived;
  if (text == "GDPRREQUEST") return LinkStatus::kErased;
  return std::nullopt;
}

// Reads a "/Date(...)/" member; absent → 0, anything unreadable → a recorded problem.
reconcile::Millis ReadXeroDate(FieldReader& fields, std::string_view key) {
  const json::value* member = fields.Value(key);
  if (member == nullptr) return 0;
  if (!member->is_string()) {
    fields.Fail(fields.WrongType(key, *member, "a string"));
    return 0;
  }
  const std::optional<reconcile::Millis> at = ParseXeroDate(member->get_string());
  if (!at) {
    fields.Fail(std::string(key) + " '" + std::string(member->get_string()) +
                "' is not a /Date(ms)/ value");
    return 0;
  }
  return *at;
}

// main is the contact's own person (a copy: out.persons may reallocate while this runs).
void ParseContactPersons(const json::array& entries, const FinancePerson& main,
                         std::unordered_set<std::string>& used_keys, FinancePage& out) {
  for (std::size_t index = 0; index < entries.size(); ++index) {
    const json::value& entry = entries[index];
    const std::string position = "ContactPersons[" + std::to_string(index) + "]";
    const std::string index_id = main.account_id + "/persons/#" + std::to_string(index);
    if (!entry.is_object()) {
      Quarantine(out, index_id,
                 position + " is " + std::string(detail::KindName(entry)) + ", expected an object",
                 json::serialize(entry));
      continue;
    }
    FieldReader fields(entry.get_object(), position + ".");
    FinancePerson person;
    person.given_name = fields.String("FirstName");
    person.family_name = fields.String("LastName");
    person.email = fields.String("EmailAddress");
    if (fields.error()) {
      Quarantine(out, index_id, *fields.error(), json::serialize(entry));
      continue;
    }
    const reconcile::EmailKey key = reconcile::ExactEmailKey(person.email);
    if (key.valid() && used_keys.insert(key.key).second) {
      person.remote_id = main.account_id + "/persons/" + key.key;
    } else {
      person.remote_id = index_id;
    }
    person.source = main.source;
    person.account_id = main.account_id;
    person.account_name = main.account_name;
    person.status = main.status;
    person.updated_at = main.updated_at;
    person.raw_json = json::serialize(entry);
    out.persons.push_back(std::move(person));
  }
}

void ParseContact(const json::value& value, FinancePage& out) {
  if (!value.is_object()) {
    Quarantine(out, {},
               "contact is " + std::string(detail::KindName(value)) + ", expected an object",
               json::serialize(value));
    return;
  }
  FieldReader fields(value.get_object());
  const json::value* id = fields.Value("ContactID");
  if (id == nullptr) {
    Quarantine(out, {}, "contact has no ContactID", json::serialize(value));
    return;
  }
  if (!id->is_string() || id->get_string().empty()) {
    Quarantine(
        out, {},
        id->is_string() ? "ContactID is empty" : fields.WrongType("ContactID", *id, "a string"),
        json::serialize(value));
    return;
  }

  FinancePerson main;
  main.source = std::string(kSource);
  main.account_id = std::string(id->get_string());
  main.remote_id = main.account_id;
  main.account_name = fields.String("Name");
  main.given_name = fields.String("FirstName");
  main.family_name = fields.String("LastName");
  main.email = fields.String("EmailAddress");
  const std::string status_text = fields.String("ContactStatus");
  if (const auto status = StatusFromText(status_text)) {
    main.status = *status;
  } else {
    fields.Fail("unknown ContactStatus '" + status_text + "'");
  }
  main.updated_at = ReadXeroDate(fields, "UpdatedDateUTC");
  const json::array* persons = fields.Array("ContactPersons");
  if (fields.error()) {
    Quarantine(out, main.remote_id, *fields.error(), json::serialize(value));
    return;
  }
  main.raw_json = json::serialize(value);

  std::unordered_set<std::string> used_keys;
  if (const reconcile::EmailKey key = reconcile::ExactEmailKey(main.email); key.valid()) {
    used_keys.insert(key.key);
  }
  if (persons != nullptr) {
    out.persons.push_back(main);
    ParseContactPersons(*persons, main, used_keys, out);
  } else {
    out.persons.push_back(std::move(main));
  }
}

class XeroSource final : public FinanceSource {
 public:
  XeroSource(XeroSettings settings, XeroAccess access, std::unique_ptr<HttpTransport> transport,
             std::unique_ptr<HttpTransport> token_transport, SleepFunction sleep)
      : settings_(std::move(settings)),
        access_(std::move(access)),
        transport_(std::move(transport)),
        token_transport_(std::move(token_transport)),
        sleep_(std::move(sleep)),
        limited_(std::string(kSource), *transport_, *access_.limiter, sleep_, access_.now,
                 access_.on_limit) {
    if (access_.oauth) {
      tokens_.emplace(std::string(kSource), *access_.oauth, *access_.token_store, *token_transport_,
                      access_.now);
    }
  }

  FetchSummary Fetch(const FetchRequest& request,
                     const std::function<void(FinancePage&&)>& on_page) override {
    FetchSummary summary;
    detail::RetryBudget retry_budget(settings_.http);
    for (std::int64_t page = 1;; ++page) {
      HttpRequest http;
      http.url = XeroContactsUrl(settings_.base_url, page, settings_.page_size);
      http.headers = {{"xero-tenant-id", settings_.xero_tenant_id}, {"Accept", "application/json"}};
      if (request.since)
        http.headers.emplace_back("If-Modified-Since", FormatIsoSeconds(*request.since));
      http.timeout = std::chrono::seconds(settings_.http.timeout_seconds);

      const HttpResponse response = Send(http, retry_budget);
      if (page == 1) {
        if (const auto date = response.Header("Date")) {
          summary.source_clock = ParseHttpDate(*date).value_or(0);
        }
      }
      if (response.status == 304) break;  // nothing modified since the cursor
      if (!response.Ok()) {
        detail::ThrowStatusError(kSource, http.url, response, {"Detail", "Message", "Title"},
                                 "Xero-Correlation-Id");
      }
      detail::RequireJsonContent(kSource, http.url, response);
      XeroPage parsed;
      try {
        parsed = ParseXeroPage(response.body);
      } catch (const MalformedPage& error) {
        throw FetchError(std::string(kSource) + ": GET " + http.url +
                         " returned an unreadable Contacts page: " + error.what());
      }
      if (page == 1 && parsed.date_time_utc) summary.source_clock = *parsed.date_time_utc;

      ++summary.pages;
      summary.records +=
          static_cast<std::int64_t>(parsed.page.persons.size() + parsed.page.quarantined.size());
      const bool last = parsed.contact_count < static_cast<std::size_t>(settings_.page_size) ||
                        (parsed.page_count && page >= *parsed.page_count);
      on_page(std::move(parsed.page));
      if (last) break;
    }
    return summary;
  }

 private:
  // GET with the current access token; a 401 to a refreshed token is answered once by a
  // refresh (the token was revoked or the clocks disagree about its expiry).
  HttpResponse Send(HttpRequest http, detail::RetryBudget& retry_budget) {
    for (bool refreshed = false;; refreshed = true) {
      const std::string token = tokens_ ? tokens_->Get() : settings_.access_token;
      HttpRequest attempt = http;
      attempt.headers.insert(attempt.headers.begin(),
                             HttpHeaders::value_type("Authorization", "Bearer " + token));
      HttpResponse response =
          detail::GetWithRetries(kSource, limited_, attempt, settings_.http, sleep_, retry_budget);
      if (response.status != 401 || !tokens_ || refreshed) return response;
      tokens_->Refused(token);
    }
  }

  XeroSettings settings_;
  XeroAccess access_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<HttpTransport> token_transport_;
  SleepFunction sleep_;
  RateLimitedTransport limited_;
  std::optional<OAuthAccessTokens> tokens_;
};

}  // namespace

XeroPage ParseXeroPage(std::string_view body) {
  const json::object document = detail::ParseObject(body);
  XeroPage result;
  // Strict on purpose: reading some other JSON document as "no contacts" would make a full
  // sync see every record as deleted.
  const json::value* contacts = document.if_contains("Contacts");
  if (contacts == nullptr) throw MalformedPage("the page has no Contacts array");
  if (!contacts->is_array()) {
    throw MalformedPage("Contacts is " + std::string(detail::KindName(*contacts)) +
                        ", expected an array");
  }
  if (const json::value* when = document.if_contains("DateTimeUTC");
      when != nullptr && when->is_string()) {
    result.date_time_utc = ParseXeroDate(when->get_string());
  }
  if (const json::value* pagination = document.if_contains("pagination");
      pagination != nullptr && pagination->is_object()) {
    if (const json::value* count = pagination->get_object().if_contains("pageCount")) {
      result.page_count = detail::ToInteger(*count);
    }
  }
  const json::array& entries = contacts->get_array();
  result.contact_count = entries.size();
  for (const json::value& contact : entries) ParseContact(contact, result.page);
  return result;
}

std::string XeroContactsUrl(std::string_view base_url, std::int64_t page, int page_size) {
  return detail::BuildUrl(base_url, "Contacts",
                          {{"page", std::to_string(page)},
                           {"pageSize", std::to_string(page_size)},
                           {"includeArchived", "true"}});
}

std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings, XeroAccess access,
                                              std::unique_ptr<HttpTransport> transport,
                                              std::unique_ptr<HttpTransport> token_transport,
                                              SleepFunction sleep) {
  detail::RequireBaseUrl(kSource, settings.base_url);
  if (settings.page_size < 1 || settings.page_size > kMaxPageSize) {
    throw std::invalid_argument("xero: page_size must be between 1 and 1000, got " +
                                std::to_string(settings.page_size));
  }
  if (access.oauth) {
    if (!settings.access_token.empty()) {
      throw std::invalid_argument(
          "xero: configure either access_token or client_id/client_secret, not both");
    }
    if (access.token_store == nullptr || token_transport == nullptr) {
      throw std::invalid_argument("xero: OAuth2 refresh needs a token store and a transport");
    }
  } else if (settings.access_token.empty()) {
    throw std::invalid_argument("xero: access_token is empty");
  }
  if (settings.xero_tenant_id.empty()) {
    throw std::invalid_argument("xero: xero_tenant_id is empty");
  }
  detail::RequireHttpSettings(kSource, settings.http);
  if (!access.limiter) access.limiter = std::make_shared<RateLimiter>(RateLimits{});
  return std::make_unique<XeroSource>(std::move(settings), std::move(access), std::move(transport),
                                      std::move(token_transport), std::move(sleep));
}

std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings,
                                              std::unique_ptr<HttpTransport> transport,
                                              SleepFunction sleep) {
  return MakeXeroSource(std::move(settings), XeroAccess{}, std::move(transport), nullptr,
                        std::move(sleep));
}

std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings, XeroAccess access) {
  auto transport = std::make_unique<HttpClient>(settings.http);
  std::unique_ptr<HttpTransport> token_transport;
  if (access.oauth) token_transport = std::make_unique<HttpClient>(settings.http);
  return MakeXeroSource(std::move(settings), std::move(access), std::move(transport),
                        std::move(token_transport), {});
}

std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings) {
  return MakeXeroSource(std::move(settings), XeroAccess{});
}

}  // namespace concord::connectors
