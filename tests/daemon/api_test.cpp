// The admin API as a pure function: routing, the auth matrix, validation and error mapping,
// against a hand-written fake backend. Also checks the router against docs/api.yaml.

#include "daemon/api.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace concord::daemon {
namespace {
namespace json = boost::json;

constexpr const char* kAdmin = "Bearer admin-secret";
constexpr const char* kRead = "Bearer read-secret";

class FakeBackend final : public ApiBackend {
 public:
  bool HasTenant(const std::string& tenant) override { return tenant == "acme"; }
  std::string NotReadyReason() override { return not_ready; }
  std::string MetricsText() override { return "# HELP x y\n"; }
  StartResult StartSync(const std::string& tenant, const SyncParams& params) override {
    last_tenant = tenant;
    last_sync = params;
    if (busy) return {false, json::object{{"id", 7}, {"status", "running"}}};
    return {true, json::object{{"id", 8}, {"status", "running"}}};
  }
  json::array Runs(const std::string&, std::int64_t before, int limit) override {
    last_before = before;
    last_limit = limit;
    json::array out;
    for (int i = 0; i < limit && i < 3; ++i) out.push_back(json::object{{"id", 10 - i}});
    return out;
  }
  std::optional<json::object> Run(std::int64_t id) override {
    if (id != 8) return std::nullopt;
    return json::object{{"id", 8}};
  }
  std::optional<json::array> Events(std::int64_t id, const std::optional<std::string>& kind,
                                    int after, int limit) override {
    if (id != 8) return std::nullopt;
    last_kind = kind;
    last_after = after;
    last_limit = limit;
    return json::array{json::object{{"seq", 1}, {"kind", "created"}}};
  }
  std::optional<json::value> Plan(std::int64_t id) override {
    if (id == 8) return json::value(json::array{});
    if (id == 9) return json::value(nullptr);
    return std::nullopt;
  }
  json::array OpenReview(const std::string&) override { return {}; }
  json::object ResolveReview(std::int64_t id, const ReviewAction& action) override {
    if (id == 404) throw ApiError(404, "unknown_review_item", "no such item");
    last_action = action;
    return {{"review_id", id}};
  }
  json::array Persons(const std::string&, const std::string& email) override {
    last_email = email;
    return {};
  }
  json::object UndoMerge(std::int64_t id) override {
    if (id == 13) throw std::runtime_error("database on fire at 10.0.0.3");
    return {{"merge_id", id}};
  }
  // acme takes Xero webhooks, globex QBO ones; initech (MYOB) none.
  std::optional<WebhookSubscription> Webhook(const std::string& tenant, WebhookSource source,
                                             std::string& why) override {
    if (tenant == "acme" && source == WebhookSource::kXero) {
      return WebhookSubscription{kXeroKey, "b5a3c1d2-0000-4000-8000-000000000001"};
    }
    if (tenant == "globex" && source == WebhookSource::kQbo) {
      return WebhookSubscription{kQboKey, "9130350000000001"};
    }
    why = "no subscription for " + tenant;
    return std::nullopt;
  }
  void QueueWebhookRun(const std::string& tenant) override { queued.push_back(tenant); }

  static constexpr const char* kXeroKey = "xero-webhook-key";
  static constexpr const char* kQboKey = "intuit-verifier";
  std::vector<std::string> queued;

  std::string not_ready;
  bool busy = false;
  std::string last_tenant, last_email;
  SyncParams last_sync;
  std::optional<std::string> last_kind;
  int last_after = -1, last_limit = -1;
  std::int64_t last_before = -1;
  ReviewAction last_action;
};

class ApiTest : public ::testing::Test {
 protected:
  ApiResponse Call(std::string method, std::string target, std::string auth = kAdmin,
                   std::string body = "") {
    return HandleApiRequest(
        {std::move(method), std::move(target), std::move(auth), std::move(body), "", ""}, tokens_,
        backend_);
  }
  static std::string Code(const ApiResponse& r) {
    return std::string(json::parse(r.body).at("error").at("code").as_string());
  }
  static std::string Message(const ApiResponse& r) {
    return std::string(json::parse(r.body).at("error").at("message").as_string());
  }

  Tokens tokens_{{"admin-secret"}, {"read-secret"}};
  FakeBackend backend_;
};

TEST(ConstantTimeEqualsTest, ComparesContentsAndLengths) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(TokensTest, GrantsByToken) {
  Tokens tokens({"a1", "a2"}, {"r1"});
  EXPECT_EQ(tokens.Check("Bearer a2"), Tokens::Grant::kAdmin);
  EXPECT_EQ(tokens.Check("bearer a1"), Tokens::Grant::kAdmin);
  EXPECT_EQ(tokens.Check("Bearer r1"), Tokens::Grant::kRead);
  EXPECT_EQ(tokens.Check("Bearer r"), Tokens::Grant::kNone);
  EXPECT_EQ(tokens.Check("Basic a1"), Tokens::Grant::kNone);
  EXPECT_EQ(tokens.Check("Bearer "), Tokens::Grant::kNone);
  EXPECT_EQ(tokens.Check(""), Tokens::Grant::kNone);
  EXPECT_EQ(Tokens({}, {}).Check("Bearer "), Tokens::Grant::kNone);
}

TEST_F(ApiTest, HealthAndReadinessNeedNoToken) {
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(Call("GET", "/readyz", "").status, 200);
  backend_.not_ready = "the database is unreachable";
  auto r = Call("GET", "/readyz", "");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Code(r), "not_ready");
}

// Every route: no token → 401, wrong token → 401, read token → 403 on writes, admin → not
// an auth error.
TEST_F(ApiTest, AuthMatrix) {
  for (const auto& route : Routes()) {
    std::string target =
        std::regex_replace(std::string(route.pattern), std::regex(R"(\{tenant\})"), "acme");
    target = std::regex_replace(target, std::regex(R"(\{id\})"), "8");
    SCOPED_TRACE(std::string(route.method) + " " + target);
    if (route.access == Access::kPublic) {
      EXPECT_NE(Call(std::string(route.method), target, "").status, 401);
      continue;
    }
    if (route.access == Access::kSigned) {
      // The signature is the credential (WebhookTest): a bearer token is no substitute.
      EXPECT_NE(Call(std::string(route.method), target, kAdmin).status, 200);
      EXPECT_TRUE(backend_.queued.empty());
      continue;
    }
    EXPECT_EQ(Call(std::string(route.method), target, "").status, 401);
    EXPECT_EQ(Call(std::string(route.method), target, "Bearer nope").status, 401);
    auto as_reader = Call(std::string(route.method), target, kRead);
    if (route.access == Access::kWrite) {
      EXPECT_EQ(as_reader.status, 403);
      EXPECT_EQ(Code(as_reader), "forbidden");
    } else {
      EXPECT_NE(as_reader.status, 403);
      EXPECT_NE(as_reader.status, 401);
    }
    auto as_admin = Call(std::string(route.method), target, kAdmin);
    EXPECT_NE(as_admin.status, 401);
    EXPECT_NE(as_admin.status, 403);
  }
}

TEST_F(ApiTest, UnknownRoutesAndMethods) {
  auto r = Call("GET", "/v2/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.route, "unmatched");
  auto m = Call("DELETE", "/v1/syncs/8");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(Code(m), "method_not_allowed");
}

TEST_F(ApiTest, StartSyncParsesTheBody) {
  auto r = Call("POST", "/v1/tenants/acme/syncs", kAdmin,
                R"({"mode":"full","dry_run":true,"confirm_deletes":false})");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.route, "POST /v1/tenants/{tenant}/syncs");
  EXPECT_EQ(json::parse(r.body).at("id"), 8);
  EXPECT_TRUE(backend_.last_sync.full);
  EXPECT_TRUE(backend_.last_sync.dry_run);
  EXPECT_FALSE(backend_.last_sync.confirm_deletes);
  // An empty body is an incremental run.
  EXPECT_EQ(Call("POST", "/v1/tenants/acme/syncs").status, 202);
  EXPECT_FALSE(backend_.last_sync.full);
}

TEST_F(ApiTest, StartSyncNamesTheBadField) {
  struct Case {
    std::string body, code;
  };
  for (const auto& c : std::vector<Case>{{R"({"mode":"sometimes"})", "invalid_mode"},
                                         {R"({"mode":1})", "invalid_mode"},
                                         {R"({"dry_run":"yes"})", "invalid_dry_run"},
                                         {R"({"confirm_deletes":1})", "invalid_confirm_deletes"},
                                         {R"({"colour":"red"})", "invalid_colour"},
                                         {R"([1,2])", "invalid_json"},
                                         {R"({"mode":)", "invalid_json"}}) {
    SCOPED_TRACE(c.body);
    auto r = Call("POST", "/v1/tenants/acme/syncs", kAdmin, c.body);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Code(r), c.code);
  }
}

TEST_F(ApiTest, StartSyncWhileRunningIs409WithTheRun) {
  backend_.busy = true;
  auto r = Call("POST", "/v1/tenants/acme/syncs");
  EXPECT_EQ(r.status, 409);
  auto body = json::parse(r.body);
  EXPECT_EQ(body.at("error").at("code"), "run_in_progress");
  EXPECT_EQ(body.at("run").at("id"), 7);
}

TEST_F(ApiTest, UnknownTenantAndRunAre404) {
  EXPECT_EQ(Code(Call("POST", "/v1/tenants/nobody/syncs")), "unknown_tenant");
  EXPECT_EQ(Call("GET", "/v1/tenants/nobody/syncs").status, 404);
  EXPECT_EQ(Call("GET", "/v1/tenants/nobody/review").status, 404);
  EXPECT_EQ(Call("GET", "/v1/tenants/nobody/persons?email=a@b.example").status, 404);
  EXPECT_EQ(Code(Call("GET", "/v1/syncs/99")), "unknown_run");
  EXPECT_EQ(Call("GET", "/v1/syncs/99/events").status, 404);
  EXPECT_EQ(Call("GET", "/v1/syncs/99/plan").status, 404);
  EXPECT_EQ(Code(Call("GET", "/v1/syncs/9/plan")), "no_plan");
  EXPECT_EQ(Call("GET", "/v1/syncs/8/plan").status, 200);
}

TEST_F(ApiTest, IdsMustBePositiveIntegers) {
  for (std::string id : {"0", "-1", "abc", "1x", "99999999999999999999"}) {
    SCOPED_TRACE(id);
    auto r = Call("GET", "/v1/syncs/" + id);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Code(r), "invalid_id");
  }
}

TEST_F(ApiTest, EventsFilterAndPage) {
  auto r = Call("GET", "/v1/syncs/8/events?kind=created&after=5&limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(backend_.last_kind, "created");
  EXPECT_EQ(backend_.last_after, 5);
  EXPECT_EQ(backend_.last_limit, 1);
  EXPECT_EQ(json::parse(r.body).at("next_after"), 1);
  EXPECT_EQ(Code(Call("GET", "/v1/syncs/8/events?limit=0")), "invalid_limit");
  EXPECT_EQ(Code(Call("GET", "/v1/syncs/8/events?limit=5000")), "invalid_limit");
  EXPECT_EQ(Code(Call("GET", "/v1/syncs/8/events?colour=red")), "invalid_query");
  Call("GET", "/v1/syncs/8/events");
  EXPECT_EQ(backend_.last_kind, std::nullopt);
  EXPECT_EQ(backend_.last_after, 0);
  EXPECT_EQ(backend_.last_limit, 100);
}

TEST_F(ApiTest, RunsArePaged) {
  auto r = Call("GET", "/v1/tenants/acme/syncs?limit=2&before=50");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(backend_.last_before, 50);
  EXPECT_EQ(json::parse(r.body).at("next_before"), 9);
  auto all = Call("GET", "/v1/tenants/acme/syncs");
  EXPECT_TRUE(json::parse(all.body).at("next_before").is_null());
}

TEST_F(ApiTest, ReviewResolution) {
  EXPECT_EQ(Call("POST", "/v1/review/3", kAdmin, R"({"action":"dismiss"})").status, 200);
  EXPECT_EQ(backend_.last_action.action, "dismiss");
  auto link = Call("POST", "/v1/review/3", kAdmin, R"({"action":"link","person_id":"p-1"})");
  EXPECT_EQ(link.status, 200);
  EXPECT_EQ(backend_.last_action.person_id, "p-1");
  EXPECT_EQ(Code(Call("POST", "/v1/review/3", kAdmin, R"({"action":"link"})")),
            "invalid_person_id");
  EXPECT_EQ(Code(Call("POST", "/v1/review/3", kAdmin, R"({"action":"merge"})")), "invalid_action");
  EXPECT_EQ(Code(Call("POST", "/v1/review/3", kAdmin, R"({})")), "invalid_action");
  EXPECT_EQ(Code(Call("POST", "/v1/review/3", kAdmin, "")), "invalid_json");
  EXPECT_EQ(Call("POST", "/v1/review/404", kAdmin, R"({"action":"dismiss"})").status, 404);
}

TEST_F(ApiTest, PersonsByEmailKeepsPlusAndDecodes) {
  EXPECT_EQ(Call("GET", "/v1/tenants/acme/persons?email=ann%2Btag@x.example").status, 200);
  EXPECT_EQ(backend_.last_email, "ann+tag@x.example");
  Call("GET", "/v1/tenants/acme/persons?email=ann+tag@x.example");
  EXPECT_EQ(backend_.last_email, "ann+tag@x.example");
  EXPECT_EQ(Code(Call("GET", "/v1/tenants/acme/persons")), "invalid_email");
  EXPECT_EQ(Code(Call("GET", "/v1/tenants/acme/persons?email=%zz")), "invalid_query");
}

TEST_F(ApiTest, InternalErrorsHideTheDetail) {
  auto r = Call("POST", "/v1/merges/13/undo");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Code(r), "internal");
  EXPECT_EQ(Message(r).find("10.0.0.3"), std::string::npos);
  EXPECT_NE(r.detail.find("10.0.0.3"), std::string::npos);
}

TEST_F(ApiTest, MetricsAreText) {
  auto r = Call("GET", "/metrics", kRead);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.content_type.starts_with("text/plain; version=0.0.4"));
}

class WebhookTest : public ApiTest {
 protected:
  ApiResponse Xero(const std::string& tenant, const std::string& body,
                   const std::string& signature) {
    return HandleApiRequest({"POST", "/v1/webhooks/xero/" + tenant, "", body, signature, ""},
                            tokens_, backend_);
  }
  ApiResponse Qbo(const std::string& tenant, const std::string& body,
                  const std::string& signature) {
    return HandleApiRequest({"POST", "/v1/webhooks/qbo/" + tenant, "", body, "", signature},
                            tokens_, backend_);
  }
  static std::string Outcome(const ApiResponse& r) {
    return r.webhook ? r.webhook->outcome : "(no receipt)";
  }

  const std::string handshake_ =
      R"({"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"})";
  const std::string contact_ =
      R"({"events":[{"resourceId":"c-1","eventType":"UPDATE","eventCategory":"CONTACT",)"
      R"("tenantId":"b5a3c1d2-0000-4000-8000-000000000001"}],"entropy":"x"})";
};

// Intent to receive: 200 for a good signature, 401 for a bad one, both with empty bodies.
TEST_F(WebhookTest, XeroHandshake) {
  auto good = Xero("acme", handshake_, WebhookSignature(FakeBackend::kXeroKey, handshake_));
  EXPECT_EQ(good.status, 200);
  EXPECT_EQ(good.body, "");
  EXPECT_EQ(good.content_type, "");
  EXPECT_EQ(Outcome(good), "ignored");
  EXPECT_EQ(good.route, "POST /v1/webhooks/xero/{tenant}");
  auto bad = Xero("acme", handshake_, WebhookSignature("another-key", handshake_));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body, "");
  EXPECT_EQ(Outcome(bad), "bad_signature");
  EXPECT_EQ(Xero("acme", handshake_, "").status, 401);
  EXPECT_TRUE(backend_.queued.empty());
}

TEST_F(WebhookTest, XeroContactEventQueuesARun) {
  auto r = Xero("acme", contact_, WebhookSignature(FakeBackend::kXeroKey, contact_));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(Outcome(r), "accepted");
  EXPECT_EQ(r.webhook->tenant, "acme");
  EXPECT_EQ(r.webhook->notice.contact_changes, 1);
  EXPECT_EQ(backend_.queued, std::vector<std::string>{"acme"});
  // The same body signed for another key queues nothing.
  EXPECT_EQ(Xero("acme", contact_, WebhookSignature("x", contact_)).status, 401);
  EXPECT_EQ(backend_.queued.size(), 1u);
}

TEST_F(WebhookTest, QboBothShapes) {
  const std::string classic =
      R"({"eventNotifications":[{"realmId":"9130350000000001","dataChangeEvent":{"entities":[)"
      R"({"name":"Customer","id":"58","operation":"Update"}]}}]})";
  const std::string cloud =
      R"([{"specversion":"1.0","id":"1","type":"qbo.customer.created.v1",)"
      R"("intuitentityid":"58","intuitaccountid":"9130350000000001","data":{}}])";
  const std::string invoice = R"([{"specversion":"1.0","id":"2","type":"qbo.invoice.created.v1",)"
                              R"("intuitaccountid":"9130350000000001"}])";
  for (const auto& body : {classic, cloud}) {
    SCOPED_TRACE(body);
    auto r = Qbo("globex", body, WebhookSignature(FakeBackend::kQboKey, body));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Outcome(r), "accepted");
  }
  EXPECT_EQ(backend_.queued, (std::vector<std::string>{"globex", "globex"}));
  auto ignored = Qbo("globex", invoice, WebhookSignature(FakeBackend::kQboKey, invoice));
  EXPECT_EQ(ignored.status, 200);
  EXPECT_EQ(Outcome(ignored), "ignored");
  auto bad = Qbo("globex", classic, WebhookSignature(FakeBackend::kXeroKey, classic));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(Outcome(bad), "bad_signature");
  EXPECT_EQ(backend_.queued.size(), 2u);
}

// Unknown tenant, another finance system, no key: one 404 that does not say which (the route
// takes no token); the reason is only logged.
TEST_F(WebhookTest, NoSubscriptionIs404WithTheReasonLogged) {
  for (const auto& [source, tenant] : std::vector<std::pair<std::string, std::string>>{
           {"xero", "nobody"}, {"xero", "globex"}, {"qbo", "acme"}, {"qbo", "initech"}}) {
    SCOPED_TRACE(source + " " + tenant);
    auto r = source == "xero" ? Xero(tenant, handshake_, "sig") : Qbo(tenant, handshake_, "sig");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Code(r), "unknown_tenant");
    EXPECT_EQ(Message(r).find(tenant), std::string::npos);
    EXPECT_EQ(Outcome(r), "unknown_tenant");
    EXPECT_EQ(r.detail, "no subscription for " + tenant);
  }
  EXPECT_TRUE(backend_.queued.empty());
}

TEST_F(WebhookTest, SignedButNotAPayloadIs400) {
  const std::string body = R"({"hello":"world"})";
  auto r = Xero("acme", body, WebhookSignature(FakeBackend::kXeroKey, body));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "invalid_payload");
  EXPECT_EQ(Outcome(r), "invalid_payload");
  EXPECT_TRUE(backend_.queued.empty());
}

// docs/api.yaml (OpenAPI 3) lists exactly the routes the router serves.
TEST(ApiSpecTest, RouterMatchesOpenApi) {
  std::ifstream in(CONCORD_API_YAML);
  ASSERT_TRUE(in) << CONCORD_API_YAML;
  std::set<std::string> documented;
  std::string line, path;
  bool in_paths = false;
  const std::regex path_line(R"(^  (/[^:]*):\s*$)");
  const std::regex method_line(R"(^    (get|post|put|patch|delete):\s*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind("paths:", 0) == 0) {
      in_paths = true;
      continue;
    }
    if (in_paths && !line.empty() && line[0] != ' ' && line[0] != '#') in_paths = false;
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (std::regex_match(line, m, method_line)) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(method + " " + path);
    }
  }
  std::set<std::string> served;
  for (const auto& r : Routes())
    served.insert(std::string(r.method) + " " + std::string(r.pattern));
  EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace concord::daemon
