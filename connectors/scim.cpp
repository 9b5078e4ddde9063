#include "connectors/scim.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include "connectors/json_fields.hpp"
#include "connectors/vendor_http.hpp"
#include "connectors/wire_time.hpp"

namespace concord::connectors {
namespace {

namespace json = boost::json;
using detail::FieldReader;
using reconcile::PortalUser;
using reconcile::QuarantinedRecord;

constexpr std::string_view kSource = "scim";
constexpr std::string_view kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A SCIM boolean: true/false, or the strings "true"/"false" in any case (Microsoft Entra
// sends "True"/"False"). Absent or null → fallback.
bool ReadBoolean(FieldReader& fields, std::string_view key, bool fallback) {
  const json::value* member = fields.Value(key);
  if (member == nullptr) return fallback;
  if (member->is_bool()) return member->get_bool();
  if (member->is_string()) {
    if (EqualsIgnoreCase(member->get_string(), "true")) return true;
    if (EqualsIgnoreCase(member->get_string(), "false")) return false;
    fields.Fail(fields.WrongType(key, *member, "a boolean") + " ('" +
                std::string(member->get_string()) + "')");
    return fallback;
  }
  fields.Fail(fields.WrongType(key, *member, "a boolean"));
  return fallback;
}

struct EmailEntry {
  std::string value;
  std::string type;
  bool primary = false;
};

// emails[]: primary, else type "work", else the first; entries without a value never win.
std::string PrimaryEmail(FieldReader& fields, const json::array* emails,
                         const std::string& user_name) {
  std::vector<EmailEntry> entries;
  if (emails != nullptr) {
    for (std::size_t index = 0; index < emails->size(); ++index) {
      const json::value& entry = (*emails)[index];
      const std::string position = "emails[" + std::to_string(index) + "]";
      if (!entry.is_object()) {
        fields.Fail(position + " is " + std::string(detail::KindName(entry)) +
                    ", expected an object");
        return {};
      }
      FieldReader entry_fields(entry.get_object(), position + ".");
      EmailEntry email;
      email.value = entry_fields.String("value");
      email.type = entry_fields.String("type");
      email.primary = ReadBoolean(entry_fields, "primary", false);
      fields.Absorb(entry_fields);
      if (!email.value.empty()) entries.push_back(std::move(email));
    }
  }
  for (const EmailEntry& entry : entries) {
    if (entry.primary) return entry.value;
  }
  for (const EmailEntry& entry : entries) {
    if (EqualsIgnoreCase(entry.type, "work")) return entry.value;
  }
  if (!entries.empty()) return entries.front().value;
  if (user_name.find('@') != std::string::npos) return user_name;
  return {};
}

// A multi-valued attribute's names: groups[] (RFC 7643 §4.1.2: value is the group id,
// display its name), entitlements[] and roles[] (§4.1.2: value). Each entry gives its value,
// else its display; entries with neither are skipped. A plain string entry (some servers
// send roles that way) is its own value. An entry of another kind fails the user.
void AppendValues(FieldReader& fields, std::string_view key, std::vector<std::string>& out) {
  const json::array* entries = fields.Array(key);
  if (entries == nullptr) return;
  for (std::size_t index = 0; index < entries->size(); ++index) {
    const json::value& entry = (*entries)[index];
    if (entry.is_string()) {
      if (!entry.get_string().empty()) out.emplace_back(entry.get_string());
      continue;
    }
    const std::string position = std::string(key) + "[" + std::to_string(index) + "]";
    if (!entry.is_object()) {
      fields.Fail(position + " is " + std::string(detail::KindName(entry)) +
                  ", expected an object");
      return;
    }
    FieldReader entry_fields(entry.get_object(), position + ".");
    std::string name = entry_fields.String("value");
    if (name.empty()) name = entry_fields.String("display");
    fields.Absorb(entry_fields);
    if (!name.empty()) out.push_back(std::move(name));
  }
}

void ParseUser(const json::value& value, PortalPage& out) {
  const auto quarantine = [&](std::string remote_id, std::string reason) {
    out.quarantined.push_back(QuarantinedRecord{reconcile::Side::kPortal, std::string(kSource),
                                                std::move(remote_id), std::move(reason),
                                                json::serialize(value)});
  };
  if (!value.is_object()) {
    quarantine({}, "user is " + std::string(detail::KindName(value)) + ", expected an object");
    return;
  }
  FieldReader fields(value.get_object());
  const json::value* id = fields.Value("id");
  if (id == nullptr) {
    quarantine({}, "user has no id");
    return;
  }
  if (!id->is_string() || id->get_string().empty()) {
    quarantine({}, id->is_string() ? "id is empty" : fields.WrongType("id", *id, "a string"));
    return;
  }

  PortalUser user;
  user.source = std::string(kSource);
  user.remote_id = std::string(id->get_string());
  user.user_name = fields.String("userName");
  if (const json::object* name = fields.Object("name")) {
    FieldReader name_fields(*name, "name.");
    user.given_name = name_fields.String("givenName");
    user.family_name = name_fields.String("familyName");
    fields.Absorb(name_fields);
  }
  user.display_name = fields.String("displayName");
  user.active = ReadBoolean(fields, "active", true);
  user.email = PrimaryEmail(fields, fields.Array("emails"), user.user_name);
  AppendValues(fields, "groups", user.groups);
  AppendValues(fields, "entitlements", user.entitlements);
  AppendValues(fields, "roles", user.entitlements);
  if (const json::object* meta = fields.Object("meta")) {
    FieldReader meta_fields(*meta, "meta.");
    const std::string modified = meta_fields.String("lastModified");
    if (!modified.empty()) {
      if (const auto at = ParseIsoDateTime(modified)) {
        user.updated_at = *at;
      } else {
        meta_fields.Fail("meta.lastModified '" + modified + "' is not an ISO-8601 date-time");
      }
    }
    fields.Absorb(meta_fields);
  }
  if (fields.error()) {
    quarantine(user.remote_id, *fields.error());
    return;
  }
  user.raw_json = json::serialize(value);
  out.users.push_back(std::move(user));
}

// "scim: GET <url> returned <status> <reason>: <scimType>: <detail>" from a SCIM Error body
// (or what of it the server sent), then Retry-After when present.
[[noreturn]] void ThrowScimStatusError(const std::string& url, const HttpResponse& response) {
  std::string message =
      std::string(kSource) + ": GET " + url + " returned " + std::to_string(response.status);
  if (!response.reason.empty()) message += " " + response.reason;
  if (const std::optional<ScimError> error = ParseScimError(response.body)) {
    if (!error->scim_type.empty()) message += ": " + error->scim_type;
    if (!error->detail.empty()) message += ": " + error->detail;
  }
  const std::optional<std::int64_t> retry_after = detail::RetryAfterSeconds(response);
  if (retry_after) message += " (Retry-After: " + std::to_string(*retry_after) + " s)";
  throw HttpStatusError(message, response.status, retry_after);
}

class ScimSource final : public PortalSource {
 public:
  ScimSource(ScimSettings settings, std::unique_ptr<HttpTransport> transport, SleepFunction sleep)
      : settings_(std::move(settings)),
        transport_(std::move(transport)),
        sleep_(std::move(sleep)) {}

  FetchSummary Fetch(const FetchRequest& request,
                     const std::function<void(PortalPage&&)>& on_page) override {
    FetchSummary summary;
    detail::RetryBudget retry_budget(settings_.http);
    std::int64_t start_index = 1;
    while (true) {
      HttpRequest http;
      http.url = ScimUsersUrl(settings_.base_url, start_index, settings_.page_size, request.since);
      http.headers = {{"Authorization", "Bearer " + settings_.token},
                      {"Accept", "application/scim+json, application/json"}};
      http.timeout = std::chrono::seconds(settings_.http.timeout_seconds);

      const HttpResponse response =
          detail::GetWithRetries(kSource, *transport_, http, settings_.http, sleep_, retry_budget);
      if (summary.pages == 0) {
        if (const auto date = response.Header("Date")) {
          summary.source_clock = ParseHttpDate(*date).value_or(0);
        }
      }
      if (!response.Ok()) ThrowScimStatusError(http.url, response);
      detail::RequireJsonContent(kSource, http.url, response);
      ScimPage parsed;
      try {
        parsed = ParseScimPage(response.body);
      } catch (const MalformedPage& error) {
        throw FetchError(std::string(kSource) + ": GET " + http.url +
                         " returned an unreadable ListResponse: " + error.what());
      }

      ++summary.pages;
      summary.records +=
          static_cast<std::int64_t>(parsed.page.users.size() + parsed.page.quarantined.size());
      // Advance by what actually arrived: a server may send fewer than count, and trusting
      // a larger itemsPerPage would skip users.
      const auto received = static_cast<std::int64_t>(parsed.resource_count);
      if (received == 0 && start_index <= parsed.total_results) {
        // Going on could loop forever; stopping would read the directory as shorter than it
        // is, and a full sync would then take the unread users as deleted.
        throw FetchError(std::string(kSource) + ": GET " + http.url +
                         " returned no users at startIndex " + std::to_string(start_index) +
                         " although totalResults is " + std::to_string(parsed.total_results));
      }
      start_index += received;
      const bool last = received == 0 || start_index > parsed.total_results;
      on_page(std::move(parsed.page));
      if (last) break;
    }
    return summary;
  }

 private:
  ScimSettings settings_;
  std::unique_ptr<HttpTransport> transport_;
  SleepFunction sleep_;
};

}  // namespace

std::optional<ScimError> ParseScimError(std::string_view body) {
  boost::system::error_code error;
  const json::value document = json::parse(body, error);
  if (error || !document.is_object()) return std::nullopt;
  const json::object& object = document.get_object();
  ScimError result;
  bool is_error = false;
  if (const json::value* schemas = object.if_contains("schemas"); schemas && schemas->is_array()) {
    for (const json::value& schema : schemas->get_array()) {
      is_error = is_error || (schema.is_string() && schema.get_string() == kErrorSchema);
    }
  }
  const auto text = [&](std::string_view key) -> std::string {
    const json::value* member = object.if_contains(key);
    if (member == nullptr) return {};
    if (member->is_string()) return std::string(member->get_string());
    if (member->is_int64() || member->is_uint64()) return json::serialize(*member);
    return {};
  };
  result.status = text("status");
  result.scim_type = text("scimType");
  result.detail = text("detail");
  if (!is_error && result.scim_type.empty() && result.detail.empty()) return std::nullopt;
  return result;
}

ScimPage ParseScimPage(std::string_view body) {
  const json::object document = detail::ParseObject(body);
  ScimPage result;
  if (!document.contains("totalResults")) {
    if (const std::optional<ScimError> error = ParseScimError(body)) {
      throw MalformedPage("the body is a SCIM Error, not a ListResponse (status '" + error->status +
                          "', scimType '" + error->scim_type + "'): " + error->detail);
    }
  }
  // totalResults is required (RFC 7644 §3.4.2); insisting on it keeps some other JSON
  // document from reading as "no users", which a full sync would take as deletions.
  const json::value* total = document.if_contains("totalResults");
  if (total == nullptr) throw MalformedPage("the ListResponse has no totalResults");
  const std::optional<std::int64_t> total_results = detail::ToInteger(*total);
  if (!total_results || *total_results < 0) {
    throw MalformedPage("totalResults is not a non-negative whole number");
  }
  result.total_results = *total_results;
  if (const json::value* start = document.if_contains("startIndex")) {
    result.start_index = detail::ToInteger(*start);
  }
  if (const json::value* per_page = document.if_contains("itemsPerPage")) {
    result.items_per_page = detail::ToInteger(*per_page);
  }
  const json::value* resources = document.if_contains("Resources");
  if (resources == nullptr || resources->is_null()) return result;  // allowed when empty
  if (!resources->is_array()) {
    throw MalformedPage("Resources is " + std::string(detail::KindName(*resources)) +
                        ", expected an array");
  }
  const json::array& users = resources->get_array();
  result.resource_count = users.size();
  for (const json::value& user : users) ParseUser(user, result.page);
  return result;
}

std::string ScimUsersUrl(std::string_view base_url, std::int64_t start_index, int count,
                         std::optional<reconcile::Millis> since) {
  std::vector<std::pair<std::string, std::string>> params = {
      {"startIndex", std::to_string(start_index)}, {"count", std::to_string(count)}};
  if (since) {
    params.emplace_back("filter", "meta.lastModified gt \"" + FormatIsoSecondsZ(*since) + "\"");
  }
  return detail::BuildUrl(base_url, "Users", params);
}

std::unique_ptr<PortalSource> MakeScimSource(ScimSettings settings,
                                             std::unique_ptr<HttpTransport> transport,
                                             SleepFunction sleep) {
  detail::RequireBaseUrl(kSource, settings.base_url);
  if (settings.page_size < 1) {
    throw std::invalid_argument("scim: page_size must be at least 1, got " +
                                std::to_string(settings.page_size));
  }
  if (settings.token.empty()) throw std::invalid_argument("scim: token is empty");
  detail::RequireHttpSettings(kSource, settings.http);
  return std::make_unique<ScimSource>(std::move(settings), std::move(transport), std::move(sleep));
}

std::unique_ptr<PortalSource> MakeScimSource(ScimSettings settings) {
  auto transport = std::make_unique<HttpClient>(settings.http);
  return MakeScimSource(std::move(settings), std::move(transport), {});
}

}  // namespace concord::connectors
