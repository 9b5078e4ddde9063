#include "scim_api.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <string>
#include <variant>

#include "connectors/wire_time.hpp"
#include "http_util.hpp"

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kScimJson = "application/scim+json";
constexpr std::string_view kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

HttpResponse ScimError(const HttpRequest& req, const ScimRequestContext& ctx, unsigned status,
                       std::string_view scim_type, std::string_view detail) {
  json::object body;
  body["schemas"] = json::array{kErrorSchema};
  body["status"] = std::to_string(status);  // a string, as RFC 7644 (with errata) has it
  if (!scim_type.empty()) body["scimType"] = scim_type;
  body["detail"] = detail;
  return MakeResponse(req, status, kScimJson, json::serialize(body), ctx.now_ms);
}

std::string_view FailureDetail(unsigned status) {
  switch (status) {
    case 429:
      return "Too many requests";
    case 500:
      return "Internal server error";
    case 503:
      return "Service temporarily unavailable";
    default:
      return "Injected failure";
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A parsed `meta.lastModified gt|ge "<date-time>"` filter.
struct LastModifiedFilter {
  reconcile::Millis since_ms = 0;
  bool inclusive = false;  // ge
};

// Parses the one filter shape the fake supports; returns a detail for invalidFilter otherwise.
std::variant<LastModifiedFilter, std::string> ParseFilter(std::string_view text) {
  const std::string unsupported =
      "unsupported filter '" + std::string(text) +
      "': concord-fake supports only meta.lastModified gt|ge \"<date-time>\"";
  std::string_view rest = Trim(text);
  const std::size_t attr_end = rest.find(' ');
  if (attr_end == std::string_view::npos) return unsupported;
  const std::string_view attr = rest.substr(0, attr_end);
  rest = Trim(rest.substr(attr_end));
  const std::size_t op_end = rest.find(' ');
  if (op_end == std::string_view::npos) return unsupported;
  const std::string_view op = rest.substr(0, op_end);
  const std::string_view literal = Trim(rest.substr(op_end));
  if (!IEquals(attr, "meta.lastModified") || !(IEquals(op, "gt") || IEquals(op, "ge"))) {
    return unsupported;
  }
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') {
    return "filter value must be a double-quoted date-time, got " + std::string(literal);
  }
  boost::system::error_code ec;
  const json::value value = json::parse(literal, ec);
  if (ec || !value.is_string()) return "filter value is not a valid string literal";
  const std::string_view date(value.get_string());
  const auto ms = connectors::ParseIsoDateTime(date);
  if (!ms) return "filter value '" + std::string(date) + "' is not an RFC 3339 date-time";
  return LastModifiedFilter{*ms, IEquals(op, "ge")};
}

// The user with active and emails[].primary written as strings, "True"/"False" as Microsoft
// Entra has sent them.
std::string WithStringBooleans(const std::string& user_json) {
  json::value user = json::parse(user_json);
  if (!user.is_object()) return user_json;
  const auto stringify = [](json::object& object, std::string_view key) {
    json::value* member = object.if_contains(key);
    if (member != nullptr && member->is_bool()) *member = member->get_bool() ? "True" : "False";
  };
  stringify(user.get_object(), "active");
  if (json::value* emails = user.get_object().if_contains("emails"); emails && emails->is_array()) {
    for (json::value& email : emails->get_array()) {
      if (email.is_object()) stringify(email.get_object(), "primary");
    }
  }
  return json::serialize(user);
}

}  // namespace

HttpResponse HandleScimRequest(const HttpRequest& req, const ScimDirectory& directory,
                               const ScimRequestContext& ctx) {
  const auto fail_status = ctx.fail_status ? ctx.fail_status : directory.fail_status;
  if (fail_status) {
    HttpResponse res = ScimError(req, ctx, *fail_status, "", FailureDetail(*fail_status));
    if (*fail_status == 429 || *fail_status == 503) res.set(http::field::retry_after, "30");
    return res;
  }

  const auto token = BearerToken(req);
  if (!token || directory.token.empty() || *token != directory.token) {
    HttpResponse res =
        ScimError(req, ctx, 401, "", "Authorization failure: bearer token missing or invalid");
    res.set(http::field::www_authenticate, R"(Bearer realm="concord-fake SCIM")");
    return res;
  }

  const std::string_view target(req.target().data(), req.target().size());
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return ScimError(req, ctx, 400, "invalidSyntax", "malformed request target");
  std::string path = url->path();
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path != kScimUsersPath) {
    return ScimError(req, ctx, 404, "", "Resource " + path + " not found");
  }
  if (req.method() != http::verb::get) {
    HttpResponse res = ScimError(req, ctx, 405, "", "concord-fake serves GET /scim/v2/Users only");
    res.set(http::field::allow, "GET");
    return res;
  }

  const ScimQuirks& quirks = directory.quirks;
  std::int64_t start_index = 1;
  std::int64_t count = kScimDefaultCount;
  std::optional<LastModifiedFilter> filter;
  for (const auto& param : url->params(boost::urls::encoding_opts(true))) {
    const std::string_view key = param.key;
    const std::string_view value = param.value;
    if (IEquals(key, "startIndex")) {
      const auto v = ParseInteger(value);
      if (!v) {
        return ScimError(req, ctx, 400, "invalidValue",
                         "startIndex must be an integer, got '" + std::string(value) + "'");
      }
      start_index = std::max<std::int64_t>(*v, 1);
    } else if (IEquals(key, "count")) {
      const auto v = ParseInteger(value);
      if (!v) {
        return ScimError(req, ctx, 400, "invalidValue",
                         "count must be an integer, got '" + std::string(value) + "'");
      }
      const std::int64_t cap = quirks.max_count.value_or(kScimMaxCount);
      if (quirks.reject_over_max_count && *v > cap) {
        return ScimError(req, ctx, 400, "tooMany",
                         "count " + std::to_string(*v) + " exceeds the maximum of " +
                             std::to_string(cap) + " results per page");
      }
      count = std::clamp<std::int64_t>(*v, 0, cap);
    } else if (IEquals(key, "filter")) {
      auto parsed = ParseFilter(value);
      if (auto* error = std::get_if<std::string>(&parsed)) {
        return ScimError(req, ctx, 400, "invalidFilter", *error);
      }
      filter = std::get<LastModifiedFilter>(parsed);
    }
  }

  const auto& users = directory.users;
  auto first = users.begin();
  if (filter) {
    const reconcile::Millis since = filter->since_ms;
    first = filter->inclusive ? std::lower_bound(users.begin(), users.end(), since,
                                                 [](const ScimUser& u, reconcile::Millis t) {
                                                   return u.last_modified_ms < t;
                                                 })
                              : std::upper_bound(users.begin(), users.end(), since,
                                                 [](reconcile::Millis t, const ScimUser& u) {
                                                   return t < u.last_modified_ms;
                                                 });
  }
  const auto total = static_cast<std::int64_t>(users.end() - first);
  const std::int64_t skip = std::min(start_index - 1, total);
  const std::int64_t items = std::min(count, total - skip);

  std::string body;
  body += R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":)";
  body += std::to_string(total + quirks.overstate_total);
  body += R"(,"startIndex":)" + std::to_string(start_index);
  body += R"(,"itemsPerPage":)" + std::to_string(items);
  if (items > 0 || !quirks.omit_empty_resources) {
    body += R"(,"Resources":[)";
    for (std::int64_t i = 0; i < items; ++i) {
      if (i > 0) body.push_back(',');
      body +=
          quirks.string_booleans ? WithStringBooleans(first[skip + i].json) : first[skip + i].json;
    }
    body += "]";
  }
  body += "}";
  return MakeResponse(req, 200, kScimJson, std::move(body), ctx.now_ms);
}

}  // namespace concord::fake
