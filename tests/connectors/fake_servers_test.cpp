// The real Xero, QBO, MYOB and SCIM sources against the real concord-fake binary over loopback
// HTTP: paging, incremental reads, archived contacts, error statuses, transport errors, clocks.

#include "tests/support/fake_servers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/myob.hpp"
#include "connectors/qbo.hpp"
#include "connectors/scim.hpp"
#include "connectors/wire_time.hpp"
#include "connectors/xero.hpp"
#include "tests/support/temp_dir.hpp"

namespace concord::connectors {
namespace {

namespace json = boost::json;
using reconcile::LinkStatus;
using reconcile::Millis;

constexpr const char* kTenantId = "7a1b7c2d-0000-4000-8000-000000000001";
constexpr const char* kXeroToken = "xero-access-token";
constexpr const char* kScimToken = "scim-bearer-token";

// 2024-06-01T00:00:00Z and later instants used as UpdatedDateUTC / lastModified.
constexpr Millis kJune1 = 1717200000000;
constexpr Millis kHour = 3600 * 1000;
constexpr Millis kJuly1 = 1719792000000;

std::string XeroDate(Millis at) { return "/Date(" + std::to_string(at) + "+0000)/"; }

json::object Contact(int n, Millis updated, const char* status = "ACTIVE") {
  json::object contact;
  contact["ContactID"] = "00000000-0000-4000-8000-00000000000" + std::to_string(n);
  contact["ContactStatus"] = status;
  contact["Name"] = "Account " + std::to_string(n);
  contact["FirstName"] = "First" + std::to_string(n);
  contact["LastName"] = "Last" + std::to_string(n);
  contact["EmailAddress"] = "person" + std::to_string(n) + "@example.com";
  contact["ContactPersons"] = json::array{};
  contact["UpdatedDateUTC"] = XeroDate(updated);
  return contact;
}

json::object User(int n, Millis modified, bool active = true) {
  json::object user;
  user["schemas"] = json::array{"urn:ietf:params:scim:schemas:core:2.0:User"};
  user["id"] = "user-" + std::to_string(n);
  user["userName"] = "login" + std::to_string(n) + "@example.com";
  user["name"] = json::object{{"givenName", "Given" + std::to_string(n)},
                              {"familyName", "Family" + std::to_string(n)}};
  user["displayName"] = "User " + std::to_string(n);
  user["active"] = active;
  user["emails"] = json::array{
      json::object{{"value", "home" + std::to_string(n) + "@example.net"}, {"type", "home"}},
      json::object{{"value", "work" + std::to_string(n) + "@example.com"},
                   {"type", "work"},
                   {"primary", true}}};
  user["meta"] =
      json::object{{"resourceType", "User"}, {"lastModified", FormatIsoSecondsZ(modified)}};
  return user;
}

// Seven contacts (contact 3 archived, contact 5 with two ContactPersons) and seven users.
struct Data {
  std::vector<json::object> contacts;
  std::vector<json::object> users;

  Data() {
    for (int n = 1; n <= 7; ++n) {
      contacts.push_back(Contact(n, kJune1 + n * kHour, n == 3 ? "ARCHIVED" : "ACTIVE"));
      users.push_back(User(n, kJune1 + n * kHour, n != 6));
    }
    contacts[4]["ContactPersons"] =
        json::array{json::object{{"FirstName", "Ari"}, {"EmailAddress", "ari@example.com"}},
                    json::object{{"FirstName", "NoMail"}}};
  }

  std::string Serialize() const {
    json::array xero_contacts(contacts.begin(), contacts.end());
    json::array scim_users(users.begin(), users.end());
    return json::serialize(json::object{
        {"xero", json::object{{"tenant_id", kTenantId},
                              {"access_token", kXeroToken},
                              {"contacts", std::move(xero_contacts)}}},
        {"scim", json::object{{"token", kScimToken}, {"users", std::move(scim_users)}}}});
  }
};

Millis Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FakeServersTest : public ::testing::Test {
 protected:
  void Rewrite() { test_support::WriteFile(data_file_, data_.Serialize()); }

  XeroSettings Xero(int page_size) const {
    XeroSettings settings;
    settings.base_url = fake_.XeroOrigin() + "/api.xro/2.0";
    settings.access_token = kXeroToken;
    settings.xero_tenant_id = kTenantId;
    settings.page_size = page_size;
    settings.http.timeout_seconds = 10;
    return settings;
  }

  ScimSettings Scim(int page_size) const {
    ScimSettings settings;
    settings.base_url = fake_.ScimOrigin() + "/scim/v2";
    settings.token = kScimToken;
    settings.page_size = page_size;
    settings.http.timeout_seconds = 10;
    return settings;
  }

  Data data_;
  test_support::TempDir dir_{"concord-connectors"};
  std::string data_file_ = dir_.File("data.json");
  // Written before the fake starts: it loads the file at start-up.
  bool written_ = (test_support::WriteFile(data_file_, data_.Serialize()), true);
  test_support::FakeServers fake_{data_file_};
};

struct FinanceRun {
  FetchSummary summary;
  int pages = 0;
  std::map<std::string, reconcile::FinancePerson> persons;  // by remote_id
  std::size_t quarantined = 0;
};

FinanceRun FetchAll(FinanceSource& source, FetchRequest request = {}) {
  FinanceRun run;
  run.summary = source.Fetch(request, [&](FinancePage&& page) {
    ++run.pages;
    for (auto& person : page.persons) run.persons[person.remote_id] = std::move(person);
    run.quarantined += page.quarantined.size();
  });
  return run;
}

struct PortalRun {
  FetchSummary summary;
  int pages = 0;
  std::map<std::string, reconcile::PortalUser> users;  // by remote_id
};

PortalRun FetchAll(PortalSource& source, FetchRequest request = {}) {
  PortalRun run;
  run.summary = source.Fetch(request, [&](PortalPage&& page) {
    ++run.pages;
    for (auto& user : page.users) run.users[user.remote_id] = std::move(user);
    EXPECT_TRUE(page.quarantined.empty());
  });
  return run;
}

std::string CaughtMessage(const std::function<void()>& fetch) {
  try {
    fetch();
  } catch (const FetchError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a FetchError";
  return {};
}

void ExpectPlausibleClock(Millis clock) {
  EXPECT_GT(clock, Now() - 5 * 60 * 1000) << FormatIsoSecondsZ(clock);
  EXPECT_LT(clock, Now() + 5 * 60 * 1000) << FormatIsoSecondsZ(clock);
}

TEST_F(FakeServersTest, XeroFullReadPagesAndIncludesArchived) {
  auto source = MakeXeroSource(Xero(3));
  const FinanceRun run = FetchAll(*source);

  EXPECT_EQ(run.pages, 3);  // 3 + 3 + 1 contacts
  EXPECT_EQ(run.summary.pages, 3);
  EXPECT_EQ(run.persons.size(), 9u) << "7 contacts + 2 ContactPersons";
  EXPECT_EQ(run.summary.records, 9);
  EXPECT_EQ(run.quarantined, 0u);
  ExpectPlausibleClock(run.summary.source_clock);

  const std::string id3 = "00000000-0000-4000-8000-000000000003";
  ASSERT_TRUE(run.persons.count(id3));
  EXPECT_EQ(run.persons.at(id3).status, LinkStatus::kArchived);
  const std::string id5 = "00000000-0000-4000-8000-000000000005";
  EXPECT_TRUE(run.persons.count(id5 + "/persons/ari@example.com"));
  EXPECT_TRUE(run.persons.count(id5 + "/persons/#1"));
  const reconcile::FinancePerson& one = run.persons.at("00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(one.email, "person1@example.com");
  EXPECT_EQ(one.account_name, "Account 1");
  EXPECT_EQ(one.updated_at, kJune1 + kHour);
  EXPECT_EQ(one.status, LinkStatus::kActive);
}

TEST_F(FakeServersTest, XeroIncrementalSeesOnlyChanges) {
  auto source = MakeXeroSource(Xero(2));
  ASSERT_EQ(FetchAll(*source).persons.size(), 9u);

  // Three contacts change after the cursor; one of them is archived now.
  data_.contacts[1]["EmailAddress"] = "changed2@example.com";
  data_.contacts[1]["UpdatedDateUTC"] = XeroDate(kJuly1);
  data_.contacts[5]["ContactStatus"] = "ARCHIVED";
  data_.contacts[5]["UpdatedDateUTC"] = XeroDate(kJuly1 + 1500);
  data_.contacts[6]["Name"] = "Renamed 7";
  data_.contacts[6]["UpdatedDateUTC"] = XeroDate(kJuly1 + kHour);
  Rewrite();

  const FinanceRun run = FetchAll(*source, FetchRequest{kJuly1 - kHour});
  EXPECT_EQ(run.pages, 2);  // 2 + 1 with page size 2
  ASSERT_EQ(run.persons.size(), 3u);
  EXPECT_EQ(run.persons.at("00000000-0000-4000-8000-000000000002").email, "changed2@example.com");
  EXPECT_EQ(run.persons.at("00000000-0000-4000-8000-000000000006").status, LinkStatus::kArchived);
  EXPECT_EQ(run.persons.at("00000000-0000-4000-8000-000000000007").account_name, "Renamed 7");
  ExpectPlausibleClock(run.summary.source_clock);

  // A cursor after every change: nothing.
  const FinanceRun none = FetchAll(*source, FetchRequest{kJuly1 + 2 * kHour});
  EXPECT_EQ(none.persons.size(), 0u);
  EXPECT_EQ(none.summary.pages, 1);
}

TEST_F(FakeServersTest, XeroWrongTokenIs401NamingConnectorUrlAndStatus) {
  XeroSettings settings = Xero(3);
  settings.access_token = "wrong";
  auto source = MakeXeroSource(settings);
  const std::string message = CaughtMessage([&] { (void)FetchAll(*source); });
  EXPECT_EQ(message.rfind("xero: GET " + settings.base_url + "/Contacts?page=1", 0), 0u) << message;
  EXPECT_NE(message.find("returned 401"), std::string::npos) << message;
  EXPECT_NE(message.find("Xero-Correlation-Id"), std::string::npos) << message;
}

TEST_F(FakeServersTest, XeroWrongTenantIs403) {
  XeroSettings settings = Xero(3);
  settings.xero_tenant_id = "00000000-0000-0000-0000-000000000000";
  auto source = MakeXeroSource(settings);
  try {
    (void)FetchAll(*source);
    FAIL();
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 403);
  }
}

TEST_F(FakeServersTest, ScimFullReadPages) {
  auto source = MakeScimSource(Scim(3));
  const PortalRun run = FetchAll(*source);

  EXPECT_EQ(run.pages, 3);  // 3 + 3 + 1 users
  EXPECT_EQ(run.summary.records, 7);
  ASSERT_EQ(run.users.size(), 7u);
  ExpectPlausibleClock(run.summary.source_clock);
  const reconcile::PortalUser& four = run.users.at("user-4");
  EXPECT_EQ(four.email, "work4@example.com");
  EXPECT_EQ(four.user_name, "login4@example.com");
  EXPECT_EQ(four.given_name, "Given4");
  EXPECT_EQ(four.family_name, "Family4");
  EXPECT_EQ(four.display_name, "User 4");
  EXPECT_TRUE(four.active);
  EXPECT_EQ(four.updated_at, kJune1 + 4 * kHour);
  EXPECT_FALSE(run.users.at("user-6").active);
}

TEST_F(FakeServersTest, ScimIncrementalSendsTheFilterAndSeesOnlyChanges) {
  auto source = MakeScimSource(Scim(2));
  ASSERT_EQ(FetchAll(*source).users.size(), 7u);

  data_.users[0]["active"] = "False";  // the Entra string form
  data_.users[0]["meta"].as_object()["lastModified"] = FormatIsoSecondsZ(kJuly1);
  data_.users[2]["displayName"] = "Renamed 3";
  data_.users[2]["meta"].as_object()["lastModified"] = FormatIsoSecondsZ(kJuly1 + kHour);
  data_.users[4]["emails"] = json::array{json::object{{"value", "new5@example.com"}}};
  data_.users[4]["meta"].as_object()["lastModified"] = FormatIsoSecondsZ(kJuly1 + 2 * kHour);
  Rewrite();

  const PortalRun run = FetchAll(*source, FetchRequest{kJuly1 - kHour});
  EXPECT_EQ(run.pages, 2);
  ASSERT_EQ(run.users.size(), 3u);
  EXPECT_FALSE(run.users.at("user-1").active);
  EXPECT_EQ(run.users.at("user-3").display_name, "Renamed 3");
  EXPECT_EQ(run.users.at("user-5").email, "new5@example.com");

  EXPECT_TRUE(FetchAll(*source, FetchRequest{kJuly1 + 3 * kHour}).users.empty());
}

TEST_F(FakeServersTest, ScimWrongTokenIs401NamingConnectorUrlAndStatus) {
  ScimSettings settings = Scim(3);
  settings.token = "wrong";
  auto source = MakeScimSource(settings);
  const std::string message = CaughtMessage([&] { (void)FetchAll(*source); });
  EXPECT_EQ(message.rfind("scim: GET " + settings.base_url + "/Users?startIndex=1&count=3", 0), 0u)
      << message;
  EXPECT_NE(message.find("returned 401"), std::string::npos) << message;
  EXPECT_NE(message.find("bearer token"), std::string::npos) << "the SCIM detail: " << message;
}

TEST_F(FakeServersTest, ScimQuirksOfRealPortals) {
  const auto serve = [&](json::object quirks) {
    json::array users(data_.users.begin(), data_.users.end());
    test_support::WriteFile(
        data_file_,
        json::serialize(json::object{{"scim", json::object{{"token", kScimToken},
                                                           {"quirks", std::move(quirks)},
                                                           {"users", std::move(users)}}}}));
  };
  const std::string first_url = Scim(5).base_url + "/Users?startIndex=1&count=5";

  // String booleans, no Resources on an empty page, at most 2 users a page whatever is asked.
  serve({{"string_booleans", true}, {"omit_empty_resources", true}, {"max_count", 2}});
  auto source = MakeScimSource(Scim(5));
  const PortalRun run = FetchAll(*source);
  EXPECT_EQ(run.pages, 4) << "2 + 2 + 2 + 1 users, though 5 were asked for";
  ASSERT_EQ(run.users.size(), 7u);
  EXPECT_TRUE(run.users.at("user-4").active);
  EXPECT_FALSE(run.users.at("user-6").active);
  EXPECT_EQ(run.users.at("user-4").email, "work4@example.com");
  EXPECT_TRUE(FetchAll(*source, FetchRequest{kJuly1}).users.empty());

  // A server that refuses a count above its maximum: its SCIM Error is the message.
  serve({{"max_count", 2}, {"reject_over_max_count", true}});
  std::string message = CaughtMessage([&] { (void)FetchAll(*source); });
  EXPECT_EQ(message, "scim: GET " + first_url +
                         " returned 400 Bad Request: tooMany: count 5 exceeds the maximum of 2 "
                         "results per page");

  // A totalResults that promises more than there is: an error, not a silent end, and no loop.
  serve({{"overstate_total", 3}});
  message = CaughtMessage([&] { (void)FetchAll(*source); });
  EXPECT_NE(message.find("returned no users at startIndex 8 although totalResults is 10"),
            std::string::npos)
      << message;
}

TEST_F(FakeServersTest, UnavailableServersAreRetriedThenReported) {
  // fail_status makes the fake answer every request with that status.
  test_support::WriteFile(
      data_file_, json::serialize(json::object{{"xero", json::object{{"tenant_id", kTenantId},
                                                                     {"access_token", kXeroToken},
                                                                     {"fail_status", 503},
                                                                     {"contacts", json::array{}}}},
                                               {"scim", json::object{{"token", kScimToken},
                                                                     {"fail_status", 503},
                                                                     {"users", json::array{}}}}}));
  std::vector<std::chrono::milliseconds> waits;
  const SleepFunction record = [&waits](std::chrono::milliseconds pause) {
    waits.push_back(pause);
  };

  const XeroSettings xero_settings = Xero(3);
  auto xero =
      MakeXeroSource(xero_settings, std::make_unique<HttpClient>(xero_settings.http), record);
  try {
    (void)FetchAll(*xero);
    FAIL();
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 503);
    EXPECT_NE(std::string(error.what()).find("xero: GET "), std::string::npos);
  }
  EXPECT_EQ(waits.size(), 3u) << "three retries with backoff (Xero sends no Retry-After)";

  waits.clear();
  const ScimSettings scim_settings = Scim(3);
  auto scim =
      MakeScimSource(scim_settings, std::make_unique<HttpClient>(scim_settings.http), record);
  try {
    (void)FetchAll(*scim);
    FAIL();
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 503);
    EXPECT_EQ(error.retry_after_seconds(), 30);
  }
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>(3, std::chrono::seconds(30)))
      << "the fake's Retry-After";
}

// ---- QuickBooks Online ----------------------------------------------------------------------

constexpr const char* kRealm = "9130350000000001";
constexpr const char* kQboToken = "qbo-access-token";

// "2024-06-01T01:00:00-07:00"-style: QBO writes local times with an offset.
std::string QboTimeOf(Millis at) { return FormatIsoSeconds(at - 7 * kHour) + "-07:00"; }

json::object Customer(int n, Millis updated, bool active = true) {
  return json::object{
      {"Id", std::to_string(n)},
      {"SyncToken", "0"},
      {"DisplayName", "Account " + std::to_string(n)},
      {"GivenName", "Given" + std::to_string(n)},
      {"FamilyName", "Family" + std::to_string(n)},
      {"PrimaryEmailAddr", json::object{{"Address", "c" + std::to_string(n) + "@example.com"}}},
      {"Active", active},
      {"Job", false},
      {"FullyQualifiedName", "Account " + std::to_string(n)},
      {"MetaData",
       json::object{{"CreateTime", QboTimeOf(kJune1)}, {"LastUpdatedTime", QboTimeOf(updated)}}}};
}

json::object SubCustomer(int n, int parent, int level, const std::string& qualified,
                         Millis updated) {
  json::object c = Customer(n, updated);
  c["Job"] = true;
  c["Level"] = level;
  c["ParentRef"] = json::object{{"value", std::to_string(parent)}};
  c["FullyQualifiedName"] = qualified;
  c["DisplayName"] = qualified.substr(qualified.rfind(':') + 1);
  return c;
}

class QboFakeTest : public ::testing::Test {
 protected:
  // Seven customers (3 deactivated), a sub-customer 8 of 5 and a job 9 under 8.
  QboFakeTest() {
    for (int n = 1; n <= 7; ++n) customers_.push_back(Customer(n, kJune1 + n * kHour, n != 3));
    customers_.push_back(SubCustomer(8, 5, 1, "Account 5:Site", kJune1 + 8 * kHour));
    customers_.push_back(SubCustomer(9, 8, 2, "Account 5:Site:Kitchen", kJune1 + 9 * kHour));
    Rewrite();
    fake_.emplace(data_file_);
  }

  void Rewrite() {
    json::array customers(customers_.begin(), customers_.end());
    test_support::WriteFile(
        data_file_, json::serialize(json::object{{"qbo", json::object{{"realm_id", kRealm},
                                                                      {"access_token", kQboToken},
                                                                      {"customers", customers}}}}));
  }

  QboSettings Qbo(int page_size) const {
    QboSettings settings;
    settings.base_url = fake_->QboOrigin();
    settings.access_token = kQboToken;
    settings.realm_id = kRealm;
    settings.page_size = page_size;
    settings.http.timeout_seconds = 10;
    return settings;
  }

  std::vector<json::object> customers_;
  test_support::TempDir dir_{"concord-connectors-qbo"};
  std::string data_file_ = dir_.File("data.json");
  std::optional<test_support::FakeServers> fake_;
};

TEST_F(QboFakeTest, FullReadPagesIncludesDeactivatedAndPutsJobsOnTheTopAccount) {
  auto source = MakeQboSource(Qbo(3));
  const FinanceRun run = FetchAll(*source);
  EXPECT_EQ(run.pages, 4) << "3 full pages, then an empty one";
  EXPECT_EQ(run.persons.size(), 9u);
  EXPECT_EQ(run.quarantined, 0u);
  ExpectPlausibleClock(run.summary.source_clock);
  EXPECT_EQ(run.persons.at("3").status, LinkStatus::kArchived);
  const reconcile::FinancePerson& one = run.persons.at("1");
  EXPECT_EQ(one.account_id, "1");
  EXPECT_EQ(one.account_name, "Account 1");
  EXPECT_EQ(one.email, "c1@example.com");
  EXPECT_EQ(one.updated_at, kJune1 + kHour);
  for (const char* job : {"8", "9"}) {
    EXPECT_EQ(run.persons.at(job).account_id, "5") << job;
    EXPECT_EQ(run.persons.at(job).account_name, "Account 5") << job;
  }
}

TEST_F(QboFakeTest, IncrementalSeesOnlyChangesAndLooksUpAJobsAncestors) {
  auto source = MakeQboSource(Qbo(2));
  ASSERT_EQ(FetchAll(*source).persons.size(), 9u);

  customers_[1]["PrimaryEmailAddr"] = json::object{{"Address", "a@example.com, b@example.com"}};
  customers_[1]["MetaData"].as_object()["LastUpdatedTime"] = QboTimeOf(kJuly1);
  customers_[5]["Active"] = false;
  customers_[5]["MetaData"].as_object()["LastUpdatedTime"] = QboTimeOf(kJuly1 + 1500);
  customers_[8]["GivenName"] = "Kit";
  customers_[8]["MetaData"].as_object()["LastUpdatedTime"] = QboTimeOf(kJuly1 + kHour);
  Rewrite();

  const FinanceRun run = FetchAll(*source, FetchRequest{kJuly1 - kHour});
  EXPECT_EQ(run.pages, 2);  // 2 + 1 with page size 2
  ASSERT_EQ(run.persons.size(), 3u);
  EXPECT_EQ(run.persons.at("2").email, "a@example.com, b@example.com");
  EXPECT_EQ(run.persons.at("6").status, LinkStatus::kArchived);
  EXPECT_EQ(run.persons.at("9").given_name, "Kit");
  EXPECT_EQ(run.persons.at("9").account_id, "5") << "its parent 8 was read by Id";
  ExpectPlausibleClock(run.summary.source_clock);

  const FinanceRun none = FetchAll(*source, FetchRequest{kJuly1 + 2 * kHour});
  EXPECT_EQ(none.persons.size(), 0u);
  EXPECT_EQ(none.summary.pages, 1);
}

TEST_F(QboFakeTest, WrongTokenIs401NamingConnectorUrlCodeAndTrace) {
  QboSettings settings = Qbo(3);
  settings.access_token = "wrong";
  auto source = MakeQboSource(settings);
  const std::string message = CaughtMessage([&] { (void)FetchAll(*source); });
  EXPECT_EQ(message.rfind("qbo: GET " + settings.base_url + "/v3/company/" + kRealm + "/query?", 0),
            0u)
      << message;
  EXPECT_NE(message.find("returned 401"), std::string::npos) << message;
  EXPECT_NE(message.find("(code 3200)"), std::string::npos) << message;
  EXPECT_NE(message.find("(intuit_tid: 1-"), std::string::npos) << message;
}

TEST_F(QboFakeTest, WrongRealmIs403) {
  QboSettings settings = Qbo(3);
  settings.realm_id = "4620816365000000000";
  auto source = MakeQboSource(settings);
  try {
    (void)FetchAll(*source);
    FAIL();
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 403);
    EXPECT_NE(std::string(error.what()).find("code 3100"), std::string::npos) << error.what();
  }
}

// ---- MYOB -----------------------------------------------------------------------------------

constexpr const char* kCompanyFile = "8f1c0d2e-0000-4000-8000-000000000001";
constexpr const char* kMyobKey = "myob-api-key";
constexpr const char* kMyobToken = "myob-access-token";

// "2024-06-01T01:00:00": MYOB writes LastModified without a zone.
std::string MyobTimeOf(Millis at) { return FormatIsoSeconds(at); }

json::object MyobCustomer(int n, Millis modified, bool active = true) {
  const std::string id = std::to_string(n);
  return json::object{
      {"UID", "00000000-0000-4000-8000-00000000000" + id},
      {"CompanyName", "Account " + id},
      {"IsIndividual", false},
      {"IsActive", active},
      {"Addresses", json::array{json::object{{"Location", 1},
                                             {"ContactName", "Given" + id + " Family" + id},
                                             {"Email", "c" + id + "@example.com"}},
                                json::object{{"Location", 2}, {"ContactName", "Second" + id}}}},
      {"LastModified", MyobTimeOf(modified)},
      {"RowVersion", "1"}};
}

class MyobFakeTest : public ::testing::Test {
 protected:
  // Seven customers, 3 inactive; each has a primary person and a second one without email.
  MyobFakeTest() {
    for (int n = 1; n <= 7; ++n) customers_.push_back(MyobCustomer(n, kJune1 + n * kHour, n != 3));
    Rewrite();
    fake_.emplace(data_file_);
  }

  void Rewrite() {
    json::array customers(customers_.begin(), customers_.end());
    json::object myob{{"company_file_id", kCompanyFile},
                      {"api_key", kMyobKey},
                      {"access_token", kMyobToken},
                      {"customers", customers}};
    if (!cftoken_.empty()) myob["cftoken"] = cftoken_;
    test_support::WriteFile(data_file_, json::serialize(json::object{{"myob", myob}}));
  }

  MyobSettings Myob(int page_size) const {
    MyobSettings settings;
    settings.base_url = fake_->MyobOrigin() + "/accountright/" + kCompanyFile;
    settings.api_key = kMyobKey;
    settings.access_token = kMyobToken;
    settings.page_size = page_size;
    settings.http.timeout_seconds = 10;
    return settings;
  }

  std::vector<json::object> customers_;
  std::string cftoken_;
  test_support::TempDir dir_{"concord-connectors-myob"};
  std::string data_file_ = dir_.File("data.json");
  std::optional<test_support::FakeServers> fake_;
};

TEST_F(MyobFakeTest, FullReadFollowsNextPageLinkAndIncludesInactiveCustomers) {
  auto source = MakeMyobSource(Myob(3));
  const FinanceRun run = FetchAll(*source);
  EXPECT_EQ(run.pages, 3) << "3 + 3 + 1, the last without NextPageLink";
  EXPECT_EQ(run.persons.size(), 14u);
  EXPECT_EQ(run.quarantined, 0u);
  ExpectPlausibleClock(run.summary.source_clock);
  const std::string three = "00000000-0000-4000-8000-000000000003";
  EXPECT_EQ(run.persons.at(three).status, LinkStatus::kArchived);
  EXPECT_EQ(run.persons.at(three + "/persons/#2").status, LinkStatus::kArchived);
  const reconcile::FinancePerson& one = run.persons.at("00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(one.account_name, "Account 1");
  EXPECT_EQ(one.given_name, "Given1");
  EXPECT_EQ(one.family_name, "Family1");
  EXPECT_EQ(one.email, "c1@example.com");
  EXPECT_EQ(one.updated_at, kJune1 + kHour);
}

TEST_F(MyobFakeTest, IncrementalSeesOnlyChanges) {
  auto source = MakeMyobSource(Myob(2));
  ASSERT_EQ(FetchAll(*source).persons.size(), 14u);

  customers_[1]["Addresses"].as_array()[0].as_object()["Email"] = "new2@example.com";
  customers_[1]["LastModified"] = MyobTimeOf(kJuly1);
  customers_[5]["IsActive"] = false;
  customers_[5]["LastModified"] = MyobTimeOf(kJuly1 + kHour);
  Rewrite();

  const FinanceRun run = FetchAll(*source, FetchRequest{kJuly1 - kHour});
  EXPECT_EQ(run.pages, 1);
  ASSERT_EQ(run.persons.size(), 4u);
  EXPECT_EQ(run.persons.at("00000000-0000-4000-8000-000000000002").email, "new2@example.com");
  EXPECT_EQ(run.persons.at("00000000-0000-4000-8000-000000000006").status, LinkStatus::kArchived);

  const FinanceRun none = FetchAll(*source, FetchRequest{kJuly1 + 2 * kHour});
  EXPECT_EQ(none.persons.size(), 0u);
  EXPECT_EQ(none.summary.pages, 1);
}

TEST_F(MyobFakeTest, CompanyFileCredentialsAreSentWhenConfigured) {
  cftoken_ = "QWRtaW5pc3RyYXRvcjo=";
  Rewrite();
  auto without = MakeMyobSource(Myob(10));
  const std::string message = CaughtMessage([&] { (void)FetchAll(*without); });
  EXPECT_NE(message.find("returned 401"), std::string::npos) << message;
  EXPECT_NE(message.find("InvalidCompanyFileCredentials"), std::string::npos) << message;

  MyobSettings settings = Myob(10);
  settings.cftoken = cftoken_;
  auto with = MakeMyobSource(settings);
  EXPECT_EQ(FetchAll(*with).persons.size(), 14u);
}

TEST_F(MyobFakeTest, WrongTokenAndKeyNameConnectorUrlErrorAndRequestId) {
  MyobSettings settings = Myob(3);
  settings.access_token = "wrong";
  auto source = MakeMyobSource(settings);
  const std::string message = CaughtMessage([&] { (void)FetchAll(*source); });
  EXPECT_EQ(message.rfind("myob: GET " + settings.base_url + "/Contact/Customer?$top=3", 0), 0u)
      << message;
  EXPECT_NE(message.find("returned 401"), std::string::npos) << message;
  EXPECT_NE(message.find("OAuthTokenIsInvalid (ErrorCode 31001)"), std::string::npos) << message;
  EXPECT_NE(message.find("(x-myobapi-requestid: "), std::string::npos) << message;

  settings = Myob(3);
  settings.api_key = "unknown";
  source = MakeMyobSource(settings);
  try {
    (void)FetchAll(*source);
    FAIL();
  } catch (const HttpStatusError& error) {
    EXPECT_EQ(error.status(), 403);
    EXPECT_NE(std::string(error.what()).find("DeveloperInactive"), std::string::npos)
        << error.what();
  }
}

TEST_F(MyobFakeTest, RateLimitsAreRetriedThenReported) {
  test_support::FakeServers limited(data_file_, {"--fail-myob", "403"});
  MyobSettings settings = Myob(3);
  settings.base_url = limited.MyobOrigin() + "/accountright/" + kCompanyFile;
  settings.http.max_retries = 1;
  settings.http.max_retry_wait_seconds = 1;
  auto source = MakeMyobSource(settings);
  const std::string message = CaughtMessage([&] { (void)FetchAll(*source); });
  EXPECT_NE(message.find("returned 403"), std::string::npos) << message;
  EXPECT_NE(message.find("RateLimitError"), std::string::npos) << message;
}

TEST(FakeServersGone, ConnectionRefusedIsAFetchError) {
  const int port = test_support::FreePort();  // nothing listens there any more
  XeroSettings xero;
  xero.base_url = "http://127.0.0.1:" + std::to_string(port) + "/api.xro/2.0";
  xero.access_token = kXeroToken;
  xero.xero_tenant_id = kTenantId;
  auto finance = MakeXeroSource(xero);
  const std::string message = CaughtMessage([&] { (void)FetchAll(*finance); });
  EXPECT_EQ(message.rfind("xero: GET " + xero.base_url + "/Contacts", 0), 0u) << message;
  EXPECT_NE(message.find("refused"), std::string::npos) << message;

  ScimSettings scim;
  scim.base_url = "http://127.0.0.1:" + std::to_string(port) + "/scim/v2";
  scim.token = kScimToken;
  auto portal = MakeScimSource(scim);
  const std::string scim_message = CaughtMessage([&] { (void)FetchAll(*portal); });
  EXPECT_EQ(scim_message.rfind("scim: GET " + scim.base_url + "/Users", 0), 0u) << scim_message;
  EXPECT_NE(scim_message.find("refused"), std::string::npos) << scim_message;
}

}  // namespace
}  // namespace concord::connectors
