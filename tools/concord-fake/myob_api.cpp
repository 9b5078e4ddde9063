#include "myob_api.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <functional>
#include <utility>

#include "connectors/wire_time.hpp"
#include "http_util.hpp"

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kJson = "application/json; charset=utf-8";
constexpr std::string_view kRoot = "/accountright";
constexpr std::string_view kCustomers = "Contact/Customer";
// MYOB appends this to every error body.
constexpr std::string_view kInformation =
    "Warning, error messages have not been finalised in this release and may change";

std::string_view HeaderValue(const HttpRequest& req, std::string_view name) {
  const auto it = req.find(name);
  if (it == req.end()) return {};
  return {it->value().data(), it->value().size()};
}

HttpResponse Respond(const HttpRequest& req, const MyobRequestContext& ctx, unsigned status,
                     std::string body) {
  HttpResponse res = MakeResponse(req, status, kJson, std::move(body), ctx.now_ms);
  res.set("x-myobapi-requestid", ctx.request_id);
  return res;
}

// MYOB's error body: {"Errors":[{Name, Message, AdditionalDetails, ErrorCode, Severity,
// LearnMore}], "Information": ...}.
HttpResponse Errors(const HttpRequest& req, const MyobRequestContext& ctx, unsigned status,
                    std::string_view name, std::string_view message, std::string_view details,
                    std::int64_t code) {
  json::object error{{"Name", name},      {"Message", message},  {"AdditionalDetails", details},
                     {"ErrorCode", code}, {"Severity", "Error"}, {"LearnMore", nullptr}};
  json::object body{{"Errors", json::array{error}}, {"Information", kInformation}};
  return Respond(req, ctx, status, json::serialize(body));
}

HttpResponse InjectedFailure(const HttpRequest& req, const MyobRequestContext& ctx,
                             unsigned status) {
  switch (status) {
    case 401:
      return Errors(req, ctx, 401, "OAuthTokenIsInvalid",
                    "The supplied OAuth token (Bearer) is not valid (injected by concord-fake)",
                    "Header: Authorization", 31001);
    case 403:
    case 429:
      // MYOB answers its rate limits with 403; some report 429 (wire-formats §3.4).
      return Errors(req, ctx, status, "RateLimitError",
                    "API key rate limit exceeded (injected by concord-fake)",
                    "Header: x-myobapi-key", 31003);
    case 504:
      return Errors(req, ctx, 504, "GatewayTimeout",
                    "The request timed out (injected by concord-fake)", "", 504);
    default:
      return Errors(
          req, ctx, status, "InternalError",
          "An error occurred (injected by concord-fake, status " + std::to_string(status) + ")", "",
          status);
  }
}

HttpResponse QueryError(const HttpRequest& req, const MyobRequestContext& ctx,
                        std::string_view message) {
  return Errors(req, ctx, 400, "ODataError", message, "Query string", 400);
}

// Weak-free content hash as MYOB's ETags look: a quoted, possibly negative, decimal number.
std::string ETagOf(std::string_view body) {
  const auto hash = static_cast<std::int32_t>(std::hash<std::string_view>{}(body));
  return "\"" + std::to_string(hash) + "\"";
}

// 200 with `body` and its ETag, or 304 without a body when If-None-Match already has it.
HttpResponse Collection(const HttpRequest& req, const MyobRequestContext& ctx, std::string body) {
  const std::string etag = ETagOf(body);
  if (HeaderValue(req, "If-None-Match") == etag) {
    HttpResponse res = Respond(req, ctx, 304, {});
    res.erase(http::field::content_type);
    res.set(http::field::etag, etag);
    return res;
  }
  HttpResponse res = Respond(req, ctx, 200, std::move(body));
  res.set(http::field::etag, etag);
  return res;
}

// "YYYY-MM-DDTHH:MM:SS[.fff]" and nothing else: OData v3 datetime has no zone.
std::optional<reconcile::Millis> ParseODataDateTime(std::string_view text) {
  if (text.size() < 19 || text[10] != 'T') return std::nullopt;
  if (text.find_first_of("Zz+", 19) != std::string_view::npos) return std::nullopt;
  if (text.size() > 19 && (text[19] != '.' || text.find('-', 19) != std::string_view::npos)) {
    return std::nullopt;
  }
  return connectors::ParseIsoDateTime(text);
}

std::variant<MyobCondition, std::string> ParseCondition(std::string_view text) {
  // <property> <op> <literal>, single spaces between (as clients encode them).
  const std::size_t first = text.find(' ');
  const std::size_t second = first == std::string_view::npos ? first : text.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return "'" + std::string(text) + "' is not '<property> <operator> <value>'";
  }
  const std::string_view property = text.substr(0, first);
  const std::string_view op = text.substr(first + 1, second - first - 1);
  const std::string_view literal = text.substr(second + 1);
  MyobCondition c;
  static constexpr std::pair<std::string_view, MyobCondition::Op> kOps[] = {
      {"eq", MyobCondition::Op::kEq},
      {"gt", MyobCondition::Op::kGt},
      {"ge", MyobCondition::Op::kGe},
      {"lt", MyobCondition::Op::kLt},
      {"le", MyobCondition::Op::kLe}};
  const auto known = std::find_if(std::begin(kOps), std::end(kOps),
                                  [&](const auto& entry) { return entry.first == op; });
  if (known == std::end(kOps)) return "unknown operator '" + std::string(op) + "'";
  c.op = known->second;
  if (property == "LastModified") {
    c.field = MyobCondition::Field::kLastModified;
    constexpr std::string_view kPrefix = "datetime'";
    if (!literal.starts_with(kPrefix) || !literal.ends_with('\'') ||
        literal.size() <= kPrefix.size() + 1) {
      return "LastModified compares with datetime'YYYY-MM-DDTHH:MM:SS', got " +
             std::string(literal);
    }
    const std::string_view value =
        literal.substr(kPrefix.size(), literal.size() - kPrefix.size() - 1);
    const auto at = ParseODataDateTime(value);
    if (!at) return "'" + std::string(value) + "' is not an OData datetime (no zone)";
    c.at = *at;
    return c;
  }
  if (property == "IsActive") {
    c.field = MyobCondition::Field::kIsActive;
    if (c.op != MyobCondition::Op::kEq) return std::string("IsActive supports eq only");
    if (literal != "true" && literal != "false") {
      return "IsActive compares with true or false, got " + std::string(literal);
    }
    c.active = literal == "true";
    return c;
  }
  return "property '" + std::string(property) +
         "' cannot be filtered in concord-fake (LastModified, IsActive)";
}

bool Matches(const MyobCustomer& customer, const MyobCondition& c) {
  if (c.field == MyobCondition::Field::kIsActive) return customer.active == c.active;
  const reconcile::Millis at = customer.last_modified_ms;
  switch (c.op) {
    case MyobCondition::Op::kEq:
      return at == c.at;
    case MyobCondition::Op::kGt:
      return at > c.at;
    case MyobCondition::Op::kGe:
      return at >= c.at;
    case MyobCondition::Op::kLt:
      return at < c.at;
    case MyobCondition::Op::kLe:
      return at <= c.at;
  }
  return false;
}

// "http://<Host>" for links that lead back to this server.
std::string Origin(const HttpRequest& req) {
  const std::string_view host = HeaderValue(req, "Host");
  return "http://" + std::string(host.empty() ? "127.0.0.1" : host);
}

HttpResponse CompanyFiles(const HttpRequest& req, const MyobCompanyFile& file,
                          const MyobRequestContext& ctx) {
  json::object entry{{"Id", file.id},
                     {"Name", "concord-fake company file"},
                     {"LibraryPath", "concord-fake"},
                     {"ProductVersion", "2024.1"},
                     {"ProductLevel", json::object{{"Code", 30}, {"Name", "Plus"}}},
                     {"CheckedOutDate", nullptr},
                     {"CheckedOutBy", nullptr},
                     {"Uri", Origin(req) + std::string(kRoot) + "/" + file.id},
                     {"Country", "NZ"}};
  return Collection(req, ctx, json::serialize(json::array{entry}));
}

HttpResponse Customers(const HttpRequest& req, const MyobCompanyFile& file,
                       const MyobRequestContext& ctx, const boost::urls::url_view& url) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& param : url.params(boost::urls::encoding_opts(true))) {
    params.emplace_back(param.key, param.value);
  }
  auto parsed = ParseMyobQuery(params);
  if (auto* error = std::get_if<std::string>(&parsed)) return QueryError(req, ctx, *error);
  const MyobQuery& q = std::get<MyobQuery>(parsed);

  std::vector<const MyobCustomer*> rows;
  for (const MyobCustomer& c : file.customers) {
    if (std::all_of(q.where.begin(), q.where.end(),
                    [&](const MyobCondition& cond) { return Matches(c, cond); })) {
      rows.push_back(&c);
    }
  }
  const std::size_t skip = std::min(rows.size(), static_cast<std::size_t>(q.skip));
  const std::size_t take = std::min(rows.size() - skip, static_cast<std::size_t>(q.top));

  std::string body = R"({"Items":[)";
  for (std::size_t i = 0; i < take; ++i) {
    if (i > 0) body.push_back(',');
    body += rows[skip + i]->json;
  }
  body += R"(],"NextPageLink":)";
  if (skip + take < rows.size()) {
    boost::urls::url next;
    const std::string here = Origin(req) + std::string(url.encoded_path());
    if (const auto base = boost::urls::parse_uri(here)) next = *base;
    next.params().append({"$top", std::to_string(q.top)});
    next.params().append({"$skip", std::to_string(skip + take)});
    if (!q.filter.empty()) next.params().append({"$filter", q.filter});
    body += json::serialize(json::value(std::string_view(next.buffer())));
  } else {
    body += "null";
  }
  body += R"(,"Count":)" + std::to_string(rows.size()) + "}";
  return Collection(req, ctx, std::move(body));
}

}  // namespace

std::variant<MyobQuery, std::string> ParseMyobQuery(
    const std::vector<std::pair<std::string, std::string>>& params) {
  MyobQuery q;
  bool seen_top = false, seen_skip = false, seen_filter = false;
  for (const auto& [key, value] : params) {
    if (key == "$top" || key == "$skip") {
      bool& seen = key == "$top" ? seen_top : seen_skip;
      if (seen) return key + " is given twice";
      seen = true;
      const auto number = ParseInteger(value);
      if (!number) return key + " must be a whole number, got '" + value + "'";
      if (key == "$top") {
        if (*number < 1 || *number > kMyobMaxTop) {
          return "$top must be between 1 and 1000, got " + std::to_string(*number);
        }
        q.top = *number;
      } else {
        if (*number < 0) return "$skip must not be negative, got " + std::to_string(*number);
        q.skip = *number;
      }
    } else if (key == "$filter") {
      if (seen_filter) return std::string("$filter is given twice");
      seen_filter = true;
      q.filter = value;
      std::string_view rest = value;
      for (;;) {
        const std::size_t split = rest.find(" and ");
        auto condition = ParseCondition(rest.substr(0, split));
        if (auto* error = std::get_if<std::string>(&condition)) return *error;
        q.where.push_back(std::get<MyobCondition>(condition));
        if (split == std::string_view::npos) break;
        rest.remove_prefix(split + 5);
      }
    } else {
      return "query option '" + key + "' is not supported (concord-fake: $top, $skip, $filter)";
    }
  }
  return q;
}

HttpResponse HandleMyobRequest(const HttpRequest& req, const MyobCompanyFile& file,
                               const MyobRequestContext& ctx) {
  const auto fail_status = ctx.fail_status ? ctx.fail_status : file.fail_status;
  if (fail_status) return InjectedFailure(req, ctx, *fail_status);

  // The gateway checks the developer key first, then the API version, then the user's token.
  const std::string_view key = HeaderValue(req, "x-myobapi-key");
  if (key.empty() || file.api_key.empty() || key != file.api_key) {
    return Errors(req, ctx, 403, "DeveloperInactive",
                  "The supplied API key (x-myobapi-key) is missing, unknown or inactive",
                  "Header: x-myobapi-key", 31002);
  }
  if (HeaderValue(req, "x-myobapi-version") != "v2") {
    return Errors(req, ctx, 400, "InvalidApiVersion",
                  "x-myobapi-version must be v2, got '" +
                      std::string(HeaderValue(req, "x-myobapi-version")) + "'",
                  "Header: x-myobapi-version", 31004);
  }
  const auto token = BearerToken(req);
  if (!token || file.access_token.empty() || *token != file.access_token) {
    HttpResponse res =
        Errors(req, ctx, 401, "OAuthTokenIsInvalid",
               "The supplied OAuth token (Bearer) is not valid", "Header: Authorization", 31001);
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }

  const std::string_view target(req.target().data(), req.target().size());
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return QueryError(req, ctx, "malformed request target");
  std::string path = url->path();
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto not_found = [&] {
    return Errors(req, ctx, 404, "NotFound",
                  "concord-fake serves GET /accountright/ and "
                  "GET /accountright/{cf}/Contact/Customer only",
                  "", 150);
  };
  if (!path.starts_with(kRoot)) return not_found();
  if (req.method() != http::verb::get) {
    HttpResponse res =
        Errors(req, ctx, 405, "MethodNotAllowed", "concord-fake serves GET requests only", "", 405);
    res.set(http::field::allow, "GET");
    return res;
  }
  if (path == kRoot) {
    if (!url->params().empty()) return QueryError(req, ctx, "the company-file list takes no query");
    return CompanyFiles(req, file, ctx);
  }
  const std::string_view rest = std::string_view(path).substr(kRoot.size());
  if (!rest.starts_with('/')) return not_found();
  const std::size_t slash = rest.find('/', 1);
  const std::string_view cf =
      rest.substr(1, slash == std::string_view::npos ? rest.npos : slash - 1);
  const std::string_view resource =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (cf != file.id) {
    return Errors(req, ctx, 403, "AccessDenied",
                  "The user has no access to company file " + std::string(cf), "", 403);
  }
  if (!file.cftoken.empty() && HeaderValue(req, "x-myobapi-cftoken") != file.cftoken) {
    return Errors(req, ctx, 401, "InvalidCompanyFileCredentials",
                  "The company file user name or password (x-myobapi-cftoken) is not valid",
                  "Header: x-myobapi-cftoken", 31005);
  }
  if (resource != kCustomers) return not_found();
  return Customers(req, file, ctx, *url);
}

}  // namespace concord::fake
