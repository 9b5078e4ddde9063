#include "qbo_api.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstdio>

#include "connectors/wire_time.hpp"
#include "http_util.hpp"

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kJson = "application/json;charset=UTF-8";
constexpr std::string_view kXml = "application/xml;charset=UTF-8";
constexpr std::string_view kPathPrefix = "/v3/company/";

// ---- the query language ---------------------------------------------------------------------

struct Token {
  enum class Kind { kWord, kString, kNumber, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // a string literal without quotes, escapes resolved
};

// Splits a statement into tokens; a std::string is a lexical error.
std::variant<std::vector<Token>, std::string> Tokenize(std::string_view s) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  const auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_';
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '\'') {
      std::string text;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          text.push_back(s[i + 1]);
          i += 2;
        } else if (s[i] == '\'') {
          closed = true;
          ++i;
          break;
        } else {
          text.push_back(s[i++]);
        }
      }
      if (!closed) return std::string("unterminated string literal");
      tokens.push_back({Token::Kind::kString, std::move(text)});
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-') {
      std::size_t start = i++;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
      tokens.push_back({Token::Kind::kNumber, std::string(s.substr(start, i - start))});
    } else if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      std::size_t start = i;
      while (i < s.size() && word_char(s[i])) ++i;
      tokens.push_back({Token::Kind::kWord, std::string(s.substr(start, i - start))});
    } else if (c == '<' || c == '>') {
      const bool with_equals = i + 1 < s.size() && s[i + 1] == '=';
      tokens.push_back({Token::Kind::kSymbol, std::string(s.substr(i, with_equals ? 2 : 1))});
      i += with_equals ? 2 : 1;
    } else if (c == '=' || c == '(' || c == ')' || c == ',' || c == '*') {
      tokens.push_back({Token::Kind::kSymbol, std::string(1, c)});
      ++i;
    } else {
      return "unexpected character '" + std::string(1, c) + "' at position " + std::to_string(i);
    }
  }
  tokens.push_back({Token::Kind::kEnd, {}});
  return tokens;
}

std::optional<QboField> FieldNamed(std::string_view name) {
  static constexpr std::pair<std::string_view, QboField> kFields[] = {
      {"Id", QboField::kId},
      {"Active", QboField::kActive},
      {"Job", QboField::kJob},
      {"Metadata.LastUpdatedTime", QboField::kLastUpdatedTime},
      {"Metadata.CreateTime", QboField::kCreateTime},
      {"DisplayName", QboField::kDisplayName},
      {"GivenName", QboField::kGivenName},
      {"FamilyName", QboField::kFamilyName},
      {"CompanyName", QboField::kCompanyName},
  };
  for (const auto& [known, field] : kFields) {
    if (IEquals(name, known)) return field;
  }
  return std::nullopt;
}

bool IsBoolField(QboField f) { return f == QboField::kActive || f == QboField::kJob; }
bool IsTimeField(QboField f) {
  return f == QboField::kLastUpdatedTime || f == QboField::kCreateTime;
}
bool IsTextField(QboField f) { return !IsBoolField(f) && !IsTimeField(f) && f != QboField::kId; }

std::optional<reconcile::Millis> ParseQueryTime(std::string_view text) {
  if (text.size() == 10) return connectors::ParseIsoDateTime(std::string(text) + "T00:00:00Z");
  return connectors::ParseIsoDateTime(text);
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  std::variant<QboQuery, std::string> Parse() {
    QboQuery q;
    if (!Keyword("select")) return Expected("SELECT");
    if (Symbol("*")) {
    } else if (Keyword("count")) {
      if (!Symbol("(") || !Symbol("*") || !Symbol(")")) return Expected("COUNT(*)");
      q.count = true;
    } else {
      return Expected("* or COUNT(*) (concord-fake has no projections)");
    }
    if (!Keyword("from")) return Expected("FROM");
    if (Peek().kind != Token::Kind::kWord) return Expected("an entity name");
    if (Peek().text != "Customer") {
      return "entity '" + Peek().text +
             "' is not served (concord-fake knows Customer only; "
             "entity names are case-sensitive)";
    }
    ++pos_;
    if (Keyword("where")) {
      do {
        auto condition = Condition();
        if (auto* error = std::get_if<std::string>(&condition)) return *error;
        q.where.push_back(std::get<QboCondition>(std::move(condition)));
      } while (Keyword("and"));
      if (Keyword("or")) return std::string("OR is not supported in QBO queries");
    }
    if (Keyword("orderby")) {
      do {
        if (Peek().kind != Token::Kind::kWord) return Expected("a property after ORDERBY");
        const auto field = FieldNamed(Peek().text);
        if (!field) return "cannot order by '" + Peek().text + "'";
        ++pos_;
        QboOrder order{*field, false};
        if (Keyword("desc")) {
          order.descending = true;
        } else {
          (void)Keyword("asc");
        }
        q.order.push_back(order);
      } while (Symbol(","));
    }
    bool seen_start = false;
    bool seen_max = false;
    while (Peek().kind == Token::Kind::kWord) {
      const bool start = IEquals(Peek().text, "startposition");
      const bool max = IEquals(Peek().text, "maxresults");
      if ((!start && !max) || (start && seen_start) || (max && seen_max)) break;
      ++pos_;
      if (Peek().kind != Token::Kind::kNumber) {
        return Expected(start ? "a number after STARTPOSITION" : "a number after MAXRESULTS");
      }
      const auto number = ParseInteger(Peek().text);
      ++pos_;
      if (!number) return std::string("number out of range");
      if (start) {
        if (*number < 1) return "STARTPOSITION is 1-based, got " + std::to_string(*number);
        q.start_position = *number;
        seen_start = true;
      } else {
        if (*number < 1) return "MAXRESULTS must be at least 1, got " + std::to_string(*number);
        q.max_results = std::min(*number, kQboMaxResults);
        seen_max = true;
      }
    }
    if (Peek().kind != Token::Kind::kEnd) return "unexpected '" + Peek().text + "'";
    return q;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }

  bool Keyword(std::string_view word) {
    if (Peek().kind != Token::Kind::kWord || !IEquals(Peek().text, word)) return false;
    ++pos_;
    return true;
  }

  bool Symbol(std::string_view symbol) {
    if (Peek().kind != Token::Kind::kSymbol || Peek().text != symbol) return false;
    ++pos_;
    return true;
  }

  std::string Expected(std::string_view what) const {
    const Token& t = Peek();
    return "expected " + std::string(what) + ", found " +
           (t.kind == Token::Kind::kEnd ? std::string("the end of the statement")
                                        : "'" + t.text + "'");
  }

  // One literal for `field`, appended to `c`.
  std::optional<std::string> Literal(QboField field, QboCondition& c) {
    const Token& t = Peek();
    if (IsBoolField(field)) {
      if (t.kind != Token::Kind::kWord || !(IEquals(t.text, "true") || IEquals(t.text, "false"))) {
        return Expected("true or false");
      }
      c.values.push_back(IEquals(t.text, "true") ? "true" : "false");
    } else if (IsTimeField(field)) {
      if (t.kind != Token::Kind::kString) return Expected("a quoted date-time");
      const auto at = ParseQueryTime(t.text);
      if (!at) return "'" + t.text + "' is not a date-time";
      c.times.push_back(*at);
      c.values.push_back(t.text);
    } else if (field == QboField::kId) {
      if (t.kind != Token::Kind::kString && t.kind != Token::Kind::kNumber) {
        return Expected("an Id");
      }
      c.values.push_back(t.text);
    } else {
      if (t.kind != Token::Kind::kString) return Expected("a quoted string");
      c.values.push_back(t.text);
    }
    ++pos_;
    return std::nullopt;
  }

  std::variant<QboCondition, std::string> Condition() {
    if (Peek().kind != Token::Kind::kWord) return Expected("a property");
    const auto field = FieldNamed(Peek().text);
    if (!field) {
      return "property '" + Peek().text + "' is not queryable on Customer in concord-fake";
    }
    ++pos_;
    QboCondition c;
    c.field = *field;
    if (Keyword("in")) {
      c.op = QboOp::kIn;
      if (IsTimeField(*field)) return std::string("IN is not supported for times");
      if (!Symbol("(")) return Expected("'(' after IN");
      do {
        if (auto error = Literal(*field, c)) return *error;
      } while (Symbol(","));
      if (!Symbol(")")) return Expected("')'");
      return c;
    }
    if (Keyword("like")) {
      if (!IsTextField(*field)) return std::string("LIKE applies to text properties only");
      c.op = QboOp::kLike;
    } else if (Symbol("=")) {
      c.op = QboOp::kEq;
    } else if (Symbol("<")) {
      c.op = QboOp::kLt;
    } else if (Symbol(">")) {
      c.op = QboOp::kGt;
    } else if (Symbol("<=")) {
      c.op = QboOp::kLe;
    } else if (Symbol(">=")) {
      c.op = QboOp::kGe;
    } else {
      return Expected("an operator (=, <, >, <=, >=, IN, LIKE)");
    }
    if (c.op != QboOp::kEq && c.op != QboOp::kLike && !IsTimeField(*field)) {
      return std::string("ordering comparisons apply to times only in concord-fake");
    }
    if (auto error = Literal(*field, c)) return *error;
    return c;
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

// ---- evaluation -----------------------------------------------------------------------------

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// LIKE with '%' as the only wildcard, case-insensitive.
bool Like(std::string_view text, std::string_view pattern) {
  const std::string t = Lower(text);
  const std::string p = Lower(pattern);
  std::size_t ti = 0, pi = 0, star = std::string::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

std::string_view Text(const QboCustomer& c, QboField f) {
  switch (f) {
    case QboField::kId:
      return c.id;
    case QboField::kDisplayName:
      return c.display_name;
    case QboField::kGivenName:
      return c.given_name;
    case QboField::kFamilyName:
      return c.family_name;
    case QboField::kCompanyName:
      return c.company_name;
    case QboField::kActive:
      return c.active ? "true" : "false";
    case QboField::kJob:
      return c.job ? "true" : "false";
    default:
      return {};
  }
}

bool Matches(const QboCustomer& c, const QboCondition& cond) {
  if (IsTimeField(cond.field)) {
    const reconcile::Millis at =
        cond.field == QboField::kLastUpdatedTime ? c.updated_ms : c.created_ms;
    const reconcile::Millis v = cond.times.front();
    switch (cond.op) {
      case QboOp::kEq:
        return at == v;
      case QboOp::kLt:
        return at < v;
      case QboOp::kGt:
        return at > v;
      case QboOp::kLe:
        return at <= v;
      case QboOp::kGe:
        return at >= v;
      default:
        return false;
    }
  }
  const std::string_view text = Text(c, cond.field);
  if (cond.op == QboOp::kLike) return Like(text, cond.values.front());
  return std::any_of(cond.values.begin(), cond.values.end(),
                     [&](const std::string& v) { return v == text; });
}

int Compare(const QboCustomer& a, const QboCustomer& b, QboField f) {
  if (IsTimeField(f)) {
    const auto ta = f == QboField::kLastUpdatedTime ? a.updated_ms : a.created_ms;
    const auto tb = f == QboField::kLastUpdatedTime ? b.updated_ms : b.created_ms;
    return ta < tb ? -1 : (ta > tb ? 1 : 0);
  }
  if (f == QboField::kId) return QboIdLess(a.id, b.id) ? -1 : (QboIdLess(b.id, a.id) ? 1 : 0);
  return Text(a, f).compare(Text(b, f));
}

// ---- responses ------------------------------------------------------------------------------

HttpResponse Respond(const HttpRequest& req, const QboRequestContext& ctx, unsigned status,
                     std::string body, std::string_view content_type = kJson) {
  HttpResponse res = MakeResponse(req, status, content_type, std::move(body), ctx.now_ms);
  res.set("intuit_tid", ctx.intuit_tid);
  return res;
}

// The API's own fault shape (PascalCase).
HttpResponse ApiFault(const HttpRequest& req, const QboRequestContext& ctx, unsigned status,
                      std::string_view type, std::string_view code, std::string_view message,
                      std::string_view detail) {
  json::object error{{"Message", message}, {"Detail", detail}, {"code", code}, {"element", ""}};
  json::object body{{"Fault", json::object{{"Error", json::array{error}}, {"type", type}}},
                    {"time", QboTime(ctx.now_ms)}};
  return Respond(req, ctx, status, json::serialize(body));
}

// The gateway's fault shape (camelCase, extra null members, time in epoch milliseconds).
HttpResponse GatewayFault(const HttpRequest& req, const QboRequestContext& ctx, unsigned status,
                          std::string_view type, std::string_view code, std::string_view message,
                          std::string_view detail) {
  json::object error{
      {"message", message}, {"detail", detail}, {"code", code}, {"element", nullptr}};
  json::object body{{"warnings", nullptr},
                    {"intuitObject", nullptr},
                    {"fault", json::object{{"error", json::array{error}}, {"type", type}}},
                    {"report", nullptr},
                    {"queryResponse", nullptr},
                    {"batchItemResponse", json::array{}},
                    {"attachableResponse", json::array{}},
                    {"syncErrorResponse", nullptr},
                    {"requestId", nullptr},
                    {"time", ctx.now_ms},
                    {"status", nullptr},
                    {"cdcresponse", json::array{}}};
  HttpResponse res = Respond(req, ctx, status, json::serialize(body));
  if (status == 401) res.set(http::field::www_authenticate, "Bearer realm=\"Intuit\"");
  return res;
}

HttpResponse InjectedFailure(const HttpRequest& req, const QboRequestContext& ctx,
                             unsigned status) {
  switch (status) {
    case 401:
      return GatewayFault(req, ctx, 401, "AUTHENTICATION", "3200",
                          "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                          "Token expired: injected by concord-fake");
    case 403:
      return GatewayFault(req, ctx, 403, "SERVICE", "3100",
                          "message=ApplicationAuthorizationFailed; errorCode=003100; "
                          "statusCode=403",
                          "");
    case 429:
      // The throttle fault has been seen as XML even when JSON was asked for.
      return Respond(req, ctx, 429,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                     "<IntuitResponse xmlns=\"http://schema.intuit.com/finance/v3\" time=\"" +
                         QboTime(ctx.now_ms) +
                         "\"><Fault type=\"SERVICE\"><Error code=\"3001\"><Message>"
                         "message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
                         "<Detail>The request limit was reached.  Try again later</Detail>"
                         "</Error></Fault></IntuitResponse>",
                     kXml);
    default:
      return ApiFault(
          req, ctx, status, "SystemFault", status >= 500 ? "10000" : "6000",
          "An application error has occurred while processing your request",
          "System Failure Error: injected by concord-fake (status " + std::to_string(status) + ")");
  }
}

HttpResponse QueryError(const HttpRequest& req, const QboRequestContext& ctx,
                        std::string_view detail) {
  return ApiFault(req, ctx, 400, "ValidationFault", "4000", "Error parsing query",
                  "QueryParserError: " + std::string(detail));
}

}  // namespace

std::variant<QboQuery, std::string> ParseQboQuery(std::string_view statement) {
  auto tokens = Tokenize(statement);
  if (auto* error = std::get_if<std::string>(&tokens)) return *error;
  return Parser(std::get<std::vector<Token>>(std::move(tokens))).Parse();
}

std::string QboTime(reconcile::Millis at) {
  constexpr reconcile::Millis kPacificDaylight = -7 * 3600 * 1000;
  std::string text = connectors::FormatIsoSeconds(at + kPacificDaylight);
  const auto millis = ((at % 1000) + 1000) % 1000;
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(millis));
  return text + fraction + "-07:00";
}

HttpResponse HandleQboRequest(const HttpRequest& req, const QboCompany& company,
                              const QboRequestContext& ctx) {
  const auto fail_status = ctx.fail_status ? ctx.fail_status : company.fail_status;
  if (fail_status) return InjectedFailure(req, ctx, *fail_status);

  const auto token = BearerToken(req);
  if (!token || company.access_token.empty() || *token != company.access_token) {
    return GatewayFault(req, ctx, 401, "AUTHENTICATION", "3200",
                        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "Token invalid or expired");
  }

  const std::string_view target(req.target().data(), req.target().size());
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return QueryError(req, ctx, "malformed request target");
  std::string path = url->path();
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  if (!path.starts_with(kPathPrefix)) {
    return ApiFault(req, ctx, 404, "ValidationFault", "610", "Object Not Found",
                    "concord-fake serves GET /v3/company/{realmId}/query only");
  }
  const std::string_view rest = std::string_view(path).substr(kPathPrefix.size());
  const std::size_t slash = rest.find('/');
  const std::string_view realm = rest.substr(0, slash);
  const std::string_view resource =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (realm != company.realm_id) {
    return GatewayFault(req, ctx, 403, "SERVICE", "3100",
                        "message=ApplicationAuthorizationFailed; errorCode=003100; "
                        "statusCode=403",
                        "the token is not authorised for realm " + std::string(realm));
  }
  if (resource != "query") {
    return ApiFault(req, ctx, 404, "ValidationFault", "610", "Object Not Found",
                    "concord-fake serves GET /v3/company/{realmId}/query only");
  }
  if (req.method() != http::verb::get) {
    HttpResponse res = ApiFault(req, ctx, 405, "ValidationFault", "405", "Method Not Allowed",
                                "concord-fake accepts the query as GET only");
    res.set(http::field::allow, "GET");
    return res;
  }

  std::optional<std::string> statement;
  for (const auto& param : url->params(boost::urls::encoding_opts(true))) {
    if (param.key == "query") {
      statement = std::string(param.value);
    } else if (param.key == "minorversion") {
      if (!ParseInteger(param.value)) {
        return ApiFault(req, ctx, 400, "ValidationFault", "2010",
                        "Request has invalid or "
                        "unsupported property",
                        "minorversion must be an integer, got '" + std::string(param.value) + "'");
      }
    }
  }
  if (!statement) return QueryError(req, ctx, "the request has no query parameter");
  auto parsed = ParseQboQuery(*statement);
  if (auto* error = std::get_if<std::string>(&parsed)) return QueryError(req, ctx, *error);
  const QboQuery& q = std::get<QboQuery>(parsed);

  if (!AcceptsJson(req)) {
    // QBO answers XML unless JSON is asked for; the fake's XML carries no customers.
    return Respond(req, ctx, 200,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                   "<IntuitResponse xmlns=\"http://schema.intuit.com/finance/v3\" time=\"" +
                       QboTime(ctx.now_ms) + "\"><QueryResponse/></IntuitResponse>",
                   kXml);
  }

  // Name lists hide inactive rows unless the query asks about Active.
  const bool asks_active = std::any_of(q.where.begin(), q.where.end(), [](const QboCondition& c) {
    return c.field == QboField::kActive;
  });
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < company.customers.size(); ++i) {
    const QboCustomer& c = company.customers[i];
    if (!asks_active && !c.active) continue;
    if (std::all_of(q.where.begin(), q.where.end(),
                    [&](const QboCondition& cond) { return Matches(c, cond); })) {
      rows.push_back(i);
    }
  }
  const std::string time = QboTime(ctx.now_ms);
  if (q.count) {
    json::object body{{"QueryResponse", json::object{{"totalCount", rows.size()}}}, {"time", time}};
    return Respond(req, ctx, 200, json::serialize(body));
  }
  if (!q.order.empty()) {
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
      for (const QboOrder& o : q.order) {
        const int cmp = Compare(company.customers[a], company.customers[b], o.field);
        if (cmp != 0) return o.descending ? cmp > 0 : cmp < 0;
      }
      return false;
    });
  }
  const std::size_t skip = std::min(rows.size(), static_cast<std::size_t>(q.start_position - 1));
  const std::size_t take = std::min(rows.size() - skip, static_cast<std::size_t>(q.max_results));

  std::string body = R"({"QueryResponse":{)";
  if (take > 0) {
    body += R"("Customer":[)";
    for (std::size_t i = 0; i < take; ++i) {
      if (i > 0) body.push_back(',');
      body += company.customers[rows[skip + i]].json;
    }
    body += R"(],"startPosition":)" + std::to_string(q.start_position) + R"(,"maxResults":)" +
            std::to_string(take);
  }
  body += R"(},"time":")" + time + R"("})";
  return Respond(req, ctx, 200, std::move(body));
}

}  // namespace concord::fake
