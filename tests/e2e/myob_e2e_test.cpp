// A tenant whose finance system is MYOB (AccountRight), end to end: `concord` + concord-fake
// (MYOB Customer API and SCIM wire formats) + PostgreSQL. Each test gets its own database,
// data file and fake server.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
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

constexpr const char* kCompanyFile = "8f1c0d2e-0000-4000-8000-000000000001";
constexpr const char* kMyobKey = "myob-key-e2e";
constexpr const char* kMyobToken = "myob-token-e2e";
constexpr const char* kScimToken = "scim-token-e2e";

// An hour ago: old enough to be behind any cursor a first sync sets.
const std::int64_t kEarlier = test_support::UnixMillisNow() - 3'600'000;

// "2026-01-05T18:02:03.250": MYOB writes LastModified in UTC without a zone.
std::string MyobTime(std::int64_t ms) {
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(ms % 1000));
  return std::string(buffer) + millis;
}

std::string IsoZ(std::int64_t ms) {
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

json::object Address(int location, std::string contact_name, std::string email) {
  json::object a{{"Location", location}, {"Street", "12 Quay St"}, {"City", "Auckland"},
                 {"State", ""},          {"PostCode", "1010"},     {"Country", "New Zealand"},
                 {"Phone1", nullptr},    {"Website", nullptr},     {"Salutation", ""}};
  a["ContactName"] = contact_name.empty() ? json::value(nullptr) : json::value(contact_name);
  a["Email"] = email.empty() ? json::value(nullptr) : json::value(email);
  return a;
}

json::object Customer(std::string uid, std::string company, std::string first, std::string last,
                      json::array addresses, std::int64_t modified = kEarlier, bool active = true) {
  return json::object{
      {"UID", uid},
      {"DisplayID", "CUS-" + uid.substr(0, 6)},
      {"CompanyName", company.empty() ? json::value(nullptr) : json::value(company)},
      {"FirstName", first.empty() ? json::value(nullptr) : json::value(first)},
      {"LastName", last.empty() ? json::value(nullptr) : json::value(last)},
      {"IsIndividual", company.empty()},
      {"IsActive", active},
      {"Addresses", addresses},
      {"Notes", ""},
      {"CurrentBalance", 0},
      {"LastModified", MyobTime(modified)},
      {"RowVersion", "7305512281843466240"}};
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
  int myob_fail_status = 0;

  std::string Render() const {
    json::object myob{{"company_file_id", kCompanyFile},
                      {"api_key", kMyobKey},
                      {"access_token", kMyobToken},
                      {"customers", customers}};
    if (myob_fail_status) myob["fail_status"] = myob_fail_status;
    return json::serialize(json::object{
        {"myob", myob}, {"scim", json::object{{"token", kScimToken}, {"users", users}}}});
  }
};

using Result = test_support::ChildResult;

class MyobE2eTest : public ::testing::Test {
 protected:
  void StartFake(const Data& data) {
    test_support::WriteFile(tmp_.File("data.json"), data.Render());
    fake_.emplace(tmp_.File("data.json"));
    WriteConfig();
  }

  void ChangeData(const Data& data) {
    test_support::WriteFile(tmp_.File("data.json"), data.Render());
  }

  void WriteConfig(int page_size = 400) {
    const std::string toml = "[database]\nurl = \"" + db_->url() + "\"\n[log]\nlevel = \"info\"\n" +
                             "[[tenant]]\nid = \"acme\"\n"
                             "[tenant.finance]\nkind = \"myob\"\n"
                             "base_url = \"" +
                             fake_->MyobOrigin() + "/accountright/" + kCompanyFile +
                             "\"\naccess_token = \"env:E2E_MYOB_TOKEN\"\n"
                             "api_key = \"env:E2E_MYOB_KEY\"\n"
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
    options.env = {
        {"E2E_MYOB_TOKEN", kMyobToken}, {"E2E_MYOB_KEY", kMyobKey}, {"E2E_SCIM_TOKEN", kScimToken}};
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

  // The request targets the MYOB fake has answered so far, in order, percent-decoded.
  std::vector<std::string> MyobTargets() {
    std::vector<std::string> out;
    const std::string log = fake_->Process().Stderr();
    std::size_t at = 0;
    while ((at = log.find("myob GET ", at)) != std::string::npos) {
      const std::size_t start = at + 9;
      const std::size_t end = log.find_first_of(" \n", start);
      const std::string target = log.substr(start, end - start);
      at = end;
      std::string decoded;
      for (std::size_t i = 0; i < target.size(); ++i) {
        if (target[i] == '%' && i + 2 < target.size()) {
          decoded.push_back(static_cast<char>(std::stoi(target.substr(i + 1, 2), nullptr, 16)));
          i += 2;
        } else {
          decoded.push_back(target[i]);
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

// A company with two people at its addresses, an inactive individual, and a company whose
// addresses name no one.
Data Harbour() {
  Data d;
  d.customers.push_back(
      Customer("c-harbour", "Harbour Lights Ltd", "", "",
               json::array{Address(1, "Mere Tane", "Mere.Tane@HarbourLights.example"),
                           Address(2, "Ari Ngata", "ari@harbourlights.example"),
                           Address(3, "Mere Tane", "mere.tane@harbourlights.example")}));
  d.customers.push_back(Customer("c-olive", "", "Olive", "Old",
                                 json::array{Address(1, "Olive", "olive@old.example")}, kEarlier,
                                 /*active=*/false));
  d.customers.push_back(Customer("c-none", "No Email Ltd", "", "", json::array{}));
  d.users.push_back(User("u-mere", "mere.tane@harbourlights.example", "Mere", "Tane"));
  d.users.push_back(User("u-olive", "olive@old.example", "Olive", "Old"));
  return d;
}

TEST_F(MyobE2eTest, FullSyncReadsPersonsFromAddressesAndInactiveCustomers) {
  StartFake(Harbour());
  Migrate();
  auto sync = Sync({"--full"});
  ASSERT_EQ(sync.code, 0) << sync.err;

  auto persons = Persons();
  EXPECT_EQ(persons.size(), 4u) << Export();
  const auto* mere = FindByEmail(persons, "mere.tane@harbourlights.example");
  ASSERT_NE(mere, nullptr) << Export();
  ASSERT_EQ(mere->at("finance").as_array().size(), 1u) << "Location 3 is the same person";
  const auto& link = mere->at("finance").as_array()[0].as_object();
  EXPECT_EQ(link.at("source"), "myob");
  EXPECT_EQ(link.at("remote_id"), "c-harbour");
  EXPECT_EQ(link.at("account_id"), "c-harbour");
  EXPECT_EQ(link.at("account_name"), "Harbour Lights Ltd");
  EXPECT_EQ(mere->at("given_name"), "Mere");
  EXPECT_EQ(mere->at("family_name"), "Tane");
  EXPECT_EQ(mere->at("portal").as_array().size(), 1u) << "the portal user is linked";

  const auto* ari = FindByEmail(persons, "ari@harbourlights.example");
  ASSERT_NE(ari, nullptr);
  const auto& ari_link = ari->at("finance").as_array()[0].as_object();
  EXPECT_EQ(ari_link.at("remote_id"), "c-harbour/persons/ari@harbourlights.example");
  EXPECT_EQ(ari_link.at("account_id"), "c-harbour");

  const auto* olive = FindByEmail(persons, "olive@old.example");
  ASSERT_NE(olive, nullptr);
  EXPECT_EQ(olive->at("finance").as_array()[0].at("status"), "archived");
  EXPECT_EQ(olive->at("family_name"), "Old");

  const auto targets = MyobTargets();
  ASSERT_FALSE(targets.empty());
  EXPECT_EQ(targets[0],
            "/accountright/" + std::string(kCompanyFile) + "/Contact/Customer?$top=400");
}

TEST_F(MyobE2eTest, PagesByFollowingNextPageLink) {
  Data data;
  for (int i = 1; i <= 7; ++i) {
    const std::string n = std::to_string(i);
    data.customers.push_back(Customer(
        "c" + n, "Account " + n, "", "",
        json::array{Address(1, "Given" + n + " Family" + n, "person" + n + "@paging.example")}));
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
  const auto targets = MyobTargets();
  ASSERT_EQ(targets.size(), 4u) << "pages of 2, 2, 2 and 1";
  EXPECT_TRUE(targets[0].ends_with("/Contact/Customer?$top=2")) << targets[0];
  for (std::size_t i = 1; i < targets.size(); ++i) {
    EXPECT_TRUE(targets[i].ends_with("?$top=2&$skip=" + std::to_string(2 * i))) << targets[i];
  }
  EXPECT_EQ(QueryInt("SELECT (counts->>'fetched_finance')::bigint FROM runs"), 7);
}

TEST_F(MyobE2eTest, IncrementalSendsTheCursorAndSeesOnlyChanges) {
  auto data = Harbour();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  const std::int64_t cursor = QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'");
  ASSERT_GT(cursor, 0);

  std::this_thread::sleep_for(1100ms);  // the next cursor must differ from this one
  // One customer changes its primary email, one is made inactive, one is new.
  json::object& harbour = data.customers[0].as_object();
  harbour["Addresses"].as_array()[0].as_object()["Email"] = "mere@harbourlights.example";
  harbour["Addresses"].as_array()[2].as_object()["Email"] = "mere@harbourlights.example";
  harbour["LastModified"] = MyobTime(test_support::UnixMillisNow());
  data.customers[2].as_object()["IsActive"] = false;
  data.customers[2].as_object()["LastModified"] = MyobTime(test_support::UnixMillisNow());
  data.customers.push_back(Customer("c-new", "New Ltd", "", "",
                                    json::array{Address(1, "Nia New", "nia@new.example")},
                                    test_support::UnixMillisNow()));
  ChangeData(data);

  const std::size_t targets_before = MyobTargets().size();
  auto sync = Sync();
  ASSERT_EQ(sync.code, 0) << sync.err;
  const auto targets = MyobTargets();
  ASSERT_EQ(targets.size(), targets_before + 1);
  std::time_t seconds = cursor / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char since[32];
  std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S", &tm);
  EXPECT_EQ(targets.back(), "/accountright/" + std::string(kCompanyFile) +
                                "/Contact/Customer?$top=400&$filter=LastModified gt datetime'" +
                                since + "'");
  EXPECT_EQ(QueryInt("SELECT (counts->>'fetched_finance')::bigint FROM runs "
                     "ORDER BY id DESC LIMIT 1"),
            4)
      << "only the changed customers are read (Harbour's two persons, No Email, New)";
  EXPECT_GT(QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'"), cursor);

  auto after = Persons();
  EXPECT_NE(FindByEmail(after, "nia@new.example"), nullptr);
  const auto* mere = FindByEmail(after, "mere@harbourlights.example");
  ASSERT_NE(mere, nullptr) << Export();
  EXPECT_EQ(mere->at("finance").as_array()[0].at("remote_id"), "c-harbour")
      << "the primary person keeps its link when its email changes";
  bool none_archived = false;
  for (const auto& p : after) {
    for (const auto& link : p.at("finance").as_array()) {
      if (link.at("remote_id") == "c-none") none_archived = link.at("status") == "archived";
    }
  }
  EXPECT_TRUE(none_archived) << Export();
  EXPECT_NE(FindByEmail(after, "ari@harbourlights.example"), nullptr) << "unchanged, kept";

  // Nothing changed since: a third run reads nothing new and changes nothing.
  const std::string exported = Export();
  ASSERT_EQ(Sync().code, 0);
  EXPECT_EQ(Export(), exported);
}

TEST_F(MyobE2eTest, RejectedTokenAndServerErrorsFailCleanlyWithCursorsUnmoved) {
  auto data = Harbour();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  const std::string before = Export();
  const std::int64_t cursors = QueryInt("SELECT sum(value_ms) FROM cursors");
  data.customers.push_back(Customer("c-new", "New Ltd", "", "",
                                    json::array{Address(1, "Nia New", "nia@new.example")},
                                    test_support::UnixMillisNow()));
  ChangeData(data);

  auto rejected = Sync({}, {{"E2E_MYOB_TOKEN", "wrong"}});
  EXPECT_EQ(rejected.code, 1);
  EXPECT_NE(rejected.err.find("myob: GET " + fake_->MyobOrigin() + "/accountright/" + kCompanyFile +
                              "/Contact/Customer?"),
            std::string::npos)
      << rejected.err;
  EXPECT_NE(rejected.err.find("returned 401"), std::string::npos) << rejected.err;
  EXPECT_NE(rejected.err.find("OAuthTokenIsInvalid (ErrorCode 31001)"), std::string::npos)
      << rejected.err;
  EXPECT_NE(rejected.err.find("x-myobapi-requestid"), std::string::npos) << rejected.err;
  EXPECT_EQ(Export(), before);
  EXPECT_EQ(QueryInt("SELECT sum(value_ms) FROM cursors"), cursors);

  data.myob_fail_status = 500;
  ChangeData(data);
  auto failed = Sync();
  EXPECT_EQ(failed.code, 1);
  EXPECT_NE(failed.err.find("returned 500"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("InternalError"), std::string::npos) << failed.err;
  EXPECT_EQ(Export(), before) << "nothing of a failed run is applied";
  EXPECT_EQ(QueryInt("SELECT sum(value_ms) FROM cursors"), cursors);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE status = 'failed' AND error LIKE 'myob: %'"),
            2);

  data.myob_fail_status = 0;
  ChangeData(data);
  ASSERT_EQ(Sync().code, 0);
  EXPECT_NE(FindByEmail(Persons(), "nia@new.example"), nullptr);
}

}  // namespace
}  // namespace concord
