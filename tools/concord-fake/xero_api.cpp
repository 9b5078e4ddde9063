#include "xero_api.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <string_view>
#include <variant>

#include "connectors/wire_time.hpp"
#include "http_util.hpp"

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kJson = "application/json; charset=utf-8";

std::string Quote(std::string_view s) { return json::serialize(json::string_view(s)); }

// The OAuth2 gateway's problem shape (PascalCase keys), used for 401, 403, 404, 429 and 5xx.
std::string ProblemBody(unsigned status, std::string_view detail, std::string_view instance) {
  const std::string_view title = http::obsolete_reason(static_cast<http::status>(status));
  json::object body;
  body["Type"] = nullptr;
  body["Title"] = title;
  body["Status"] = status;
  body["Detail"] = detail;
  body["Instance"] = instance;
  body["Extensions"] = json::object{};
  return EscapeJsonSlashes(json::serialize(body));
}

// The API's own exception shape, used for 400.
std::string ValidationBody(std::string_view message) {
  json::object body;
  body["ErrorNumber"] = 10;
  body["Type"] = "ValidationException";
  body["Message"] = message;
  return EscapeJsonSlashes(json::serialize(body));
}

void AddRateHeaders(HttpResponse& res, const XeroRateRemaining& remaining) {
  res.set("X-DayLimit-Remaining", std::to_string(std::max<std::int64_t>(remaining.day, 0)));
  res.set("X-MinLimit-Remaining", std::to_string(std::max<std::int64_t>(remaining.minute, 0)));
  res.set("X-AppMinLimit-Remaining",
          std::to_string(std::max<std::int64_t>(remaining.app_minute, 0)));
}

HttpResponse Respond(const HttpRequest& req, const XeroRequestContext& ctx, unsigned status,
                     std::string body, std::string_view content_type = kJson) {
  HttpResponse res = MakeResponse(req, status, content_type, std::move(body), ctx.now_ms);
  res.set("Xero-Correlation-Id", ctx.correlation_id);
  return res;
}

std::string_view FailureDetail(unsigned status) {
  switch (status) {
    case 401:
      return "TokenExpired: token expired";
    case 403:
      return "AuthenticationUnsuccessful";
    case 429:
      return "Rate limit exceeded";
    case 500:
      return "An error occurred in Xero. Check the API Status page "
             "http://status.developer.xero.com for current service status.";
    case 503:
      return "The Xero API is currently unavailable. Please try again later.";
    default:
      return "Injected failure";
  }
}

struct ListQuery {
  std::optional<std::uint32_t> page;  // nullopt: unpaged (Xero's "fewer details" listing)
  std::uint32_t page_size = kXeroDefaultPageSize;
  bool include_archived = false;
  std::optional<reconcile::Millis> modified_since;  // whole seconds
};

// Parses the query and headers of a listing; returns an error message for a 400.
std::variant<ListQuery, std::string> ParseListQuery(const HttpRequest& req,
                                                    const boost::urls::url_view& url) {
  ListQuery q;
  for (const auto& param : url.params(boost::urls::encoding_opts(true))) {
    const std::string_view key = param.key;
    const std::string_view value = param.value;
    if (IEquals(key, "page")) {
      const auto page = ParseInteger(value);
      if (!page) return "page must be an integer, got '" + std::string(value) + "'";
      q.page = static_cast<std::uint32_t>(std::clamp<std::int64_t>(*page, 1, 1'000'000'000));
    } else if (IEquals(key, "pageSize")) {
      const auto size = ParseInteger(value);
      if (!size) return "pageSize must be an integer, got '" + std::string(value) + "'";
      q.page_size =
          *size < 1 ? kXeroDefaultPageSize
                    : static_cast<std::uint32_t>(std::min<std::int64_t>(*size, kXeroMaxPageSize));
    } else if (IEquals(key, "includeArchived")) {
      q.include_archived = IEquals(value, "true");
    } else if (IEquals(key, "summaryOnly")) {
      if (IEquals(value, "true")) return "concord-fake does not support summaryOnly=true";
    } else if (IEquals(key, "order")) {
      if (!IEquals(value, "UpdatedDateUTC") && !IEquals(value, "UpdatedDateUTC ASC")) {
        return "concord-fake only lists in UpdatedDateUTC ASC order, got order=" +
               std::string(value);
      }
    } else if (IEquals(key, "where") || IEquals(key, "IDs") || IEquals(key, "searchTerm")) {
      return "concord-fake does not support the '" + std::string(key) + "' parameter";
    }
    // Other parameters are ignored, as Xero ignores unknown ones.
  }
  const auto ims = req.find(http::field::if_modified_since);
  if (ims != req.end()) {
    const std::string_view text(ims->value().data(), ims->value().size());
    const auto ms = connectors::ParseIsoDateTime(text);
    if (!ms) {
      return "If-Modified-Since must be an ISO-8601 UTC timestamp like 2024-06-01T12:00:00, got '" +
             std::string(text) + "'";
    }
    // Accurate to the second: a contact changed during that second is included.
    q.modified_since = *ms - ((*ms % 1000) + 1000) % 1000;
  }
  return q;
}

// Writes the contacts of the listing into `out` as a JSON array.
void AppendContacts(const XeroTenant& tenant, const ListQuery& q, std::string& out,
                    std::uint32_t& item_count) {
  const auto& contacts = tenant.contacts;
  const auto& active_before = tenant.active_before;
  std::size_t start = 0;
  if (q.modified_since) {
    start = static_cast<std::size_t>(
        std::lower_bound(
            contacts.begin(), contacts.end(), *q.modified_since,
            [](const XeroContact& c, reconcile::Millis t) { return c.updated_ms < t; }) -
        contacts.begin());
  }
  const std::size_t n = contacts.size();
  item_count = static_cast<std::uint32_t>(
      q.include_archived ? n - start : active_before[n] - active_before[start]);

  // Index range of the page in the filtered sequence.
  std::size_t skip = 0;
  std::size_t take = item_count;
  if (q.page) {
    skip = std::min<std::size_t>(std::size_t{*q.page - 1} * q.page_size, item_count);
    take = std::min<std::size_t>(q.page_size, item_count - skip);
  }

  // Position of the skip-th matching contact.
  std::size_t pos = start + skip;
  if (!q.include_archived && take > 0) {
    const std::uint32_t target = active_before[start] + static_cast<std::uint32_t>(skip) + 1;
    pos = static_cast<std::size_t>(
              std::lower_bound(active_before.begin(), active_before.end(), target) -
              active_before.begin()) -
          1;
  }

  out.push_back('[');
  std::size_t written = 0;
  for (; pos < n && written < take; ++pos) {
    const XeroContact& c = contacts[pos];
    if (c.archived && !q.include_archived) continue;
    if (written++ > 0) out.push_back(',');
    if (q.page) {
      out += c.json;
    } else {
      // Without paging Xero returns fewer details: ContactPersons comes back empty.
      json::value v = json::parse(c.json);
      if (json::value* persons = v.get_object().if_contains("ContactPersons")) {
        *persons = json::array{};
      }
      out += EscapeJsonSlashes(json::serialize(v));
    }
  }
  out.push_back(']');
}

}  // namespace

HttpResponse HandleXeroRequest(const HttpRequest& req, const XeroTenant& tenant,
                               const XeroRequestContext& ctx) {
  const auto fail_status = ctx.fail_status ? ctx.fail_status : tenant.fail_status;
  if (fail_status) {
    HttpResponse res =
        Respond(req, ctx, *fail_status,
                ProblemBody(*fail_status, FailureDetail(*fail_status), ctx.request_id));
    if (*fail_status == 429) {
      res.set(http::field::retry_after, "60");
      res.set("X-Rate-Limit-Problem", "minute");
      AddRateHeaders(res, {ctx.remaining.day, 0, ctx.remaining.app_minute});
    }
    return res;
  }

  const auto token = BearerToken(req);
  const bool authorised =
      token && (ctx.bearer_valid ? *ctx.bearer_valid
                                 : *token == tenant.access_token && !tenant.access_token.empty());
  if (!authorised) {
    return Respond(req, ctx, 401, ProblemBody(401, "AuthenticationUnsuccessful", ctx.request_id));
  }
  const auto tenant_header = req.find("xero-tenant-id");
  if (tenant_header == req.end() ||
      !IEquals(std::string_view(tenant_header->value().data(), tenant_header->value().size()),
               tenant.tenant_id)) {
    return Respond(req, ctx, 403, ProblemBody(403, "AuthenticationUnsuccessful", ctx.request_id));
  }

  if (ctx.limit_problem) {
    HttpResponse res = Respond(req, ctx, 429, ProblemBody(429, FailureDetail(429), ctx.request_id));
    res.set(http::field::retry_after, std::to_string(ctx.retry_after_seconds));
    res.set("X-Rate-Limit-Problem", *ctx.limit_problem);
    AddRateHeaders(res, ctx.remaining);
    return res;
  }

  const std::string_view target(req.target().data(), req.target().size());
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    HttpResponse res = Respond(req, ctx, 400, ValidationBody("malformed request target"));
    AddRateHeaders(res, ctx.remaining);
    return res;
  }
  std::string path = url->path();
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  if (!IEquals(path, kXeroContactsPath)) {
    HttpResponse res = Respond(
        req, ctx, 404,
        ProblemBody(404, "The resource you're looking for cannot be found", ctx.request_id));
    AddRateHeaders(res, ctx.remaining);
    return res;
  }
  if (req.method() != http::verb::get) {
    HttpResponse res = Respond(
        req, ctx, 405,
        ProblemBody(405, "concord-fake serves GET /api.xro/2.0/Contacts only", ctx.request_id));
    res.set(http::field::allow, "GET");
    AddRateHeaders(res, ctx.remaining);
    return res;
  }
  if (!AcceptsJson(req)) {
    // Xero would answer XML; the fake speaks JSON only (a documented simplification).
    HttpResponse res =
        Respond(req, ctx, 406,
                "concord-fake serves JSON only: send 'Accept: application/json' (Xero would answer "
                "XML)\n",
                "text/plain; charset=utf-8");
    AddRateHeaders(res, ctx.remaining);
    return res;
  }

  auto parsed = ParseListQuery(req, *url);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    HttpResponse res = Respond(req, ctx, 400, ValidationBody(*error));
    AddRateHeaders(res, ctx.remaining);
    return res;
  }
  const ListQuery& q = std::get<ListQuery>(parsed);

  std::string contacts;
  std::uint32_t item_count = 0;
  AppendContacts(tenant, q, contacts, item_count);

  std::string body;
  body.reserve(contacts.size() + 400);
  body += R"({"Id":)" + Quote(ctx.request_id);
  body += R"(,"Status":"OK","ProviderName":"concord-fake","DateTimeUTC":)";
  body += EscapeJsonSlashes(Quote(connectors::FormatXeroDate(ctx.now_ms, false)));
  if (q.page) {
    const std::uint32_t page_count = (item_count + q.page_size - 1) / q.page_size;
    body += R"(,"pagination":{"page":)" + std::to_string(*q.page) + R"(,"pageSize":)" +
            std::to_string(q.page_size) + R"(,"pageCount":)" + std::to_string(page_count) +
            R"(,"itemCount":)" + std::to_string(item_count) + "}";
  }
  body += R"(,"Contacts":)";
  body += contacts;
  body += "}";

  HttpResponse res = Respond(req, ctx, 200, std::move(body));
  AddRateHeaders(res, ctx.remaining);
  return res;
}

}  // namespace concord::fake
