// A Xero tenant with OAuth2 refresh and call limits, end to end: `concord sync` against
// concord-fake's token endpoint and Contacts API (xero.oauth, xero.rate_limits) and a real
// PostgreSQL. The first run refreshes and stores the rotated token, the next reuses the access
// token, an expired one is refreshed, invalid_grant and the day limit fail the run clearly with
// the cursor unmoved, and no token ever reaches a log.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/pg.hpp"
#include "tests/store/test_database.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_servers.hpp"
#include "tests/support/temp_dir.hpp"

namespace concord {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::ChildOptions;
using test_support::ChildProcess;

constexpr const char* kTenantId = "b5a3c1d2-0000-4000-8000-0000000000e2";
constexpr const char* kClientId = "concord-e2e-app";
constexpr const char* kClientSecret = "client-secret-e2e-7f3a";
constexpr const char* kSeed = "seed-refresh-e2e-91c2";
constexpr const char* kScimToken = "scim-token-e2e";

// An hour ago: behind any cursor a first sync sets.
const std::int64_t kEarlier = test_support::UnixMillisNow() - 3'600'000;

json::object Contact(const std::string& id, const std::string& email) {
  return {{"ContactID", id},
          {"ContactStatus", "ACTIVE"},
          {"Name", "Account " + id},
          {"FirstName", "Given"},
          {"LastName", id},
          {"EmailAddress", email},
          {"UpdatedDateUTC", "/Date(" + std::to_string(kEarlier) + "+0000)/"},
          {"ContactPersons", json::array{}}};
}

struct Data {
  std::string refresh_token = kSeed;  // what the fake's consent flow handed out
  std::optional<std::int64_t> day_limit;

  std::string Render() const {
    json::object xero{
        {"tenant_id", kTenantId},
        {"access_token", "unused-in-oauth-mode"},
        {"oauth",
         {{"client_id", kClientId},
          {"client_secret", kClientSecret},
          {"refresh_token", refresh_token}}},
        {"contacts", json::array{Contact("c1", "ana@example.com"), Contact("c2", "ben@example.com"),
                                 Contact("c3", "cy@example.com")}}};
    if (day_limit) xero["rate_limits"] = json::object{{"minute", 1000}, {"day", *day_limit}};
    return json::serialize(json::object{
        {"xero", xero}, {"scim", json::object{{"token", kScimToken}, {"users", json::array{}}}}});
  }
};

using Result = test_support::ChildResult;

class XeroOAuthE2eTest : public ::testing::Test {
 protected:
  void Start(const Data& data, const std::string& extra_finance = "") {
    test_support::WriteFile(tmp_.File("data.json"), data.Render());
    fake_.emplace(tmp_.File("data.json"));
    const std::string toml =
        "[database]\nurl = \"" + db_.url() + "\"\n[log]\nlevel = \"info\"\n" +
        "[[tenant]]\nid = \"acme\"\n[tenant.finance]\nkind = \"xero\"\n" + "base_url = \"" +
        fake_->XeroOrigin() + "/api.xro/2.0\"\nxero_tenant_id = \"" + kTenantId + "\"\n" +
        "client_id = \"" + kClientId + "\"\nclient_secret = \"env:E2E_XERO_SECRET\"\n" +
        "refresh_token = \"env:E2E_XERO_REFRESH\"\ntoken_url = \"" + fake_->XeroOrigin() +
        "/connect/token\"\n" + extra_finance + "[tenant.portal]\nkind = \"scim\"\nbase_url = \"" +
        fake_->ScimOrigin() + "/scim/v2\"\ntoken = \"env:E2E_SCIM_TOKEN\"\n";
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
    const Result migrated = Concord({"migrate"});
    ASSERT_EQ(migrated.code, 0) << migrated.err;
  }

  Result Concord(std::vector<std::string> args, const std::string& seed = kSeed) {
    ChildOptions options;
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = {{"E2E_XERO_SECRET", kClientSecret},
                   {"E2E_XERO_REFRESH", seed},
                   {"E2E_SCIM_TOKEN", kScimToken}};
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    Result result = test_support::RunToExit(std::move(options));
    logs_ += result.err;
    return result;
  }

  Result Sync(std::vector<std::string> flags = {}, const std::string& seed = kSeed) {
    std::vector<std::string> args = {"sync", "--tenant", "acme"};
    args.insert(args.end(), flags.begin(), flags.end());
    return Concord(args, seed);
  }

  std::optional<std::string> Text(const std::string& sql) {
    store::Connection conn({.url = db_.url()});
    const auto result = conn.Exec(sql);
    if (result.Rows() == 0 || result.IsNull(0, 0)) return std::nullopt;
    return std::string(result.Text(0, 0));
  }

  void Exec(const std::string& sql) {
    store::Connection conn({.url = db_.url()});
    conn.Exec(sql);
  }

  std::string RefreshToken() {
    return Text("SELECT refresh_token FROM oauth_tokens WHERE tenant_id = 'acme'").value_or("");
  }
  std::string AccessToken() {
    return Text("SELECT access_token FROM oauth_tokens WHERE tenant_id = 'acme'").value_or("");
  }
  std::string FinanceCursor() {
    return Text("SELECT value_ms FROM cursors WHERE tenant_id = 'acme' AND side = 'finance'")
        .value_or("none");
  }

  // Token requests the fake answered with this status.
  int TokenRequests(int status = 200) {
    const std::string needle = "xero POST /connect/token " + std::to_string(status) + "\n";
    const std::string log = fake_->Process().Stderr();
    int count = 0;
    for (std::size_t at = log.find(needle); at != std::string::npos;
         at = log.find(needle, at + 1)) {
      ++count;
    }
    return count;
  }

  // No secret of any kind appears in anything concord logged.
  void ExpectNoTokenLogged(const std::vector<std::string>& tokens) {
    for (const std::string& token : tokens) {
      if (token.empty()) continue;
      EXPECT_EQ(logs_.find(token), std::string::npos) << "logged: " << token;
    }
    EXPECT_EQ(logs_.find(kClientSecret), std::string::npos);
    EXPECT_EQ(logs_.find(kSeed), std::string::npos);
  }

  test_support::TempDir tmp_;
  testing::TestDatabase db_;
  std::optional<test_support::FakeServers> fake_;
  std::string logs_;  // concord's stderr, every run
};

TEST_F(XeroOAuthE2eTest, RefreshesOnceRotatesReusesAndRefreshesWhenExpired) {
  Start(Data{});
  const Result first = Sync();
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(TokenRequests(), 1);
  const std::string rotated = RefreshToken();
  EXPECT_FALSE(rotated.empty());
  EXPECT_NE(rotated, kSeed) << "the rotated refresh token is stored";
  EXPECT_GT(std::stoll(*Text("SELECT access_expires_ms FROM oauth_tokens")),
            test_support::UnixMillisNow());
  const std::string first_access = AccessToken();

  const Result second = Sync();
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(TokenRequests(), 1) << "the stored access token is reused";
  EXPECT_EQ(RefreshToken(), rotated);

  Exec("UPDATE oauth_tokens SET access_expires_ms = 0");
  const Result third = Sync();
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_EQ(TokenRequests(), 2) << "an expired access token is refreshed";
  EXPECT_NE(RefreshToken(), rotated) << "rotated again";
  EXPECT_NE(AccessToken(), first_access);
  EXPECT_EQ(Text("SELECT count(*) FROM persons WHERE tenant_id = 'acme'"), "3");
  ExpectNoTokenLogged({rotated, first_access, RefreshToken(), AccessToken()});
}

TEST_F(XeroOAuthE2eTest, InvalidGrantFailsTheRunAskingForReauthorisation) {
  Start(Data{});
  ASSERT_EQ(Sync().code, 0);
  const std::string cursor = FinanceCursor();
  ASSERT_NE(cursor, "none");
  const std::string access = AccessToken();
  // The connection was revoked at Xero: the stored refresh token is refused.
  Exec("UPDATE oauth_tokens SET refresh_token = 'revoked-refresh-4d1e', access_expires_ms = 0");

  const Result failed = Sync();
  EXPECT_EQ(failed.code, 1) << failed.err;
  EXPECT_EQ(TokenRequests(400), 1);
  EXPECT_NE(failed.err.find("invalid_grant"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("re-authorise"), std::string::npos) << failed.err;
  const auto error = Text("SELECT error FROM runs ORDER BY id DESC LIMIT 1");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("invalid_grant"), std::string::npos) << *error;
  EXPECT_EQ(FinanceCursor(), cursor) << "cursor unmoved";
  EXPECT_EQ(RefreshToken(), "revoked-refresh-4d1e") << "nothing stored";

  // The operator re-authorises: the new refresh token in the configuration replaces the
  // stored ones.
  Data reauthorised;
  reauthorised.refresh_token = "seed-after-reauth-66b0";
  test_support::WriteFile(tmp_.File("data.json"), reauthorised.Render());
  const Result again = Sync({}, "seed-after-reauth-66b0");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(RefreshToken(), "revoked-refresh-4d1e");
  ExpectNoTokenLogged(
      {"revoked-refresh-4d1e", "seed-after-reauth-66b0", access, RefreshToken(), AccessToken()});
}

TEST_F(XeroOAuthE2eTest, DayLimitFailsTheRunWithTheResetTimeAndLeavesTheCursor) {
  Data data;
  data.day_limit = 3;
  Start(data, "page_size = 1\n");
  ASSERT_EQ(Sync().code, 0) << "3 calls: one page per contact";
  const std::string cursor = FinanceCursor();
  ASSERT_NE(cursor, "none");

  // A new process knows nothing of the day so far: its first call is refused by Xero.
  const Result failed = Sync({"--full"});
  EXPECT_EQ(failed.code, 1) << failed.err;
  EXPECT_NE(failed.err.find("day limit"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("calls are allowed again from 20"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find(R"("event":"rate_limit_hit")"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find(R"("limit":"day")"), std::string::npos) << failed.err;
  const std::string log = fake_->Process().Stderr();
  int refused = 0;
  for (std::size_t at = log.find(" 429\n"); at != std::string::npos;
       at = log.find(" 429\n", at + 1))
    ++refused;
  EXPECT_EQ(refused, 1) << "no retry loop against the day limit";
  EXPECT_EQ(FinanceCursor(), cursor) << "cursor unmoved";
  const auto status = Text("SELECT status FROM runs ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(status, "failed");
}

TEST_F(XeroOAuthE2eTest, LocalDayBudgetStopsTheRunBeforeTheVendorRefuses) {
  Start(Data{}, "page_size = 1\nday_limit = 2\n");
  const Result failed = Sync();
  EXPECT_EQ(failed.code, 1) << failed.err;
  EXPECT_NE(failed.err.find("local day budget"), std::string::npos) << failed.err;
  const std::string log = fake_->Process().Stderr();
  EXPECT_EQ(log.find(" 429\n"), std::string::npos) << "the vendor never had to refuse";
  EXPECT_EQ(FinanceCursor(), "none");
}

}  // namespace
}  // namespace concord
