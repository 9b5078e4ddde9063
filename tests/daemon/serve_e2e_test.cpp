// `concord serve` end to end, over real sockets: the binary + concord-fake + PostgreSQL.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <thread>

#include "store/pg.hpp"
#include "tests/store/test_database.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace concord {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::ChildOptions;
using test_support::ChildProcess;

constexpr const char* kXeroTenant = "b5a3c1d2-0000-4000-8000-000000000001";
constexpr const char* kXeroToken = "xero-token-e2e";
constexpr const char* kScimToken = "scim-token-e2e";
constexpr const char* kQboToken = "qbo-token-e2e";
constexpr const char* kRealm = "9130350000000001";
constexpr const char* kAdmin = "Bearer admin-token-e2e";
constexpr const char* kRead = "Bearer read-token-e2e";

struct Reply {
  int status = 0;
  std::string body;
  json::value Json() const { return json::parse(body); }
};

// One request on a fresh connection; a 10-second deadline covers the exchange. `header`, when
// given, is sent as well (a webhook's signature).
Reply Call(int port, http::verb method, const std::string& target, const std::string& auth = "",
           const std::string& body = "", const std::pair<std::string, std::string>& header = {}) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(10s);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<unsigned short>(port)));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!auth.empty()) req.set(http::field::authorization, auth);
  if (!header.first.empty()) req.set(header.first, header.second);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

Reply Get(int port, const std::string& target, const std::string& auth = kRead) {
  return Call(port, http::verb::get, target, auth);
}
Reply Post(int port, const std::string& target, const std::string& body,
           const std::string& auth = kAdmin) {
  return Call(port, http::verb::post, target, auth, body);
}

std::string XeroDate(std::int64_t ms) { return "/Date(" + std::to_string(ms) + "+0000)/"; }

const std::int64_t kEarlier = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count() -
                              3'600'000;

json::object Contact(std::string id, std::string first, std::string email) {
  return {{"ContactID", id},
          {"ContactStatus", "ACTIVE"},
          {"Name", first + " Ltd"},
          {"FirstName", first},
          {"LastName", "Example"},
          {"EmailAddress", email},
          {"ContactPersons", json::array{}},
          {"UpdatedDateUTC", XeroDate(kEarlier)}};
}

json::object User(std::string id, std::string email) {
  return {{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
          {"id", id},
          {"userName", email},
          {"name", {{"givenName", "Ann"}, {"familyName", "Example"}}},
          {"displayName", "Ann Example"},
          {"active", true},
          {"emails", json::array{json::object{{"value", email}, {"primary", true}}}},
          {"meta", {{"resourceType", "User"}, {"lastModified", "2026-01-15T23:40:11Z"}}}};
}

json::object QboCustomer(std::string id, std::string given, std::string email) {
  return {{"Id", id},
          {"SyncToken", "0"},
          {"DisplayName", given + " Ltd"},
          {"GivenName", given},
          {"FamilyName", "Example"},
          {"CompanyName", given + " Ltd"},
          {"Active", true},
          {"Job", false},
          {"PrimaryEmailAddr", {{"Address", email}}},
          {"MetaData",
           {{"CreateTime", "2026-01-15T10:00:00-08:00"},
            {"LastUpdatedTime", "2026-01-15T10:00:00-08:00"}}}};
}

class ServeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json::object xero{{"tenant_id", kXeroTenant},
                      {"access_token", kXeroToken},
                      {"contacts", json::array{Contact("c-ann", "Ann", "ann@one.example"),
                                               Contact("c-bob", "Bob", "bob@two.example"),
                                               Contact("c-cat", "Cat", "cat@three.example")}}};
    // A QuickBooks company too, for the tenant the QBO webhook test adds.
    json::object qbo{{"realm_id", kRealm},
                     {"access_token", kQboToken},
                     {"customers", json::array{QboCustomer("58", "Eve", "eve@four.example")}}};
    json::object scim{{"token", kScimToken},
                      {"users", json::array{User("u-ann", "ANN@one.example"),
                                            User("u-dan", "dan@portal.example")}}};
    test_support::WriteFile(
        tmp_.File("data.json"),
        json::serialize(json::object{{"xero", xero}, {"qbo", qbo}, {"scim", scim}}));
    fake_.emplace(ChildOptions{.argv = {CONCORD_FAKE_BIN, "--data", tmp_.File("data.json")}});
    auto ready = json::parse(fake_->ReadLine(10s)).as_object();
    const auto xero_port = ready.at("xero_port").as_int64();
    const auto scim_port = ready.at("scim_port").as_int64();
    qbo_port_ = ready.at("qbo_port").as_int64();
    std::string toml = "[database]\nurl = \"" + db_.url() +
                       "\"\n"
                       "[http]\nlisten = \"127.0.0.1:0\"\n"
                       "admin_tokens = [\"env:E2E_ADMIN_TOKEN\"]\n"
                       "read_tokens = [\"env:E2E_READ_TOKEN\"]\n"
                       "[[tenant]]\nid = \"acme\"\ninterval = \"1h\"\n"
                       "[tenant.finance]\nkind = \"xero\"\n"
                       "base_url = \"http://127.0.0.1:" +
                       std::to_string(xero_port) +
                       "/api.xro/2.0\"\n"
                       "access_token = \"env:E2E_XERO_TOKEN\"\n"
                       "xero_tenant_id = \"" +
                       std::string(kXeroTenant) +
                       "\"\n"
                       "[tenant.portal]\nkind = \"scim\"\n"
                       "base_url = \"http://127.0.0.1:" +
                       std::to_string(scim_port) +
                       "/scim/v2\"\n"
                       "token = \"env:E2E_SCIM_TOKEN\"\n";
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  ChildOptions ServeOptions(std::vector<std::string> extra = {},
                            std::map<std::string, std::string> env = {}) {
    ChildOptions options;
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml"), "serve"};
    options.argv.insert(options.argv.end(), extra.begin(), extra.end());
    options.env = {{"E2E_XERO_TOKEN", kXeroToken},
                   {"E2E_QBO_TOKEN", kQboToken},
                   {"E2E_XERO_WEBHOOK_KEY", "xero-webhook-key-e2e"},
                   {"E2E_QBO_VERIFIER", "intuit-verifier-e2e"},
                   {"E2E_SCIM_TOKEN", kScimToken},
                   {"E2E_ADMIN_TOKEN", "admin-token-e2e"},
                   {"E2E_READ_TOKEN", "read-token-e2e"}};
    for (auto& [k, v] : env) options.env[k] = v;
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    return options;
  }

  // Starts `concord serve --migrate` and returns its port.
  int StartServe(std::map<std::string, std::string> env = {}) {
    serve_.emplace(ServeOptions({"--migrate"}, std::move(env)));
    auto ready = json::parse(serve_->ReadLine(30s)).as_object();
    EXPECT_EQ(ready.at("event"), "listening");
    return static_cast<int>(ready.at("port").as_int64());
  }

  // Polls the run until it is no longer running.
  json::object WaitForRun(int port, std::int64_t id) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      auto reply = Get(port, "/v1/syncs/" + std::to_string(id));
      EXPECT_EQ(reply.status, 200) << reply.body;
      auto run = reply.Json().as_object();
      if (run.at("status") != "running") return run;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "run " << id << " still running";
        return run;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  void SetInterval(const std::string& interval) {
    auto toml = test_support::ReadFile(tmp_.File("concord.toml"));
    auto at = toml.find("interval = \"1h\"");
    ASSERT_NE(at, std::string::npos);
    toml.replace(at, std::string("interval = \"1h\"").size(), "interval = \"" + interval + "\"");
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  // Puts a [scheduler] table with this many concurrent runs in front of the tenants.
  void SetConcurrentRuns(int runs) {
    auto toml = test_support::ReadFile(tmp_.File("concord.toml"));
    auto at = toml.find("[[tenant]]");
    ASSERT_NE(at, std::string::npos);
    toml.insert(at, "[scheduler]\nconcurrent_runs = " + std::to_string(runs) + "\n\n");
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  // Appends `copies` more tenants configured like "acme" (acme-1, acme-2, ...).
  void AddTenantCopies(int copies) {
    auto toml = test_support::ReadFile(tmp_.File("concord.toml"));
    const auto block = toml.substr(toml.find("[[tenant]]"));
    for (int i = 1; i <= copies; ++i) {
      auto copy = block;
      copy.replace(copy.find("id = \"acme\""), std::string("id = \"acme\"").size(),
                   "id = \"acme-" + std::to_string(i) + "\"");
      toml += copy;
    }
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  std::int64_t QueryInt(const std::string& sql) {
    store::Connection conn({.url = db_.url()});
    auto result = conn.Exec(sql);
    return result.Rows() == 0 || result.IsNull(0, 0) ? -1 : result.Int(0, 0);
  }

  // Gives tenant "acme" its Xero webhook key.
  void AddXeroWebhookKey() {
    auto toml = test_support::ReadFile(tmp_.File("concord.toml"));
    const std::string after = "xero_tenant_id = \"" + std::string(kXeroTenant) + "\"\n";
    toml.insert(toml.find(after) + after.size(), "webhook_key = \"env:E2E_XERO_WEBHOOK_KEY\"\n");
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  // Adds tenant "globex" on the fake's QuickBooks company, with a verifier token.
  void AddQboTenant() {
    auto toml = test_support::ReadFile(tmp_.File("concord.toml"));
    const auto portal = toml.substr(toml.find("[tenant.portal]"));
    toml +=
        "[[tenant]]\nid = \"globex\"\ninterval = \"1h\"\n[tenant.finance]\nkind = \"qbo\"\n"
        "base_url = \"http://127.0.0.1:" +
        std::to_string(qbo_port_) + "\"\nrealm_id = \"" + kRealm +
        "\"\naccess_token = \"env:E2E_QBO_TOKEN\"\n"
        "verifier_token = \"env:E2E_QBO_VERIFIER\"\n" +
        portal;
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  // The tenant's runs, newest first.
  json::array Runs(int port, const std::string& tenant) {
    return Get(port, "/v1/tenants/" + tenant + "/syncs").Json().at("runs").as_array();
  }

  // How many of them a webhook triggered (a scheduled run may start at any moment).
  std::size_t WebhookRuns(int port, const std::string& tenant) {
    std::size_t n = 0;
    for (const auto& r : Runs(port, tenant)) n += r.at("trigger") == "webhook";
    return n;
  }

  // Waits for a finished run with trigger "webhook" of the tenant and returns it.
  json::object WaitForWebhookRun(int port, const std::string& tenant) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      for (const auto& r : Runs(port, tenant)) {
        if (r.at("trigger") == "webhook") return WaitForRun(port, r.at("id").as_int64());
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no webhook run of " << tenant;
        return {};
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  test_support::TempDir tmp_;
  testing::TestDatabase db_;
  std::int64_t qbo_port_ = 0;
  std::optional<ChildProcess> fake_;
  std::optional<ChildProcess> serve_;
};

TEST_F(ServeE2eTest, RefusesAnOldSchemaWithoutMigrate) {
  ChildProcess child(ServeOptions());
  EXPECT_EQ(child.Wait(), 2);
  EXPECT_NE(child.Stderr().find("--migrate"), std::string::npos) << child.Stderr();
}

TEST_F(ServeE2eTest, HealthReadinessAndAuthMatrix) {
  const int port = StartServe();
  EXPECT_EQ(Get(port, "/healthz", "").status, 200);
  auto ready = Get(port, "/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;

  EXPECT_EQ(Get(port, "/metrics", "").status, 401);
  EXPECT_EQ(Get(port, "/metrics", "Bearer wrong").status, 401);
  EXPECT_EQ(Get(port, "/metrics", kRead).status, 200);
  EXPECT_EQ(Get(port, "/v1/tenants/acme/syncs", "").status, 401);
  EXPECT_EQ(Get(port, "/v1/tenants/acme/syncs", kRead).status, 200);
  auto forbidden = Post(port, "/v1/tenants/acme/syncs", "{}", kRead);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.Json().at("error").at("code"), "forbidden");
  EXPECT_EQ(Post(port, "/v1/review/1", R"({"action":"dismiss"})", kRead).status, 403);
  EXPECT_EQ(Post(port, "/v1/review/1", R"({"action":"dismiss"})", "").status, 401);

  auto unknown = Get(port, "/v1/tenants/nobody/syncs");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Json().at("error").at("code"), "unknown_tenant");
  EXPECT_EQ(Get(port, "/v1/syncs/424242").status, 404);
  EXPECT_EQ(Post(port, "/v1/review/424242", R"({"action":"dismiss"})").status, 404);
  auto bad = Post(port, "/v1/tenants/acme/syncs", R"({"mode":"sideways"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json().at("error").at("code"), "invalid_mode");
}

TEST_F(ServeE2eTest, OversizeBodyIs413) {
  const int port = StartServe();
  // The header announces 2 MiB; the server answers before the body is sent.
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(10s);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<unsigned short>(port)));
  const std::string head =
      "POST /v1/tenants/acme/syncs HTTP/1.1\r\nHost: x\r\n"
      "Authorization: " +
      std::string(kAdmin) +
      "\r\nContent-Type: application/json\r\n"
      "Content-Length: 2097152\r\n\r\n{\"mode\":";
  asio::write(stream, asio::buffer(head));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_EQ(json::parse(res.body()).at("error").at("code"), "body_too_large");
  EXPECT_FALSE(res.keep_alive());
  // The server is still there.
  EXPECT_EQ(Get(port, "/healthz", "").status, 200);
}

TEST_F(ServeE2eTest, SyncStartedOverHttpIsVisibleWithCountsAndEvents) {
  const int port = StartServe();
  auto started = Post(port, "/v1/tenants/acme/syncs", R"({"mode":"full"})");
  ASSERT_EQ(started.status, 202) << started.body;
  const auto id = started.Json().at("id").as_int64();
  EXPECT_EQ(started.Json().at("trigger"), "manual");
  EXPECT_EQ(started.Json().at("mode"), "full");

  auto run = WaitForRun(port, id);
  EXPECT_EQ(run.at("status"), "succeeded") << json::serialize(run);
  EXPECT_EQ(run.at("counts").at("fetched_finance"), 3);
  EXPECT_EQ(run.at("counts").at("fetched_portal"), 2);
  EXPECT_FALSE(run.at("finished_at").is_null());

  auto runs = Get(port, "/v1/tenants/acme/syncs");
  ASSERT_EQ(runs.status, 200);
  EXPECT_EQ(runs.Json().at("runs").as_array().at(0).at("id"), id);

  auto events = Get(port, "/v1/syncs/" + std::to_string(id) + "/events");
  ASSERT_EQ(events.status, 200) << events.body;
  EXPECT_GE(events.Json().at("events").as_array().size(), 4u);
  auto linked = Get(port, "/v1/syncs/" + std::to_string(id) + "/events?kind=linked");
  ASSERT_EQ(linked.status, 200);
  const auto linked_events = linked.Json().at("events").as_array();
  for (const auto& e : linked_events) EXPECT_EQ(e.at("kind"), "linked");
  EXPECT_FALSE(linked_events.empty());
  auto page = Get(port, "/v1/syncs/" + std::to_string(id) + "/events?limit=1");
  EXPECT_EQ(page.Json().at("events").as_array().size(), 1u);
  EXPECT_EQ(page.Json().at("next_after"), 1);

  auto persons = Get(port, "/v1/tenants/acme/persons?email=Ann@One.example");
  ASSERT_EQ(persons.status, 200) << persons.body;
  EXPECT_EQ(persons.Json().at("persons").as_array().size(), 1u);
  EXPECT_EQ(Get(port, "/v1/tenants/acme/review").status, 200);
  EXPECT_EQ(Get(port, "/v1/syncs/" + std::to_string(id) + "/plan").status, 404);

  auto dry = Post(port, "/v1/tenants/acme/syncs", R"({"dry_run":true})");
  ASSERT_EQ(dry.status, 202) << dry.body;
  auto dry_id = dry.Json().at("id").as_int64();
  WaitForRun(port, dry_id);
  EXPECT_EQ(Get(port, "/v1/syncs/" + std::to_string(dry_id) + "/plan").status, 200);

  // The metrics of a run are counted just after its row is final: poll briefly.
  const std::string both_runs =
      "concord_runs_total{tenant=\"acme\",trigger=\"manual\",status=\"succeeded\"} 2";
  auto metrics = Get(port, "/metrics");
  for (int i = 0; i < 100 && metrics.body.find(both_runs) == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    metrics = Get(port, "/metrics");
  }
  EXPECT_NE(metrics.body.find(both_runs), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("concord_http_requests_total{route=\"GET /v1/syncs/{id}\""),
            std::string::npos);
  EXPECT_NE(metrics.body.find("concord_last_success_timestamp_seconds{tenant=\"acme\"}"),
            std::string::npos);
}

// A run that hangs inside its apply transaction (failpoint): a second start is refused with
// the running run, and SIGTERM still exits 0 within 10 s with nothing half applied.
TEST_F(ServeE2eTest, ConcurrentStartIs409AndSigtermExitsCleanly) {
  const int port = StartServe({{"CONCORD_FAILPOINT", "before_commit"}});
  auto first = Post(port, "/v1/tenants/acme/syncs", "{}");
  ASSERT_EQ(first.status, 202) << first.body;
  const auto id = first.Json().at("id").as_int64();
  auto second = Post(port, "/v1/tenants/acme/syncs", "{}");
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(second.Json().at("error").at("code"), "run_in_progress");
  EXPECT_EQ(second.Json().at("run").at("id"), id);

  // Wait until the run sits in its transaction, then stop the daemon.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (serve_->Stderr().find("\"failpoint\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  const auto stop_started = std::chrono::steady_clock::now();
  serve_->Terminate();
  auto code = serve_->WaitFor(15s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << serve_->Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 10s);

  store::Connection conn({.url = db_.url()});
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM persons").Int(0, 0), 0);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM events").Int(0, 0), 0);
}

// SIGTERM while a run is between fetch and apply: the run stops at its next safe point and
// ends `failed` (cancelled) with nothing applied, and its lease is released, so the next
// daemon runs the tenant at once rather than after the lease expires.
TEST_F(ServeE2eTest, SigtermCancelsARunAtItsNextSafePoint) {
  int port = StartServe({{"CONCORD_FAILPOINT", "after_fetch"}});
  auto started = Post(port, "/v1/tenants/acme/syncs", "{}");
  ASSERT_EQ(started.status, 202) << started.body;
  const auto id = started.Json().at("id").as_int64();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (serve_->Stderr().find("\"failpoint\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  const auto stop_started = std::chrono::steady_clock::now();
  serve_->Terminate();
  auto code = serve_->WaitFor(15s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << serve_->Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 5s) << "stopped at a safe point";

  store::Connection conn({.url = db_.url()});
  auto run = conn.Exec("SELECT status, error FROM runs WHERE id = $1", {std::to_string(id)});
  ASSERT_EQ(run.Rows(), 1);
  EXPECT_EQ(run.Text(0, 0), "failed");
  EXPECT_TRUE(run.Text(0, 1).starts_with("cancelled")) << run.Text(0, 1);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM persons").Int(0, 0), 0);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM cursors").Int(0, 0), 0);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM tenant_leases WHERE expires_at > now()").Int(0, 0), 0);

  port = StartServe();
  auto again = Post(port, "/v1/tenants/acme/syncs", "{}");
  ASSERT_EQ(again.status, 202) << again.body;
  auto finished = WaitForRun(port, again.Json().at("id").as_int64());
  EXPECT_EQ(finished.at("status"), "succeeded") << json::serialize(finished);
  EXPECT_GT(conn.Exec("SELECT count(*) FROM persons").Int(0, 0), 0);
}

// Two daemons on one database (two real processes) share the tenants through the schedule
// table and the leases: every tenant is synced, both processes run some, and no two runs of one
// tenant ever overlap in time.
TEST_F(ServeE2eTest, TwoDaemonsShareTenantsWithoutOverlap) {
  constexpr int kTenants = 8;
  SetInterval("1s");
  // One run at a time each: a replica claims only what it has room for (two queued runs), so
  // neither can take all eight tenants before the other starts.
  SetConcurrentRuns(1);
  AddTenantCopies(kTenants - 1);
  StartServe();
  ChildProcess second(ServeOptions());
  auto ready = json::parse(second.ReadLine(30s)).as_object();
  ASSERT_EQ(ready.at("event"), "listening");

  const std::string done_sql =
      "SELECT count(*) FROM (SELECT tenant_id FROM runs WHERE status = 'succeeded' "
      "GROUP BY tenant_id HAVING count(*) >= 2) t";
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (QueryInt(done_sql) < kTenants && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  serve_->Terminate();
  second.Terminate();
  EXPECT_EQ(serve_->WaitFor(15s), 0);
  EXPECT_EQ(second.WaitFor(15s), 0);

  EXPECT_EQ(QueryInt(done_sql), kTenants) << "every tenant synced at least twice";
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs a JOIN runs b ON a.tenant_id = b.tenant_id "
                     "AND a.id < b.id WHERE tstzrange(a.started_at, a.finished_at) && "
                     "tstzrange(b.started_at, b.finished_at)"),
            0)
      << "two runs of one tenant overlapped";
  auto runs_started = [](const std::string& log) {
    int n = 0;
    for (auto at = log.find("\"run_started\""); at != std::string::npos;
         at = log.find("\"run_started\"", at + 1)) {
      ++n;
    }
    return n;
  };
  const int first_runs = runs_started(serve_->Stderr());
  const int second_runs = runs_started(second.Stderr());
  EXPECT_GT(first_runs, 0);
  EXPECT_GT(second_runs, 0);
  EXPECT_EQ(first_runs + second_runs, QueryInt("SELECT count(*) FROM runs"));
}

// Fencing across processes: a run whose process stalled past its lease (here held after
// fetching while the lease is expired, as the clock would do to a paused process) cannot
// commit once another process has taken the tenant; it fails naming the lost lease and
// nothing of it is applied, while the other process's run is.
TEST_F(ServeE2eTest, AProcessThatLostItsLeaseCannotCommit) {
  auto cli = [&](std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    ChildOptions options = ServeOptions({}, std::move(env));
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    return options;
  };
  ChildProcess migrate(cli({"migrate"}));
  ASSERT_EQ(migrate.WaitFor(30s), 0) << migrate.Stderr();

  ChildProcess stalled(
      cli({"sync", "--tenant", "acme", "--full"}, {{"CONCORD_FAILPOINT", "after_fetch:3000"}}));
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (stalled.Stderr().find("\"failpoint\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(stalled.Stderr().find("\"failpoint\""), std::string::npos) << stalled.Stderr();
  EXPECT_EQ(QueryInt("UPDATE tenant_leases SET expires_at = now() - interval '1 second' "
                     "WHERE tenant_id = 'acme' RETURNING 1"),
            1);

  ChildProcess other(cli({"sync", "--tenant", "acme", "--full"}));
  ASSERT_EQ(other.WaitFor(30s), 0) << other.Stderr();
  auto code = stalled.WaitFor(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1) << stalled.Stderr();

  store::Connection conn({.url = db_.url()});
  auto runs = conn.Exec("SELECT id, status, coalesce(error, '') FROM runs ORDER BY id");
  ASSERT_EQ(runs.Rows(), 2);
  EXPECT_EQ(runs.Text(0, 1), "failed");
  EXPECT_NE(runs.Text(0, 2).find("lease"), std::string::npos) << runs.Text(0, 2);
  EXPECT_EQ(runs.Text(1, 1), "succeeded");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM events WHERE run_id = " + std::string(runs.Text(0, 0))),
            0);
  EXPECT_GT(QueryInt("SELECT count(*) FROM events WHERE run_id = " + std::string(runs.Text(1, 0))),
            0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM persons WHERE tenant_id = 'acme'"), 4);
}

TEST_F(ServeE2eTest, SigtermWhenIdleExitsZero) {
  const int port = StartServe();
  EXPECT_EQ(Get(port, "/healthz", "").status, 200);
  serve_->Terminate();
  auto code = serve_->WaitFor(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << serve_->Stderr();
  EXPECT_NE(serve_->Stderr().find("\"shutdown_started\""), std::string::npos);
}

// The scheduler starts runs on its own (trigger "schedule") and keeps its state in the
// shared table.
TEST_F(ServeE2eTest, SchedulerRunsTheTenant) {
  SetInterval("2s");
  const int port = StartServe();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  json::array runs;
  for (;;) {
    runs = Get(port, "/v1/tenants/acme/syncs").Json().at("runs").as_array();
    bool scheduled_done = false;
    for (const auto& r : runs) {
      scheduled_done |= r.at("trigger") == "schedule" && r.at("status") == "succeeded";
    }
    if (scheduled_done || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(runs.empty());
  bool found = false;
  for (const auto& r : runs) found |= r.at("trigger") == "schedule";
  EXPECT_TRUE(found) << json::serialize(runs);
  // Wait for the schedule row to record it.
  for (int i = 0; i < 100 && QueryInt("SELECT count(*) FROM tenant_schedule WHERE "
                                      "last_status = 'succeeded'") != 1;
       ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM tenant_schedule WHERE tenant_id = 'acme' AND "
                     "last_status = 'succeeded' AND failures = 0"),
            1);
  serve_->Terminate();
  EXPECT_EQ(serve_->WaitFor(15s), 0);
}

// SIGHUP re-reads the configuration: a tenant added to the file is served by the API and
// scheduled; one removed from it answers 404 and is no longer scheduled; a changed listen
// address waits for a restart.
TEST_F(ServeE2eTest, SighupAddsAndRemovesTenants) {
  SetInterval("1s");
  const int port = StartServe();
  EXPECT_EQ(Get(port, "/v1/tenants/acme-1/syncs").status, 404);

  AddTenantCopies(1);
  auto toml = test_support::ReadFile(tmp_.File("concord.toml"));
  toml.replace(toml.find("127.0.0.1:0"), std::string("127.0.0.1:0").size(), "127.0.0.1:1");
  test_support::WriteFile(tmp_.File("concord.toml"), toml);
  serve_->Signal(SIGHUP);
  auto status_within = [&](const std::string& path, int status) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (Get(port, path).status != status && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    return Get(port, path).status;
  };
  ASSERT_EQ(status_within("/v1/tenants/acme-1/syncs", 200), 200) << serve_->Stderr();
  EXPECT_NE(serve_->Stderr().find("\"restart_required\""), std::string::npos);
  EXPECT_NE(serve_->Stderr().find("\"http.listen\""), std::string::npos);

  const std::string scheduled_sql =
      "SELECT count(*) FROM runs WHERE tenant_id = 'acme-1' AND trigger = 'schedule' "
      "AND status = 'succeeded'";
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (QueryInt(scheduled_sql) < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(QueryInt(scheduled_sql), 1) << "the new tenant is scheduled";

  // Only acme-1 stays (acme's block is the first); a run of acme that is going finishes as it
  // started.
  toml = test_support::ReadFile(tmp_.File("concord.toml"));
  const auto acme_block = toml.find("[[tenant]]");
  toml.erase(acme_block, toml.find("[[tenant]]", acme_block + 1) - acme_block);
  test_support::WriteFile(tmp_.File("concord.toml"), toml);
  serve_->Signal(SIGHUP);
  ASSERT_EQ(status_within("/v1/tenants/acme/syncs", 404), 404) << serve_->Stderr();
  EXPECT_EQ(Get(port, "/v1/tenants/acme-1/syncs").status, 200);
  // A run of acme launched just before the reload may still be writing its row.
  std::this_thread::sleep_for(500ms);
  const std::string acme_running =
      "SELECT count(*) FROM runs WHERE tenant_id = 'acme' AND status = 'running'";
  deadline = std::chrono::steady_clock::now() + 30s;
  while (QueryInt(acme_running) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  const std::string acme_runs = "SELECT count(*) FROM runs WHERE tenant_id = 'acme'";
  const auto acme_before = QueryInt(acme_runs);
  const auto acme1_before = QueryInt("SELECT count(*) FROM runs WHERE tenant_id = 'acme-1'");
  std::this_thread::sleep_for(3s);  // three intervals
  EXPECT_EQ(QueryInt(acme_runs), acme_before) << "the removed tenant is no longer scheduled";
  EXPECT_GT(QueryInt("SELECT count(*) FROM runs WHERE tenant_id = 'acme-1'"), acme1_before);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE status = 'failed'"), 0);

  serve_->Terminate();
  EXPECT_EQ(serve_->WaitFor(15s), 0) << serve_->Stderr();
}

// A configuration file that cannot be loaded on SIGHUP changes nothing: the daemon keeps
// serving on what it had, the valid part of the broken file included.
TEST_F(ServeE2eTest, SighupWithABrokenFileKeepsServing) {
  const int port = StartServe();
  AddTenantCopies(1);
  test_support::WriteFile(tmp_.File("concord.toml"),
                          test_support::ReadFile(tmp_.File("concord.toml")) + "[extra]\nx = 1\n");
  serve_->Signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (serve_->Stderr().find("\"reload_failed\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  const auto log = serve_->Stderr();
  ASSERT_NE(log.find("\"reload_failed\""), std::string::npos) << log;
  EXPECT_NE(log.find("unknown configuration key 'extra'"), std::string::npos) << log;
  EXPECT_EQ(log.find("\"reloaded\""), std::string::npos) << log;
  EXPECT_TRUE(serve_->Running());
  EXPECT_EQ(Get(port, "/v1/tenants/acme/syncs").status, 200);
  EXPECT_EQ(Get(port, "/v1/tenants/acme-1/syncs").status, 404);
  auto started = Post(port, "/v1/tenants/acme/syncs", "{}");
  ASSERT_EQ(started.status, 202) << started.body;
  EXPECT_EQ(WaitForRun(port, started.Json().at("id").as_int64()).at("status"), "succeeded");
}

// A portal-only person merged into a finance contact that appeared later (rule 5), undone
// over HTTP.
TEST_F(ServeE2eTest, MergeUndoneOverHttp) {
  const int port = StartServe();
  auto first = Post(port, "/v1/tenants/acme/syncs", R"({"mode":"full"})");
  ASSERT_EQ(first.status, 202) << first.body;
  WaitForRun(port, first.Json().at("id").as_int64());

  auto data = json::parse(test_support::ReadFile(tmp_.File("data.json"))).as_object();
  data["xero"].as_object()["contacts"].as_array().push_back(
      Contact("c-dan", "Dan", "dan@portal.example"));
  test_support::WriteFile(tmp_.File("data.json"), json::serialize(data));
  json::object second;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto reply = Post(port, "/v1/tenants/acme/syncs", R"({"mode":"full"})");
    if (reply.status == 202) {
      second = WaitForRun(port, reply.Json().at("id").as_int64());
      break;
    }
    std::this_thread::sleep_for(50ms);  // the first run is still letting go of its lease
  }
  ASSERT_EQ(second.at("status"), "succeeded") << json::serialize(second);
  const auto merge_id = QueryInt("SELECT max(id) FROM merges");
  ASSERT_GT(merge_id, 0);

  const auto target = "/v1/merges/" + std::to_string(merge_id) + "/undo";
  EXPECT_EQ(Post(port, target, "", kRead).status, 403);
  auto undone = Post(port, target, "");
  ASSERT_EQ(undone.status, 200) << undone.body;
  EXPECT_EQ(undone.Json().at("status"), "undone");
  EXPECT_EQ(undone.Json().at("run").at("mode"), "admin");
  auto again = Post(port, target, "");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(Post(port, "/v1/merges/999999/undo", "").status, 404);
}

// A client that sends half a request and then nothing is cut off by the read deadline.
TEST_F(ServeE2eTest, SlowClientIsCutOff) {
  const int port = StartServe();
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<unsigned short>(port)));
  asio::write(socket, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
  const auto started = std::chrono::steady_clock::now();
  char byte;
  boost::system::error_code ec;
  asio::read(socket, asio::buffer(&byte, 1), ec);  // blocks until the server closes
  EXPECT_TRUE(ec);
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 5s);
  EXPECT_LT(waited, 20s);
}

}  // namespace
}  // namespace concord

namespace concord {
namespace {

// The signatures below were computed outside concord, for the bodies exactly as written:
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$KEY" -binary | base64
constexpr const char* kXeroHandshake =
    R"({"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"})";
// KEY=xero-webhook-key-e2e
constexpr const char* kXeroHandshakeSignature = "s4I6w6SBnCWT8w++IAMUF+oslDj7Ol+zkdp4cvy+qik=";
constexpr const char* kXeroContactEvent =
    R"({"events":[{"resourceUrl":"https://api.xero.com/api.xro/2.0/Contacts/c-ann",)"
    R"("resourceId":"c-ann","eventDateUtc":"2024-06-21T01:15:39.902","eventType":"UPDATE",)"
    R"("eventCategory":"CONTACT","tenantId":"b5a3c1d2-0000-4000-8000-000000000001",)"
    R"("tenantType":"ORGANISATION"}],"firstEventSequence":1,"lastEventSequence":1,)"
    R"("entropy":"YSXPVKHSMPSNHPZIAXLN"})";
// KEY=xero-webhook-key-e2e
constexpr const char* kXeroContactSignature = "YN1v41yRS/IdgVuCIUh2l4yNm/xIupKJEFuzKO1/Zms=";
constexpr const char* kQboClassic =
    R"({"eventNotifications":[{"realmId":"9130350000000001","dataChangeEvent":{"entities":[)"
    R"({"name":"Customer","id":"58","operation":"Update","lastUpdated":"2024-06-09T16:40:11.000Z"}]}}]})";
// KEY=intuit-verifier-e2e
constexpr const char* kQboClassicSignature = "p5MEH7+AHzrfqx3z69EdXgwrrgmYlxbUPFKUaH00ATY=";

Reply Webhook(int port, const std::string& target, const std::string& body,
              const std::string& header, const std::string& signature) {
  return Call(port, http::verb::post, target, "", body, {header, signature});
}

// Xero's intent-to-receive check, a forged delivery and a real one: only the real one starts
// a run, and it is the tenant's incremental run with trigger "webhook".
TEST_F(ServeE2eTest, XeroWebhookQueuesAWebhookRun) {
  AddXeroWebhookKey();
  const int port = StartServe();
  const std::string target = "/v1/webhooks/xero/acme";
  auto handshake =
      Webhook(port, target, kXeroHandshake, "x-xero-signature", kXeroHandshakeSignature);
  EXPECT_EQ(handshake.status, 200);
  EXPECT_EQ(handshake.body, "");
  auto forged_handshake =
      Webhook(port, target, kXeroHandshake, "x-xero-signature", kXeroContactSignature);
  EXPECT_EQ(forged_handshake.status, 401);
  EXPECT_EQ(forged_handshake.body, "");
  auto forged =
      Webhook(port, target, kXeroContactEvent, "x-xero-signature", kXeroHandshakeSignature);
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(Webhook(port, target, kXeroContactEvent, "x-xero-signature", "").status, 401);
  // A bearer token is no signature.
  EXPECT_EQ(Call(port, http::verb::post, target, kAdmin, kXeroContactEvent).status, 401);
  EXPECT_EQ(Webhook(port, "/v1/webhooks/xero/nobody", kXeroContactEvent, "x-xero-signature",
                    kXeroContactSignature)
                .status,
            404);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(WebhookRuns(port, "acme"), 0u) << "no run without a good signature";

  auto real = Webhook(port, target, kXeroContactEvent, "x-xero-signature", kXeroContactSignature);
  EXPECT_EQ(real.status, 200);
  EXPECT_EQ(real.body, "");
  auto run = WaitForWebhookRun(port, "acme");
  EXPECT_EQ(run.at("mode"), "incremental");
  EXPECT_EQ(run.at("status"), "succeeded") << json::serialize(run);
  EXPECT_EQ(WebhookRuns(port, "acme"), 1u);

  auto metrics = Get(port, "/metrics").body;
  EXPECT_NE(metrics.find("concord_webhooks_total{source=\"xero\",outcome=\"accepted\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("concord_webhooks_total{source=\"xero\",outcome=\"ignored\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("concord_webhooks_total{source=\"xero\",outcome=\"bad_signature\"} 4"),
            std::string::npos);
  serve_->Terminate();
  EXPECT_EQ(serve_->WaitFor(15s), 0);
  // One line per delivery, without the body or the signature.
  const auto log = serve_->Stderr();
  EXPECT_EQ(log.find("YSXPVKHSMPSNHPZIAXLN"), std::string::npos);
  EXPECT_EQ(log.find(kXeroContactSignature), std::string::npos);
}

TEST_F(ServeE2eTest, QboClassicWebhookQueuesAWebhookRun) {
  AddQboTenant();
  const int port = StartServe();
  const std::string target = "/v1/webhooks/qbo/globex";
  EXPECT_EQ(Webhook(port, target, kQboClassic, "intuit-signature", kXeroContactSignature).status,
            401);
  // Acme has no Xero webhook key here, and globex is no Xero tenant.
  EXPECT_EQ(Webhook(port, "/v1/webhooks/xero/acme", kXeroHandshake, "x-xero-signature",
                    kXeroHandshakeSignature)
                .status,
            404);
  EXPECT_EQ(Webhook(port, "/v1/webhooks/xero/globex", kQboClassic, "x-xero-signature",
                    kQboClassicSignature)
                .status,
            404);
  auto real = Webhook(port, target, kQboClassic, "intuit-signature", kQboClassicSignature);
  EXPECT_EQ(real.status, 200);
  auto run = WaitForWebhookRun(port, "globex");
  EXPECT_EQ(run.at("status"), "succeeded") << json::serialize(run);
  EXPECT_EQ(run.at("counts").at("fetched_finance"), 1);
  EXPECT_EQ(WebhookRuns(port, "acme"), 0u);
}

}  // namespace
}  // namespace concord
