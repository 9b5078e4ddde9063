#include "daemon/api.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <limits>
#include <map>

namespace concord::daemon {
namespace json = boost::json;

namespace {

constexpr Route kRoutes[] = {
    {"GET", "/healthz", Access::kPublic},
    {"GET", "/readyz", Access::kPublic},
    {"GET", "/metrics", Access::kRead},
    {"POST", "/v1/tenants/{tenant}/syncs", Access::kWrite},
    {"GET", "/v1/tenants/{tenant}/syncs", Access::kRead},
    {"GET", "/v1/syncs/{id}", Access::kRead},
    {"GET", "/v1/syncs/{id}/events", Access::kRead},
    {"GET", "/v1/syncs/{id}/plan", Access::kRead},
    {"GET", "/v1/tenants/{tenant}/review", Access::kRead},
    {"POST", "/v1/review/{id}", Access::kWrite},
    {"GET", "/v1/tenants/{tenant}/persons", Access::kRead},
    {"POST", "/v1/merges/{id}/undo", Access::kWrite},
    {"POST", "/v1/webhooks/xero/{tenant}", Access::kSigned},
    {"POST", "/v1/webhooks/qbo/{tenant}", Access::kSigned},
};

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto end = path.find('/');
    out.push_back(path.substr(0, end));
    if (end == std::string_view::npos) break;
    path.remove_prefix(end);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' stays '+' (RFC 3986: an email's +tag must survive).
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

struct Matched {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  bool path_known = false;  // some route has this path (for 405)
};

Matched MatchRoute(std::string_view method, std::string_view path) {
  Matched out;
  auto segments = Segments(path);
  for (const auto& route : kRoutes) {
    auto pattern = Segments(route.pattern);
    if (pattern.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < pattern.size() && ok; ++i) {
      if (pattern[i].starts_with('{')) {
        auto value = PercentDecode(segments[i]);
        if (!value || value->empty()) {
          ok = false;
        } else {
          params[std::string(pattern[i].substr(1, pattern[i].size() - 2))] = *value;
        }
      } else {
        ok = pattern[i] == segments[i];
      }
    }
    if (!ok) continue;
    out.path_known = true;
    if (route.method == method) {
      out.route = &route;
      out.params = std::move(params);
      return out;
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto end = query.find('&');
    auto pair = query.substr(0, end);
    auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : PercentDecode(pair.substr(eq + 1));
    if (!key || !value) throw ApiError(400, "invalid_query", "the query string is malformed");
    if (!key->empty()) out[*key] = *value;
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return out;
}

std::int64_t PositiveId(const std::string& text, std::string_view field) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    throw ApiError(400, "invalid_" + std::string(field),
                   std::string(field) + " must be a positive integer, got \"" + text + "\"");
  }
  return value;
}

int QueryInt(const std::map<std::string, std::string>& query, const std::string& name, int fallback,
             int min, int max) {
  auto it = query.find(name);
  if (it == query.end()) return fallback;
  int value = 0;
  const auto& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    throw ApiError(400, "invalid_" + name,
                   name + " must be an integer from " + std::to_string(min) + " to " +
                       std::to_string(max) + ", got \"" + text + "\"");
  }
  return value;
}

void RejectUnknown(const std::map<std::string, std::string>& query,
                   std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : query) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw ApiError(400, "invalid_query", "unknown query parameter '" + key + "'");
    }
  }
}

json::object ParseBodyObject(const std::string& body, bool allow_empty) {
  if (body.empty() && allow_empty) return {};
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  if (ec) throw ApiError(400, "invalid_json", "the body is not valid JSON: " + ec.message());
  if (!value.is_object()) throw ApiError(400, "invalid_json", "the body must be a JSON object");
  return std::move(value.as_object());
}

bool BoolField(const json::object& body, std::string_view name, bool fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) return fallback;
  if (!it->value().is_bool()) {
    throw ApiError(400, "invalid_" + std::string(name),
                   "'" + std::string(name) + "' must be true or false");
  }
  return it->value().as_bool();
}

std::optional<std::string> StringField(const json::object& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) {
    throw ApiError(400, "invalid_" + std::string(name),
                   "'" + std::string(name) + "' must be a string");
  }
  return std::string(it->value().as_string());
}

void OnlyFields(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : body) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw ApiError(400, "invalid_" + std::string(key),
                     "unknown field '" + std::string(key) + "'");
    }
  }
}

ApiResponse Json(int status, const json::value& body) {
  ApiResponse r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

void RequireTenant(ApiBackend& backend, const std::string& tenant) {
  if (!backend.HasTenant(tenant)) {
    throw ApiError(404, "unknown_tenant", "there is no tenant '" + tenant + "'");
  }
}

// A webhook delivery. The sender only looks at the status: 200 and 401 go out with an empty
// body (Xero requires it of both), so a prober learns nothing from them. A tenant without a
// subscription gets the same 404 whatever the reason, as the route takes no bearer token and
// must not tell which tenants exist; the reason is logged.
ApiResponse Webhook(WebhookSource source, const std::string& tenant, const ApiRequest& request,
                    ApiBackend& backend) {
  ApiResponse r;
  r.content_type.clear();
  auto& receipt = r.webhook.emplace();
  receipt.source = source;
  receipt.tenant = tenant;
  std::string why;
  auto subscription = backend.Webhook(tenant, source, why);
  if (!subscription) {
    receipt.outcome = "unknown_tenant";
    r.status = 404;
    r.content_type = "application/json";
    r.body = ErrorBody("unknown_tenant", "no tenant here takes " + std::string(ToString(source)) +
                                             " webhooks at this URL");
    r.detail = why;
    return r;
  }
  const auto& signature =
      source == WebhookSource::kXero ? request.xero_signature : request.intuit_signature;
  if (!VerifyWebhookSignature(subscription->key, request.body, signature)) {
    receipt.outcome = "bad_signature";
    r.status = 401;
    r.detail = signature.empty() ? "no signature header" : "the signature does not match";
    return r;
  }
  auto notice = source == WebhookSource::kXero
                    ? ReadXeroWebhook(request.body, subscription->account_id)
                    : ReadQboWebhook(request.body, subscription->account_id);
  if (!notice) {
    receipt.outcome = "invalid_payload";
    r.status = 400;
    r.content_type = "application/json";
    r.body = ErrorBody("invalid_payload",
                       "the body is not a " + std::string(ToString(source)) + " webhook payload");
    return r;
  }
  receipt.notice = *notice;
  receipt.outcome = notice->contact_changes > 0 ? "accepted" : "ignored";
  if (notice->contact_changes > 0) backend.QueueWebhookRun(tenant);
  return r;
}

ApiResponse Dispatch(const Route& route, const std::map<std::string, std::string>& params,
                     const std::map<std::string, std::string>& query, const ApiRequest& request,
                     ApiBackend& backend) {
  const std::string_view pattern = route.pattern;
  const bool post = route.method == "POST";
  if (pattern == "/healthz") return Json(200, json::object{{"status", "ok"}});
  if (pattern == "/readyz") {
    auto why = backend.NotReadyReason();
    if (!why.empty()) throw ApiError(503, "not_ready", why);
    return Json(200, json::object{{"status", "ready"}});
  }
  if (pattern == "/metrics") {
    ApiResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = backend.MetricsText();
    return r;
  }
  if (pattern == "/v1/tenants/{tenant}/syncs" && post) {
    const auto& tenant = params.at("tenant");
    RequireTenant(backend, tenant);
    auto body = ParseBodyObject(request.body, true);
    OnlyFields(body, {"mode", "dry_run", "confirm_deletes"});
    SyncParams sync;
    auto mode = StringField(body, "mode").value_or("incremental");
    if (mode != "incremental" && mode != "full") {
      throw ApiError(400, "invalid_mode",
                     "'mode' must be \"incremental\" or \"full\", got \"" + mode + "\"");
    }
    sync.full = mode == "full";
    sync.dry_run = BoolField(body, "dry_run", false);
    sync.confirm_deletes = BoolField(body, "confirm_deletes", false);
    auto result = backend.StartSync(tenant, sync);
    if (!result.started) {
      return Json(
          409, json::object{
                   {"error",
                    {{"code", "run_in_progress"},
                     {"message", "a run of tenant '" + tenant + "' is in progress"}}},
                   {"run", result.run.empty() ? json::value(nullptr) : json::value(result.run)}});
    }
    return Json(202, result.run);
  }
  if (pattern == "/v1/tenants/{tenant}/syncs") {
    const auto& tenant = params.at("tenant");
    RequireTenant(backend, tenant);
    RejectUnknown(query, {"limit", "before"});
    int limit = QueryInt(query, "limit", kDefaultPage, 1, kMaxPage);
    std::int64_t before = query.contains("before") ? PositiveId(query.at("before"), "before")
                                                   : std::numeric_limits<std::int64_t>::max();
    auto runs = backend.Runs(tenant, before, limit);
    json::object out{{"runs", runs}};
    out["next_before"] = static_cast<int>(runs.size()) == limit && !runs.empty()
                             ? json::value(runs.back().as_object().at("id"))
                             : json::value(nullptr);
    return Json(200, out);
  }
  if (pattern == "/v1/syncs/{id}") {
    RejectUnknown(query, {});
    auto id = PositiveId(params.at("id"), "id");
    auto run = backend.Run(id);
    if (!run) throw ApiError(404, "unknown_run", "there is no run " + std::to_string(id));
    return Json(200, *run);
  }
  if (pattern == "/v1/syncs/{id}/events") {
    RejectUnknown(query, {"kind", "after", "limit"});
    auto id = PositiveId(params.at("id"), "id");
    int limit = QueryInt(query, "limit", kDefaultPage, 1, kMaxPage);
    int after = QueryInt(query, "after", 0, 0, std::numeric_limits<int>::max());
    std::optional<std::string> kind;
    if (query.contains("kind")) kind = query.at("kind");
    auto events = backend.Events(id, kind, after, limit);
    if (!events) throw ApiError(404, "unknown_run", "there is no run " + std::to_string(id));
    json::object out{{"run_id", id}, {"events", *events}};
    out["next_after"] = static_cast<int>(events->size()) == limit && !events->empty()
                            ? json::value(events->back().as_object().at("seq"))
                            : json::value(nullptr);
    return Json(200, out);
  }
  if (pattern == "/v1/syncs/{id}/plan") {
    RejectUnknown(query, {});
    auto id = PositiveId(params.at("id"), "id");
    auto plan = backend.Plan(id);
    if (!plan) throw ApiError(404, "unknown_run", "there is no run " + std::to_string(id));
    if (plan->is_null()) {
      throw ApiError(404, "no_plan",
                     "run " + std::to_string(id) + " stored no plan (only dry and held runs do)");
    }
    return Json(200, json::object{{"run_id", id}, {"plan", *plan}});
  }
  if (pattern == "/v1/tenants/{tenant}/review") {
    const auto& tenant = params.at("tenant");
    RequireTenant(backend, tenant);
    RejectUnknown(query, {});
    return Json(200, json::object{{"items", backend.OpenReview(tenant)}});
  }
  if (pattern == "/v1/review/{id}") {
    auto id = PositiveId(params.at("id"), "id");
    auto body = ParseBodyObject(request.body, false);
    OnlyFields(body, {"action", "person_id"});
    ReviewAction action;
    auto name = StringField(body, "action");
    if (!name) throw ApiError(400, "invalid_action", "'action' is required");
    if (*name != "link" && *name != "keep_separate" && *name != "dismiss") {
      throw ApiError(
          400, "invalid_action",
          "'action' must be \"link\", \"keep_separate\" or \"dismiss\", got \"" + *name + "\"");
    }
    action.action = *name;
    auto person = StringField(body, "person_id");
    if (action.action == "link" && (!person || person->empty())) {
      throw ApiError(400, "invalid_person_id", "'person_id' is required to link");
    }
    if (action.action != "link" && person) {
      throw ApiError(400, "invalid_person_id", "'person_id' is only for \"link\"");
    }
    action.person_id = person.value_or("");
    return Json(200, backend.ResolveReview(id, action));
  }
  if (pattern == "/v1/tenants/{tenant}/persons") {
    const auto& tenant = params.at("tenant");
    RequireTenant(backend, tenant);
    RejectUnknown(query, {"email"});
    auto it = query.find("email");
    if (it == query.end() || it->second.empty()) {
      throw ApiError(400, "invalid_email", "the query parameter 'email' is required");
    }
    return Json(200, json::object{{"persons", backend.Persons(tenant, it->second)}});
  }
  if (pattern == "/v1/merges/{id}/undo") {
    auto id = PositiveId(params.at("id"), "id");
    return Json(200, backend.UndoMerge(id));
  }
  if (pattern == "/v1/webhooks/xero/{tenant}") {
    return Webhook(WebhookSource::kXero, params.at("tenant"), request, backend);
  }
  if (pattern == "/v1/webhooks/qbo/{tenant}") {
    return Webhook(WebhookSource::kQbo, params.at("tenant"), request, backend);
  }
  throw ApiError(404, "not_found", "no such route");
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

Tokens::Grant Tokens::Check(std::string_view authorization) const {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return Grant::kNone;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return Grant::kNone;
    }
  }
  auto token = authorization.substr(kScheme.size());
  // Every token is compared, so the time taken does not tell which one matched.
  bool admin = false, read = false;
  for (const auto& t : admin_) admin |= ConstantTimeEquals(token, t);
  for (const auto& t : read_) read |= ConstantTimeEquals(token, t);
  if (admin) return Grant::kAdmin;
  if (read) return Grant::kRead;
  return Grant::kNone;
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  return json::serialize(json::object{{"error", {{"code", code}, {"message", message}}}});
}

ApiResponse HandleApiRequest(const ApiRequest& request, const Tokens& tokens, ApiBackend& backend) {
  std::string_view target = request.target;
  auto question = target.find('?');
  auto path = target.substr(0, question);
  auto query_text =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  auto matched = MatchRoute(request.method, path);
  ApiResponse response;
  try {
    if (!matched.route) {
      if (matched.path_known) {
        throw ApiError(405, "method_not_allowed",
                       request.method + " is not allowed on " + std::string(path));
      }
      throw ApiError(404, "not_found", "no route for " + std::string(path));
    }
    if (matched.route->access != Access::kPublic && matched.route->access != Access::kSigned) {
      auto grant = tokens.Check(request.authorization);
      if (grant == Tokens::Grant::kNone) {
        throw ApiError(401, "unauthorized", "a valid bearer token is required");
      }
      if (matched.route->access == Access::kWrite && grant != Tokens::Grant::kAdmin) {
        throw ApiError(403, "forbidden", "this token may only read");
      }
    }
    response = Dispatch(*matched.route, matched.params, ParseQuery(query_text), request, backend);
  } catch (const ApiError& e) {
    response.status = e.status();
    response.content_type = "application/json";
    response.body = ErrorBody(e.code(), e.what());
  } catch (const std::exception& e) {
    response.status = 500;
    response.content_type = "application/json";
    response.body = ErrorBody("internal", "the request failed on our side; see the server log");
    response.detail = e.what();
  }
  response.route =
      matched.route ? std::string(matched.route->method) + " " + std::string(matched.route->pattern)
                    : "unmatched";
  return response;
}

}  // namespace concord::daemon
