// A tenant whose finance system is QuickBooks Online, end to end: `concord` + concord-fake
// (QBO query API and SCIM wire formats) + PostgreSQL. Each test gets its own database, data
// file and fake server.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <optional>
#include <thread>

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

constexpr const char* kRealm = "9130350000000001";
constexpr const char* kQboToken = "qbo-token-e2e";
constexpr const char* kScimToken = "scim-token-e2e";

// An hour ago: old enough to be behind any cursor a first sync sets.
const std::int64_t kEarlier = test_support::UnixMillisNow() - 3'600'000;

// "2026-01-05T10:02:03-08:00": QBO writes local times with an offset.
std::string QboTime(std::int64_t ms) {
  std::time_t seconds = ms / 1000 - 8 * 3600;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S-08:00", &tm);
  return buffer;
}

std::string IsoZ(std::int64_t ms) {
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

json::object Customer(std::string id, std::string display, std::string given, std::string family,
                      std::string email, std::int64_t updated = kEarlier, bool active = true) {
  json::object c{
      {"Id", id},
      {"SyncToken", "0"},
      {"domain", "QBO"},
      {"sparse", false},
      {"DisplayName", display},
      {"GivenName", given},
      {"FamilyName", family},
      {"CompanyName", display},
      {"Active", active},
      {"Job", false},
      {"BillWithParent", false},
      {"Balance", 0},
      {"FullyQualifiedName", display},
      {"MetaData", {{"CreateTime", QboTime(kEarlier)}, {"LastUpdatedTime", QboTime(updated)}}}};
  if (!email.empty()) c["PrimaryEmailAddr"] = json::object{{"Address", email}};
  return c;
}

json::object Job(std::string id, const json::object& parent, std::string name, std::string given,
                 std::string family, std::string email, std::int64_t updated = kEarlier) {
  const std::string parent_name(parent.at("DisplayName").as_string());
  json::object c =
      Customer(std::move(id), name, std::move(given), std::move(family), std::move(email), updated);
  c["Job"] = true;
  c["BillWithParent"] = true;
  c["Level"] = 1;
  c["ParentRef"] = json::object{{"value", parent.at("Id")}, {"name", parent_name}};
  c["FullyQualifiedName"] = parent_name + ":" + name;
  return c;
}

json::object User(std::string id, std::string email, std::string given, std::string family) {
  return {
      {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
      {"id", id},
      {"userName", email},
      {"name", {{"givenName", given}, {"familyName", family}}},
      {"displayName", given + " " + family},
      {"active", true},
      {"emails", json::array{json::object{{"value", email}, {"type", "work"}, {"primary", true}}}},
      {"meta",
       {{"resourceType", "User"}, {"created", IsoZ(kEarlier)}, {"lastModified", IsoZ(kEarlier)}}}};
}

struct Data {
  json::array customers;
  json::array users;
  int qbo_fail_status = 0;

  std::string Render() const {
    json::object qbo{{"realm_id", kRealm}, {"access_token", kQboToken}, {"customers", customers}};
    if (qbo_fail_status) qbo["fail_status"] = qbo_fail_status;
    return json::serialize(json::object{
        {"qbo", qbo}, {"scim", json::object{{"token", kScimToken}, {"users", users}}}});
  }
};

using Result = test_support::ChildResult;

class QboE2eTest : public ::testing::Test {
 protected:
  void StartFake(const Data& data) {
    test_support::WriteFile(tmp_.File("data.json"), data.Render());
    fake_.emplace(tmp_.File("data.json"));
    WriteConfig();
  }

  void ChangeData(const Data& data) {
    test_support::WriteFile(tmp_.File("data.json"), data.Render());
  }

  void WriteConfig(int page_size = 1000) {
    const std::string toml = "[database]\nurl = \"" + db_->url() + "\"\n[log]\nlevel = \"info\"\n" +
                             "[[tenant]]\nid = \"acme\"\n"
                             "[tenant.finance]\nkind = \"qbo\"\n"
                             "base_url = \"" +
                             fake_->QboOrigin() + "\"\nrealm_id = \"" + kRealm +
                             "\"\naccess_token = \"env:E2E_QBO_TOKEN\"\n"
                             "page_size = " +
                             std::to_string(page_size) +
                             "\n[tenant.portal]\nkind = \"scim\"\n"
                             "base_url = \"" +
                             fake_->ScimOrigin() + "/scim/v2\"\ntoken = \"env:E2E_SCIM_TOKEN\"\n";
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  Result Concord(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    ChildOptions options;
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = {{"E2E_QBO_TOKEN", kQboToken}, {"E2E_SCIM_TOKEN", kScimToken}};
    for (auto& [k, v] : env) options.env[k] = v;
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    return test_support::RunToExit(std::move(options));
  }

  void Migrate() {
    auto r = Concord({"migrate"});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  Result Sync(std::vector<std::string> flags = {}, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args = {"sync", "--tenant", "acme"};
    args.insert(args.end(), flags.begin(), flags.end());
    return Concord(args, std::move(env));
  }

  std::vector<json::object> Persons() {
    auto r = Concord({"export", "--tenant", "acme"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<json::object> out;
    std::size_t start = 0;
    while (start < r.out.size()) {
      auto end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      if (end > start) out.push_back(json::parse(r.out.substr(start, end - start)).as_object());
      start = end + 1;
    }
    return out;
  }

  std::string Export() {
    auto r = Concord({"export", "--tenant", "acme"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  std::int64_t QueryInt(const std::string& sql) {
    store::Connection conn({.url = db_->url()});
    auto result = conn.Exec(sql);
    return result.Rows() == 0 || result.IsNull(0, 0) ? -1 : result.Int(0, 0);
  }

  // The decoded query statements the fake has answered so far, in order.
  std::vector<std::string> QboQueries() {
    std::vector<std::string> out;
    const std::string log = fake_->Process().Stderr();
    std::size_t at = 0;
    while ((at = log.find("qbo GET /v3/company/", at)) != std::string::npos) {
      const std::size_t end = log.find('\n', at);
      const std::string line = log.substr(at, end - at);
      at = end;
      const std::size_t q = line.find("query=");
      if (q == std::string::npos) continue;
      std::string decoded;
      for (std::size_t i = q + 6; i < line.size() && line[i] != '&' && line[i] != ' '; ++i) {
        if (line[i] == '%' && i + 2 < line.size()) {
          decoded.push_back(static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16)));
          i += 2;
        } else {
          decoded.push_back(line[i] == '+' ? ' ' : line[i]);
        }
      }
      out.push_back(decoded);
    }
    return out;
  }

  test_support::TempDir tmp_;
  std::optional<testing::TestDatabase> db_{std::in_place};
  std::optional<test_support::FakeServers> fake_;
};

const json::object* FindByEmail(const std::vector<json::object>& persons, std::string_view email) {
  for (const auto& p : persons) {
    if (p.at("email").is_string() && p.at("email").as_string() == email) return &p;
  }
  return nullptr;
}

Data Harbour() {
  Data d;
  const json::object mere =
      Customer("58", "Harbour Lights Ltd", "Mere", "Tane", "Mere.Tane@HarbourLights.example");
  d.customers.push_back(mere);
  d.customers.push_back(
      Job("61", mere, "Kitchen Fit-out", "Ari", "Ngata", "ari@harbourlights.example"));
  d.customers.push_back(Customer("7", "Old Co", "Olive", "Old", "olive@old.example", kEarlier,
                                 /*active=*/false));
  d.customers.push_back(
      Customer("12", "Two Addresses Ltd", "Tui", "Two", "tui@two.example; accounts@two.example"));
  d.customers.push_back(Customer("13", "No Email Ltd", "Nora", "None", ""));
  d.users.push_back(User("u-mere", "mere.tane@harbourlights.example", "Mere", "Tane"));
  d.users.push_back(User("u-olive", "olive@old.example", "Olive", "Old"));
  return d;
}

TEST_F(QboE2eTest, FullSyncReadsCustomersJobsAndDeactivatedOnes) {
  StartFake(Harbour());
  Migrate();
  auto sync = Sync({"--full"});
  ASSERT_EQ(sync.code, 0) << sync.err;

  auto persons = Persons();
  EXPECT_EQ(persons.size(), 5u) << Export();
  const auto* mere = FindByEmail(persons, "mere.tane@harbourlights.example");
  ASSERT_NE(mere, nullptr) << Export();
  ASSERT_EQ(mere->at("finance").as_array().size(), 1u);
  const auto& link = mere->at("finance").as_array()[0].as_object();
  EXPECT_EQ(link.at("source"), "qbo");
  EXPECT_EQ(link.at("remote_id"), "58");
  EXPECT_EQ(link.at("account_id"), "58");
  EXPECT_EQ(link.at("account_name"), "Harbour Lights Ltd");
  EXPECT_EQ(mere->at("portal").as_array().size(), 1u) << "the portal user is linked";

  const auto* ari = FindByEmail(persons, "ari@harbourlights.example");
  ASSERT_NE(ari, nullptr);
  const auto& job = ari->at("finance").as_array()[0].as_object();
  EXPECT_EQ(job.at("remote_id"), "61");
  EXPECT_EQ(job.at("account_id"), "58") << "a job is a person of its parent's account";
  EXPECT_EQ(job.at("account_name"), "Harbour Lights Ltd");

  const auto* olive = FindByEmail(persons, "olive@old.example");
  ASSERT_NE(olive, nullptr);
  EXPECT_EQ(olive->at("finance").as_array()[0].at("status"), "archived");

  const auto* tui = FindByEmail(persons, "tui@two.example");
  ASSERT_NE(tui, nullptr) << "email 1 is the first address of the field";
  EXPECT_EQ(tui->at("given_name"), "Tui");

  const auto queries = QboQueries();
  ASSERT_FALSE(queries.empty());
  EXPECT_EQ(queries[0],
            "select * from Customer where Active IN (true,false) orderby Id startposition 1 "
            "maxresults 1000");
}

TEST_F(QboE2eTest, PagesAcrossPageBoundaries) {
  Data data;
  for (int i = 1; i <= 7; ++i) {
    const std::string n = std::to_string(i);
    data.customers.push_back(
        Customer(n, "Account " + n, "Given" + n, "Family" + n, "person" + n + "@paging.example"));
  }
  StartFake(data);
  WriteConfig(/*page_size=*/2);
  Migrate();
  auto sync = Sync({"--full"});
  ASSERT_EQ(sync.code, 0) << sync.err;
  auto persons = Persons();
  ASSERT_EQ(persons.size(), 7u);
  for (int i = 1; i <= 7; ++i) {
    EXPECT_NE(FindByEmail(persons, "person" + std::to_string(i) + "@paging.example"), nullptr) << i;
  }
  const auto queries = QboQueries();
  ASSERT_EQ(queries.size(), 4u) << "pages of 2, 2, 2 and 1";
  for (std::size_t i = 0; i < queries.size(); ++i) {
    EXPECT_NE(queries[i].find("startposition " + std::to_string(2 * i + 1) + " maxresults 2"),
              std::string::npos)
        << queries[i];
  }
  EXPECT_EQ(QueryInt("SELECT (counts->>'fetched_finance')::bigint FROM runs"), 7);
}

TEST_F(QboE2eTest, IncrementalSendsTheCursorAndSeesOnlyChanges) {
  auto data = Harbour();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  const auto before = Persons();
  const std::int64_t cursor = QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'");
  ASSERT_GT(cursor, 0);

  std::this_thread::sleep_for(1100ms);  // the next cursor must differ from this one
  // One customer changes its email, one is deactivated, one is new.
  data.customers[0].as_object()["PrimaryEmailAddr"] =
      json::object{{"Address", "mere@harbourlights.example"}};
  data.customers[0].as_object()["MetaData"].as_object()["LastUpdatedTime"] =
      QboTime(test_support::UnixMillisNow());
  data.customers[3].as_object()["Active"] = false;
  data.customers[3].as_object()["MetaData"].as_object()["LastUpdatedTime"] =
      QboTime(test_support::UnixMillisNow());
  data.customers.push_back(
      Customer("99", "New Ltd", "Nia", "New", "nia@new.example", test_support::UnixMillisNow()));
  ChangeData(data);

  const std::size_t queries_before = QboQueries().size();
  auto sync = Sync();
  ASSERT_EQ(sync.code, 0) << sync.err;
  const auto queries = QboQueries();
  ASSERT_EQ(queries.size(), queries_before + 1);
  std::time_t seconds = cursor / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char since[32];
  std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  EXPECT_EQ(
      queries.back(),
      "select * from Customer where Active IN (true,false) and Metadata.LastUpdatedTime >= '" +
          std::string(since) + "' orderby Id startposition 1 maxresults 1000");
  EXPECT_EQ(QueryInt("SELECT (counts->>'fetched_finance')::bigint FROM runs "
                     "ORDER BY id DESC LIMIT 1"),
            3)
      << "only the changed customers are read";
  EXPECT_GT(QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'"), cursor);

  auto after = Persons();
  EXPECT_NE(FindByEmail(after, "nia@new.example"), nullptr);
  EXPECT_NE(FindByEmail(after, "mere@harbourlights.example"), nullptr);
  const auto* tui = FindByEmail(after, "tui@two.example");
  ASSERT_NE(tui, nullptr);
  EXPECT_EQ(tui->at("finance").as_array()[0].at("status"), "archived");
  EXPECT_NE(FindByEmail(after, "ari@harbourlights.example"), nullptr) << "unchanged, kept";

  // Nothing changed since: a third run reads nothing new and changes nothing.
  const std::string exported = Export();
  ASSERT_EQ(Sync().code, 0);
  EXPECT_EQ(Export(), exported);
}

TEST_F(QboE2eTest, RejectedTokenAndServerErrorsFailCleanlyWithCursorsUnmoved) {
  auto data = Harbour();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  const std::string before = Export();
  const std::int64_t cursors = QueryInt("SELECT sum(value_ms) FROM cursors");
  data.customers.push_back(
      Customer("99", "New Ltd", "Nia", "New", "nia@new.example", test_support::UnixMillisNow()));
  ChangeData(data);

  auto rejected = Sync({}, {{"E2E_QBO_TOKEN", "wrong"}});
  EXPECT_EQ(rejected.code, 1);
  EXPECT_NE(
      rejected.err.find("qbo: GET " + fake_->QboOrigin() + "/v3/company/" + kRealm + "/query?"),
      std::string::npos)
      << rejected.err;
  EXPECT_NE(rejected.err.find("returned 401"), std::string::npos) << rejected.err;
  EXPECT_NE(rejected.err.find("(code 3200)"), std::string::npos) << rejected.err;
  EXPECT_NE(rejected.err.find("intuit_tid"), std::string::npos) << rejected.err;
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE status = 'failed' AND error LIKE "
                     "'%returned 401%(intuit_tid: _%'"),
            1)
      << "the request id is kept on the run";
  EXPECT_EQ(Export(), before);
  EXPECT_EQ(QueryInt("SELECT sum(value_ms) FROM cursors"), cursors);

  data.qbo_fail_status = 500;
  ChangeData(data);
  auto failed = Sync();
  EXPECT_EQ(failed.code, 1);
  EXPECT_NE(failed.err.find("returned 500"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("(code 10000)"), std::string::npos) << failed.err;
  EXPECT_EQ(Export(), before) << "nothing of a failed run is applied";
  EXPECT_EQ(QueryInt("SELECT sum(value_ms) FROM cursors"), cursors);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE status = 'failed' AND error LIKE 'qbo: %'"),
            2);

  data.qbo_fail_status = 0;
  ChangeData(data);
  ASSERT_EQ(Sync().code, 0);
  EXPECT_NE(FindByEmail(Persons(), "nia@new.example"), nullptr);
}

}  // namespace
}  // namespace concord
