// End-to-end tests of the concord-fake binary: started on OS-picked ports with a data file in
// a temporary directory, spoken to over plain HTTP.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/fake_servers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/http_client.hpp"

namespace concord::test_tools {
namespace {

namespace json = boost::json;
using test_support::ChildOptions;
using test_support::ChildProcess;
using test_support::FakeServers;
using test_support::TempDir;
using test_support::WriteFile;
using namespace std::chrono_literals;

constexpr std::string_view kTenant = "0f4c1b9e-5d7a-4c3e-9b21-6a8d2e4f1c00";
constexpr std::string_view kXeroToken = "xero-test-token";
constexpr std::string_view kScimToken = "scim-test-token";

json::object Contact(std::string_view id, std::string_view name, std::int64_t updated_ms,
                     std::string_view status = "ACTIVE") {
  return json::object{
      {"ContactID", id},
      {"ContactStatus", status},
      {"Name", name},
      {"EmailAddress", std::string(name.substr(0, name.find(' '))) + "@example.com"},
      {"ContactPersons", json::array{json::object{{"FirstName", "Ari"},
                                                  {"LastName", "Ngata"},
                                                  {"EmailAddress", "ari@example.com"},
                                                  {"IncludeInEmails", true}}}},
      {"Website", "https://example.com/" + std::string(id.substr(0, 4))},
      {"UpdatedDateUTC", "/Date(" + std::to_string(updated_ms) + "+0000)/"}};
}

json::object User(std::string_view id, std::string_view email, std::string_view last_modified) {
  return json::object{
      {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
      {"id", id},
      {"userName", email},
      {"active", true},
      {"emails", json::array{json::object{{"value", email}, {"primary", true}}}},
      {"meta", json::object{{"resourceType", "User"}, {"lastModified", last_modified}}}};
}

// 2026-01-10T00:00:00Z and friends, in ms.
constexpr std::int64_t kJan10 = 1768003200000;
constexpr std::int64_t kFeb01Noon = 1769947200000;  // 2026-02-01T12:00:00Z
constexpr std::int64_t kFeb15 = 1771113600000;
constexpr std::int64_t kMar01 = 1772323200000;
constexpr std::int64_t kApr01 = 1775001600000;

json::array BaseContacts() {
  // Listing order is (UpdatedDateUTC, ContactID): c1, c2, [a1 archived], c3, c4, c5.
  return json::array{
      Contact("c5000000-0000-4000-8000-000000000005", "Epsilon Ltd", kApr01),
      Contact("c4000000-0000-4000-8000-000000000004", "Delta Ltd", kMar01),
      Contact("c3000000-0000-4000-8000-000000000003", "Gamma Ltd", kMar01),
      Contact("c2000000-0000-4000-8000-000000000002", "Beta Ltd", kFeb01Noon + 500),
      Contact("c1000000-0000-4000-8000-000000000001", "Alpha Ltd", kJan10),
      Contact("a1000000-0000-4000-8000-0000000000a1", "Archived Ltd", kFeb15, "ARCHIVED"),
  };
}

json::array BaseUsers() {
  return json::array{
      User("u5", "five@example.com", "2026-05-01T00:00:00Z"),
      User("u3", "three@example.com", "2026-03-01T00:00:00Z"),
      User("u1", "one@example.com", "2026-01-01T00:00:00Z"),
      User("u4", "four@example.com", "2026-03-01T00:00:00Z"),
      User("u2", "two@example.com", "2026-02-01T00:00:00.250Z"),
  };
}

std::string DataFile(const json::array& contacts, const json::array& users,
                     json::object xero_extra = {}) {
  json::object xero{{"tenant_id", kTenant}, {"access_token", kXeroToken}, {"contacts", contacts}};
  for (const auto& member : xero_extra) xero[member.key()] = member.value();
  return json::serialize(json::object{
      {"xero", xero}, {"scim", json::object{{"token", kScimToken}, {"users", users}}}});
}

Headers XeroHeaders() {
  return {{"Authorization", "Bearer " + std::string(kXeroToken)},
          {"xero-tenant-id", std::string(kTenant)},
          {"Accept", "application/json"}};
}

Headers ScimHeaders() {
  return {{"Authorization", "Bearer " + std::string(kScimToken)},
          {"Accept", "application/scim+json"}};
}

std::vector<std::string> ContactIds(const json::value& body) {
  std::vector<std::string> ids;
  for (const auto& c : body.at("Contacts").as_array()) {
    ids.emplace_back(c.at("ContactID").as_string());
  }
  return ids;
}

std::vector<std::string> UserIds(const json::value& body) {
  std::vector<std::string> ids;
  for (const auto& u : body.at("Resources").as_array()) ids.emplace_back(u.at("id").as_string());
  return ids;
}

std::string Header(const HttpResponse& res, std::string_view name) {
  const auto it = res.find(name);
  return it == res.end() ? std::string() : std::string(it->value());
}

class ConcordFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_path_ = dir_.File("data.json");
    WriteFile(data_path_, DataFile(BaseContacts(), BaseUsers()));
    fake_.emplace(data_path_);
  }

  HttpResponse Xero(const std::string& query, Headers headers = XeroHeaders()) {
    return HttpGet(fake_->XeroPort(), "/api.xro/2.0/Contacts" + query, headers);
  }
  HttpResponse Scim(const std::string& query, Headers headers = ScimHeaders()) {
    return HttpGet(fake_->ScimPort(), "/scim/v2/Users" + query, headers);
  }

  TempDir dir_;
  std::string data_path_;
  std::optional<FakeServers> fake_;
};

TEST(ConcordFakeProcessTest, PrintsOneReadyLineAndExitsZeroOnSigterm) {
  TempDir dir;
  WriteFile(dir.File("data.json"), DataFile(BaseContacts(), BaseUsers()));
  ChildProcess fake(ChildOptions{.argv = {CONCORD_FAKE_BIN, "--data", dir.File("data.json")}});
  const std::string line = fake.ReadLine(30s);
  EXPECT_TRUE(std::regex_match(
      line,
      std::regex(
          R"(\{"xero_port":[0-9]+,"scim_port":[0-9]+,"qbo_port":[0-9]+,"myob_port":[0-9]+\})")))
      << line;
  fake.Terminate();
  EXPECT_EQ(fake.Wait(), 0) << fake.Stderr();
  EXPECT_EQ(fake.ReadToEnd(5s), "");  // nothing on stdout but the ready line
}

TEST(ConcordFakeProcessTest, RejectsABadDataFileWithExitCode2) {
  TempDir dir;
  WriteFile(dir.File("data.json"),
            R"({"xero":{"tenant_id":"t","access_token":"a","contacts":[{"Name":"x"}]}})");
  ChildProcess fake(ChildOptions{.argv = {CONCORD_FAKE_BIN, "--data", dir.File("data.json")}});
  EXPECT_EQ(fake.Wait(), 2);
  EXPECT_NE(fake.Stderr().find("xero.contacts[0]"), std::string::npos) << fake.Stderr();
}

TEST_F(ConcordFakeTest, XeroRejectsAMissingOrWrongTokenWith401) {
  for (const Headers& headers :
       {Headers{{"xero-tenant-id", std::string(kTenant)}, {"Accept", "application/json"}},
        Headers{{"Authorization", "Bearer nope"},
                {"xero-tenant-id", std::string(kTenant)},
                {"Accept", "application/json"}}}) {
    const HttpResponse res = Xero("?page=1", headers);
    EXPECT_EQ(res.result_int(), 401);
    const json::value body = json::parse(res.body());
    EXPECT_EQ(body.at("Title"), "Unauthorized");
    EXPECT_EQ(body.at("Status"), 401);
    EXPECT_TRUE(body.at("Type").is_null());
    EXPECT_TRUE(body.at("Instance").is_string());
    EXPECT_TRUE(body.at("Extensions").is_object());
  }
}

TEST_F(ConcordFakeTest, XeroRejectsAMissingOrWrongTenantWith403) {
  for (const Headers& headers : {Headers{{"Authorization", "Bearer " + std::string(kXeroToken)},
                                         {"Accept", "application/json"}},
                                 Headers{{"Authorization", "Bearer " + std::string(kXeroToken)},
                                         {"xero-tenant-id", "00000000-0000-0000-0000-000000000000"},
                                         {"Accept", "application/json"}}}) {
    const HttpResponse res = Xero("?page=1", headers);
    EXPECT_EQ(res.result_int(), 403);
    const json::value body = json::parse(res.body());
    EXPECT_EQ(body.at("Title"), "Forbidden");
    EXPECT_EQ(body.at("Status"), 403);
    EXPECT_EQ(body.at("Detail"), "AuthenticationUnsuccessful");
  }
}

TEST_F(ConcordFakeTest, XeroAnswers406WithoutAcceptJson) {
  Headers headers = XeroHeaders();
  headers.pop_back();
  EXPECT_EQ(Xero("?page=1", headers).result_int(), 406);
  headers.emplace_back("Accept", "text/xml");
  EXPECT_EQ(Xero("?page=1", headers).result_int(), 406);
  headers.back().second = "text/html, application/json;q=0.9";
  EXPECT_EQ(Xero("?page=1", headers).result_int(), 200);
}

TEST_F(ConcordFakeTest, XeroPagesInAStableOrderWithTheEnvelope) {
  std::vector<std::string> all;
  for (int page = 1; page <= 3; ++page) {
    const HttpResponse res = Xero("?page=" + std::to_string(page) + "&pageSize=2");
    ASSERT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(Header(res, "Content-Type"), "application/json; charset=utf-8");
    const json::value body = json::parse(res.body());
    EXPECT_EQ(body.at("Status"), "OK");
    EXPECT_TRUE(body.at("Id").is_string());
    EXPECT_TRUE(body.at("ProviderName").is_string());
    EXPECT_EQ(body.at("pagination"), json::parse(R"({"page":)" + std::to_string(page) +
                                                 R"(,"pageSize":2,"pageCount":3,"itemCount":5})"));
    const auto ids = ContactIds(body);
    EXPECT_EQ(ids.size(), page < 3 ? 2u : 1u);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(all, (std::vector<std::string>{
                     "c1000000-0000-4000-8000-000000000001", "c2000000-0000-4000-8000-000000000002",
                     "c3000000-0000-4000-8000-000000000003", "c4000000-0000-4000-8000-000000000004",
                     "c5000000-0000-4000-8000-000000000005"}));
  const json::value past_end = json::parse(Xero("?page=4&pageSize=2").body());
  EXPECT_TRUE(past_end.at("Contacts").as_array().empty());
  EXPECT_EQ(past_end.at("pagination").at("pageCount"), 3);
}

TEST_F(ConcordFakeTest, XeroDefaultsAndCapsThePageSize) {
  EXPECT_EQ(json::parse(Xero("?page=1").body()).at("pagination").at("pageSize"), 100);
  EXPECT_EQ(json::parse(Xero("?page=1&pageSize=5000").body()).at("pagination").at("pageSize"),
            1000);
}

TEST_F(ConcordFakeTest, XeroHidesArchivedContactsUnlessAsked) {
  const json::value without = json::parse(Xero("?page=1").body());
  EXPECT_EQ(without.at("pagination").at("itemCount"), 5);
  const json::value with = json::parse(Xero("?page=1&includeArchived=true").body());
  EXPECT_EQ(with.at("pagination").at("itemCount"), 6);
  const auto ids = ContactIds(with);
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[2], "a1000000-0000-4000-8000-0000000000a1");
  EXPECT_EQ(with.at("Contacts").at(2).at("ContactStatus"), "ARCHIVED");
  // Paging past the archived contact stays consistent.
  const json::value page2 = json::parse(Xero("?page=2&pageSize=2").body());
  EXPECT_EQ(ContactIds(page2), (std::vector<std::string>{"c3000000-0000-4000-8000-000000000003",
                                                         "c4000000-0000-4000-8000-000000000004"}));
}

TEST_F(ConcordFakeTest, XeroFiltersByIfModifiedSinceToTheSecond) {
  auto with_ims = [](std::string value) {
    Headers h = XeroHeaders();
    h.emplace_back("If-Modified-Since", std::move(value));
    return h;
  };
  const json::value march = json::parse(Xero("?page=1", with_ims("2026-03-01T00:00:00")).body());
  EXPECT_EQ(ContactIds(march), (std::vector<std::string>{"c3000000-0000-4000-8000-000000000003",
                                                         "c4000000-0000-4000-8000-000000000004",
                                                         "c5000000-0000-4000-8000-000000000005"}));
  // c2 changed at 12:00:00.500: a later fraction of the same second still includes it.
  const json::value feb = json::parse(Xero("?page=1", with_ims("2026-02-01T12:00:00.900Z")).body());
  EXPECT_EQ(feb.at("pagination").at("itemCount"), 4);
  const json::value feb_archived =
      json::parse(Xero("?page=1&includeArchived=true", with_ims("2026-02-01T12:00:01Z")).body());
  EXPECT_EQ(feb_archived.at("pagination").at("itemCount"), 4);  // a1, c3, c4, c5
  const json::value future = json::parse(Xero("?page=1", with_ims("2027-01-01T00:00:00")).body());
  EXPECT_EQ(future.at("pagination").at("itemCount"), 0);
  EXPECT_EQ(future.at("pagination").at("pageCount"), 0);

  const HttpResponse bad = Xero("?page=1", with_ims("yesterday"));
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_EQ(json::parse(bad.body()).at("Type"), "ValidationException");
}

TEST_F(ConcordFakeTest, XeroEscapesSlashesLikeDotNet) {
  const HttpResponse res = Xero("?page=1&pageSize=1");
  const std::string& raw = res.body();
  EXPECT_NE(raw.find(R"("DateTimeUTC":"\/Date()"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"("UpdatedDateUTC":"\/Date(1768003200000+0000)\/")"), std::string::npos)
      << raw;
  EXPECT_NE(raw.find(R"(https:\/\/example.com\/)"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("\"/Date("), std::string::npos) << raw;
  // A JSON parser sees plain slashes.
  const json::value body = json::parse(raw);
  const std::string date(body.at("DateTimeUTC").as_string());
  EXPECT_TRUE(std::regex_match(date, std::regex(R"(/Date\([0-9]{13}\)/)"))) << date;
}

TEST_F(ConcordFakeTest, XeroSendsRateLimitAndCorrelationHeaders) {
  const HttpResponse first = Xero("?page=1");
  const HttpResponse second = Xero("?page=1");
  for (const HttpResponse* res : {&first, &second}) {
    EXPECT_FALSE(Header(*res, "X-DayLimit-Remaining").empty());
    EXPECT_FALSE(Header(*res, "X-MinLimit-Remaining").empty());
    EXPECT_FALSE(Header(*res, "X-AppMinLimit-Remaining").empty());
    EXPECT_FALSE(Header(*res, "Date").empty());
    EXPECT_EQ(Header(*res, "Xero-Correlation-Id").size(), 36u);
  }
  EXPECT_NE(Header(first, "Xero-Correlation-Id"), Header(second, "Xero-Correlation-Id"));
  EXPECT_EQ(std::stoi(Header(second, "X-DayLimit-Remaining")),
            std::stoi(Header(first, "X-DayLimit-Remaining")) - 1);
}

TEST_F(ConcordFakeTest, XeroWithoutPageReturnsEverythingWithoutContactPersons) {
  const json::value body = json::parse(Xero("").body());
  EXPECT_FALSE(body.as_object().contains("pagination"));
  ASSERT_EQ(body.at("Contacts").as_array().size(), 5u);
  for (const auto& c : body.at("Contacts").as_array()) {
    EXPECT_TRUE(c.at("ContactPersons").as_array().empty());
  }
  const json::value paged = json::parse(Xero("?page=1").body());
  EXPECT_EQ(paged.at("Contacts").at(0).at("ContactPersons").as_array().size(), 1u);
}

TEST_F(ConcordFakeTest, XeroRefusesUnsupportedQueries) {
  EXPECT_EQ(Xero("?page=1&where=Name%3D%3D%22x%22").result_int(), 400);
  EXPECT_EQ(Xero("?page=x").result_int(), 400);
  EXPECT_EQ(HttpGet(fake_->XeroPort(), "/api.xro/2.0/Invoices", XeroHeaders()).result_int(), 404);
}

TEST_F(ConcordFakeTest, ScimRejectsAMissingOrWrongTokenWith401) {
  for (const Headers& headers :
       {Headers{}, Headers{{"Authorization", "Bearer " + std::string(kXeroToken)}}}) {
    const HttpResponse res = Scim("", headers);
    EXPECT_EQ(res.result_int(), 401);
    EXPECT_EQ(Header(res, "Content-Type"), "application/scim+json");
    const json::value body = json::parse(res.body());
    EXPECT_EQ(body.at("schemas"),
              json::parse(R"(["urn:ietf:params:scim:api:messages:2.0:Error"])"));
    EXPECT_EQ(body.at("status"), "401");  // a string
    EXPECT_TRUE(body.at("detail").is_string());
  }
}

TEST_F(ConcordFakeTest, ScimPagesAListResponseInAStableOrder) {
  const HttpResponse first = Scim("?startIndex=1&count=2");
  ASSERT_EQ(first.result_int(), 200) << first.body();
  EXPECT_EQ(Header(first, "Content-Type"), "application/scim+json");
  EXPECT_FALSE(Header(first, "Date").empty());
  const json::value body = json::parse(first.body());
  EXPECT_EQ(body.at("schemas"),
            json::parse(R"(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])"));
  EXPECT_EQ(body.at("totalResults"), 5);
  EXPECT_EQ(body.at("startIndex"), 1);
  EXPECT_EQ(body.at("itemsPerPage"), 2);
  std::vector<std::string> all = UserIds(body);
  for (const int start : {3, 5}) {
    const json::value page =
        json::parse(Scim("?startIndex=" + std::to_string(start) + "&count=2").body());
    EXPECT_EQ(page.at("startIndex"), start);
    const auto ids = UserIds(page);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(all, (std::vector<std::string>{"u1", "u2", "u3", "u4", "u5"}));

  const json::value clamped = json::parse(Scim("?startIndex=0&count=1").body());
  EXPECT_EQ(clamped.at("startIndex"), 1);
  EXPECT_EQ(UserIds(clamped), std::vector<std::string>{"u1"});
  const json::value none = json::parse(Scim("?count=0").body());
  EXPECT_EQ(none.at("totalResults"), 5);
  EXPECT_EQ(none.at("itemsPerPage"), 0);
  const json::value past = json::parse(Scim("?startIndex=9").body());
  EXPECT_EQ(past.at("itemsPerPage"), 0);
  EXPECT_EQ(past.at("totalResults"), 5);
}

TEST_F(ConcordFakeTest, ScimFiltersByLastModified) {
  const json::value gt =
      json::parse(Scim("?filter=meta.lastModified%20gt%20%222026-03-01T00:00:00Z%22").body());
  EXPECT_EQ(gt.at("totalResults"), 1);
  EXPECT_EQ(UserIds(gt), std::vector<std::string>{"u5"});
  const json::value ge =
      json::parse(Scim("?filter=meta.lastModified+GE+%222026-03-01T00:00:00Z%22").body());
  EXPECT_EQ(UserIds(ge), (std::vector<std::string>{"u3", "u4", "u5"}));
  const json::value fraction =
      json::parse(Scim("?filter=meta.lastModified%20gt%20%222026-02-01T00:00:00.100Z%22").body());
  EXPECT_EQ(fraction.at("totalResults"), 4);  // u2 at .250 is later
  const json::value paged = json::parse(
      Scim("?filter=meta.lastModified%20ge%20%222026-03-01T00:00:00Z%22&startIndex=2&count=1")
          .body());
  EXPECT_EQ(paged.at("totalResults"), 3);
  EXPECT_EQ(UserIds(paged), std::vector<std::string>{"u4"});
}

TEST_F(ConcordFakeTest, ScimRejectsOtherFiltersWithInvalidFilter) {
  for (const std::string filter :
       {"userName%20eq%20%22one@example.com%22",
        "meta.lastModified%20lt%20%222026-01-01T00:00:00Z%22",
        "meta.lastModified%20gt%20%22soon%22", "meta.lastModified%20gt", ""}) {
    const HttpResponse res = Scim("?filter=" + filter);
    EXPECT_EQ(res.result_int(), 400) << filter;
    const json::value body = json::parse(res.body());
    EXPECT_EQ(body.at("status"), "400");
    EXPECT_EQ(body.at("scimType"), "invalidFilter") << filter;
  }
}

TEST_F(ConcordFakeTest, ReloadsTheDataFileWhenItChanges) {
  EXPECT_EQ(json::parse(Xero("?page=1").body()).at("pagination").at("itemCount"), 5);
  json::array contacts = BaseContacts();
  contacts.push_back(Contact("c6000000-0000-4000-8000-000000000006", "Zeta Ltd", kApr01 + 1000));
  json::array users = BaseUsers();
  users.erase(users.begin());
  WriteFile(data_path_, DataFile(contacts, users));
  EXPECT_EQ(json::parse(Xero("?page=1").body()).at("pagination").at("itemCount"), 6);
  EXPECT_EQ(json::parse(Scim("").body()).at("totalResults"), 4);

  // A broken rewrite keeps the previous data; the next good one is picked up.
  WriteFile(data_path_, "{\"xero\": [");
  EXPECT_EQ(json::parse(Xero("?page=1").body()).at("pagination").at("itemCount"), 6);
  WriteFile(data_path_, DataFile(BaseContacts(), BaseUsers()));
  EXPECT_EQ(json::parse(Xero("?page=1").body()).at("pagination").at("itemCount"), 5);
}

TEST_F(ConcordFakeTest, DataFileCanInjectFailures) {
  WriteFile(data_path_, DataFile(BaseContacts(), BaseUsers(), json::object{{"fail_status", 429}}));
  const HttpResponse res = Xero("?page=1");
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(Header(res, "Retry-After"), "60");
  EXPECT_EQ(Header(res, "X-Rate-Limit-Problem"), "minute");
  EXPECT_EQ(Scim("").result_int(), 200);
}

TEST(ConcordFakeFailTest, FailFlagsAnswerEveryRequestWithTheStatus) {
  TempDir dir;
  WriteFile(dir.File("data.json"), DataFile(BaseContacts(), BaseUsers()));
  FakeServers fake(dir.File("data.json"), {"--fail-xero", "503", "--fail-scim", "500"});
  const HttpResponse xero = HttpGet(fake.XeroPort(), "/api.xro/2.0/Contacts?page=1", XeroHeaders());
  EXPECT_EQ(xero.result_int(), 503);
  EXPECT_EQ(json::parse(xero.body()).at("Status"), 503);
  const HttpResponse scim = HttpGet(fake.ScimPort(), "/scim/v2/Users", ScimHeaders());
  EXPECT_EQ(scim.result_int(), 500);
  EXPECT_EQ(json::parse(scim.body()).at("status"), "500");
}

TEST(ConcordFakeGenerateTest, DumpIsDeterministicAndServesTheSameData) {
  auto dump = [](const std::string& seed) {
    ChildProcess p(
        ChildOptions{.argv = {CONCORD_FAKE_BIN, "--generate", "300", "--seed", seed, "--dump"}});
    std::string out = p.ReadToEnd(60s);
    EXPECT_EQ(p.Wait(), 0) << p.Stderr();
    return out;
  };
  const std::string a = dump("7");
  EXPECT_EQ(a, dump("7"));
  EXPECT_NE(a, dump("8"));

  const json::value data = json::parse(a);
  const auto& contacts = data.at("xero").at("contacts").as_array();
  std::size_t persons = 0;
  std::size_t active = 0;
  for (const auto& c : contacts) {
    persons += 1 + c.at("ContactPersons").as_array().size();
    active += c.at("ContactStatus") != "ARCHIVED";
  }
  EXPECT_EQ(persons, 300u);
  const std::size_t users = data.at("scim").at("users").as_array().size();
  EXPECT_GT(users, 250u);
  EXPECT_LT(users, 350u);

  // The dump, served from a file, answers like the generator served directly.
  TempDir dir;
  WriteFile(dir.File("dump.json"), a);
  FakeServers from_file(dir.File("dump.json"));
  FakeServers generated = FakeServers::WithArgs({"--generate", "300", "--seed", "7"});
  Headers xero_headers{{"Authorization", "Bearer demo-xero-token"},
                       {"xero-tenant-id", "b5a3c1d2-0000-4000-8000-000000000001"},
                       {"Accept", "application/json"}};
  const json::value x1 = json::parse(
      HttpGet(from_file.XeroPort(), "/api.xro/2.0/Contacts?page=2&pageSize=50", xero_headers)
          .body());
  const json::value x2 = json::parse(
      HttpGet(generated.XeroPort(), "/api.xro/2.0/Contacts?page=2&pageSize=50", xero_headers)
          .body());
  EXPECT_EQ(x1.at("pagination").at("itemCount"), active);
  EXPECT_EQ(x1.at("Contacts"), x2.at("Contacts"));
  const Headers scim_headers{{"Authorization", "Bearer demo-portal-token"}};
  const json::value s1 =
      json::parse(HttpGet(from_file.ScimPort(), "/scim/v2/Users?count=1000", scim_headers).body());
  EXPECT_EQ(s1.at("totalResults"), users);
}

// QuickBooks Online over real HTTP: the query endpoint with a percent-encoded statement.
std::string QboDataFile(std::optional<int> fail_status = std::nullopt) {
  json::array customers;
  for (int id = 1; id <= 5; ++id) {
    customers.push_back(json::object{
        {"Id", std::to_string(id)},
        {"DisplayName", "Customer " + std::to_string(id)},
        {"Active", id != 3},
        {"MetaData",
         json::object{{"LastUpdatedTime", "2026-01-0" + std::to_string(id) + "T00:00:00-08:00"}}}});
  }
  json::object qbo{
      {"realm_id", "9130"}, {"access_token", "qbo-test-token"}, {"customers", customers}};
  if (fail_status) qbo["fail_status"] = *fail_status;
  return json::serialize(json::object{{"qbo", qbo}});
}

std::string QboTarget(std::string_view statement) {
  std::string target = "/v3/company/9130/query?minorversion=75&query=";
  for (const char c : statement) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      target.push_back(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", static_cast<unsigned char>(c));
      target += buffer;
    }
  }
  return target;
}

Headers QboHeaders() {
  return {{"Authorization", "Bearer qbo-test-token"}, {"Accept", "application/json"}};
}

TEST(ConcordFakeQboTest, ServesTheQueryEndpointOnItsOwnPort) {
  TempDir dir;
  WriteFile(dir.File("data.json"), QboDataFile());
  FakeServers fake(dir.File("data.json"));
  ASSERT_GT(fake.QboPort(), 0);
  const HttpResponse page =
      HttpGet(fake.QboPort(),
              QboTarget("select * from Customer where Active IN (true,false) and "
                        "Metadata.LastUpdatedTime >= '2026-01-02T08:00:00+00:00' orderby Id "
                        "startposition 2 maxresults 2"),
              QboHeaders());
  ASSERT_EQ(page.result_int(), 200) << page.body();
  const json::value body = json::parse(page.body());
  const json::array& customers = body.at("QueryResponse").at("Customer").as_array();
  ASSERT_EQ(customers.size(), 2u);
  EXPECT_EQ(customers[0].at("Id"), "3");
  EXPECT_EQ(customers[0].at("Active"), false);
  EXPECT_EQ(customers[1].at("Id"), "4");
  EXPECT_EQ(body.at("QueryResponse").at("startPosition"), 2);
  EXPECT_EQ(body.at("QueryResponse").at("maxResults"), 2);
  EXPECT_TRUE(body.at("time").as_string().ends_with("-07:00"));
  EXPECT_FALSE(Header(page, "intuit_tid").empty());

  const HttpResponse malformed =
      HttpGet(fake.QboPort(), QboTarget("select * from Customer where"), QboHeaders());
  EXPECT_EQ(malformed.result_int(), 400);
  const HttpResponse unauthorized =
      HttpGet(fake.QboPort(), QboTarget("select * from Customer"),
              {{"Authorization", "Bearer nope"}, {"Accept", "application/json"}});
  EXPECT_EQ(unauthorized.result_int(), 401);
  EXPECT_EQ(json::parse(unauthorized.body()).at("fault").at("error").at(0).at("code"), "3200");
}

TEST(ConcordFakeQboTest, FailStatusFromTheDataFileOrTheFlag) {
  TempDir dir;
  WriteFile(dir.File("data.json"), QboDataFile(500));
  FakeServers fake(dir.File("data.json"));
  EXPECT_EQ(HttpGet(fake.QboPort(), QboTarget("select * from Customer"), QboHeaders()).result_int(),
            500);
  WriteFile(dir.File("data.json"), QboDataFile());
  EXPECT_EQ(HttpGet(fake.QboPort(), QboTarget("select * from Customer"), QboHeaders()).result_int(),
            200);

  FakeServers flagged(dir.File("data.json"), {"--fail-qbo", "429"});
  const HttpResponse throttled =
      HttpGet(flagged.QboPort(), QboTarget("select * from Customer"), QboHeaders());
  EXPECT_EQ(throttled.result_int(), 429);
  EXPECT_NE(throttled.body().find("ThrottleExceeded"), std::string::npos);
}

TEST(ConcordFakeQboTest, RejectsABadCustomerWithExitCode2) {
  TempDir dir;
  WriteFile(dir.File("data.json"),
            R"({"qbo":{"realm_id":"1","access_token":"a","customers":[{"Id":"1"}]}})");
  ChildProcess fake(ChildOptions{.argv = {CONCORD_FAKE_BIN, "--data", dir.File("data.json")}});
  EXPECT_EQ(fake.Wait(), 2);
  EXPECT_NE(fake.Stderr().find("qbo.customers[0]"), std::string::npos) << fake.Stderr();
}

// MYOB over real HTTP: headers checked, OData paging with NextPageLink back to this port.
std::string MyobDataFile(std::optional<int> fail_status = std::nullopt) {
  json::array customers;
  for (int n = 1; n <= 5; ++n) {
    customers.push_back(json::object{
        {"UID", "u" + std::to_string(n)},
        {"CompanyName", "Customer " + std::to_string(n)},
        {"IsActive", n != 3},
        {"Addresses", json::array{json::object{
                          {"Location", 1}, {"Email", "c" + std::to_string(n) + "@example.com"}}}},
        {"LastModified", "2026-01-0" + std::to_string(n) + "T00:00:00"}});
  }
  json::object myob{{"company_file_id", "cf-1"},
                    {"api_key", "myob-key"},
                    {"access_token", "myob-token"},
                    {"customers", customers}};
  if (fail_status) myob["fail_status"] = *fail_status;
  return json::serialize(json::object{{"myob", myob}});
}

Headers MyobHeaders() {
  return {{"Authorization", "Bearer myob-token"},
          {"x-myobapi-key", "myob-key"},
          {"x-myobapi-version", "v2"}};
}

TEST(ConcordFakeMyobTest, ServesCustomersOnItsOwnPortWithNextPageLink) {
  TempDir dir;
  WriteFile(dir.File("data.json"), MyobDataFile());
  FakeServers fake(dir.File("data.json"));
  ASSERT_GT(fake.MyobPort(), 0);
  const HttpResponse page =
      HttpGet(fake.MyobPort(),
              "/accountright/cf-1/Contact/"
              "Customer?$top=2&$filter=LastModified%20gt%20datetime'2026-01-01T00:00:00'",
              MyobHeaders());
  ASSERT_EQ(page.result_int(), 200) << page.body();
  const json::value body = json::parse(page.body());
  const json::array& items = body.at("Items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("UID"), "u2");
  EXPECT_EQ(items[1].at("UID"), "u3");
  EXPECT_EQ(items[1].at("IsActive"), false) << "inactive customers are listed";
  EXPECT_EQ(body.at("Count"), 4);
  const std::string origin = fake.MyobOrigin();
  EXPECT_EQ(std::string(body.at("NextPageLink").as_string()),
            origin +
                "/accountright/cf-1/Contact/Customer?$top=2&$skip=2&$filter=LastModified%20gt%20"
                "datetime'2026-01-01T00:00:00'");
  EXPECT_FALSE(Header(page, "x-myobapi-requestid").empty());
  EXPECT_FALSE(Header(page, "ETag").empty());

  const HttpResponse files = HttpGet(fake.MyobPort(), "/accountright/", MyobHeaders());
  ASSERT_EQ(files.result_int(), 200) << files.body();
  EXPECT_EQ(std::string(json::parse(files.body()).at(0).at("Uri").as_string()),
            origin + "/accountright/cf-1");

  const HttpResponse too_big =
      HttpGet(fake.MyobPort(), "/accountright/cf-1/Contact/Customer?$top=1001", MyobHeaders());
  EXPECT_EQ(too_big.result_int(), 400);
  const HttpResponse unauthorized =
      HttpGet(fake.MyobPort(), "/accountright/cf-1/Contact/Customer",
              {{"x-myobapi-key", "myob-key"}, {"x-myobapi-version", "v2"}});
  EXPECT_EQ(unauthorized.result_int(), 401);
  EXPECT_EQ(json::parse(unauthorized.body()).at("Errors").at(0).at("Name"), "OAuthTokenIsInvalid");
}

TEST(ConcordFakeMyobTest, FailStatusFromTheDataFileOrTheFlag) {
  TempDir dir;
  WriteFile(dir.File("data.json"), MyobDataFile(500));
  FakeServers fake(dir.File("data.json"));
  const std::string target = "/accountright/cf-1/Contact/Customer";
  EXPECT_EQ(HttpGet(fake.MyobPort(), target, MyobHeaders()).result_int(), 500);
  WriteFile(dir.File("data.json"), MyobDataFile());
  EXPECT_EQ(HttpGet(fake.MyobPort(), target, MyobHeaders()).result_int(), 200);

  FakeServers flagged(dir.File("data.json"), {"--fail-myob", "403"});
  const HttpResponse limited = HttpGet(flagged.MyobPort(), target, MyobHeaders());
  EXPECT_EQ(limited.result_int(), 403);
  EXPECT_NE(limited.body().find("RateLimitError"), std::string::npos);
}

TEST(ConcordFakeMyobTest, RejectsABadCustomerWithExitCode2) {
  TempDir dir;
  WriteFile(dir.File("data.json"),
            R"({"myob":{"company_file_id":"cf","api_key":"k","access_token":"a",)"
            R"("customers":[{"UID":"u1"}]}})");
  ChildProcess fake(ChildOptions{.argv = {CONCORD_FAKE_BIN, "--data", dir.File("data.json")}});
  EXPECT_EQ(fake.Wait(), 2);
  EXPECT_NE(fake.Stderr().find("myob.customers[0]"), std::string::npos) << fake.Stderr();
}

}  // namespace
}  // namespace concord::test_tools
