// Every connector against every fault concord-fake can inject (tools/concord-fake/faults.hpp),
// end to end through `concord sync --full`: a transient fault is recovered from and the run
// ends as a run without it would; a permanent one fails the run (exit 1) with an error naming
// the cause, applies nothing and leaves the cursors where they were. One table, one case per
// connector and fault, each with its own database; the fault always waits for the second
// request of the faulted side, so the run has read a page it must then not apply.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <ostream>
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

constexpr const char* kXeroTenant = "b5a3c1d2-0000-4000-8000-0000000000f1";
constexpr const char* kRealm = "9130350000000042";
constexpr const char* kCompanyFile = "8f1c0d2e-0000-4000-8000-0000000000f1";
constexpr const char* kToken = "fault-token";  // every side's access token
constexpr const char* kMyobKey = "fault-myob-key";
constexpr int kPageSize = 2;  // five people: three pages on every side

// An hour ago: behind any cursor a sync sets.
const std::int64_t kEarlier = test_support::UnixMillisNow() - 3'600'000;

std::string Utc(std::int64_t ms, const char* format) {
  const std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

struct Person {
  std::string id;  // digits: QBO Ids are numeric
  std::string given;
  std::string family;
  std::string Email() const { return given + "." + family + "@fault.example"; }
};

const std::vector<Person> kPeople = {{"11", "Aroha", "Ngata"},
                                     {"12", "Bea", "Kowalski"},
                                     {"13", "Chen", "Li"},
                                     {"14", "Dana", "Okafor"},
                                     {"15", "Eli", "Vaka"}};
const Person kNova = {"16", "Nova", "Tamihana"};  // appears in the second version of the data

// The same people in all four dialects, each updated `at`.
std::string DataFile(const std::vector<Person>& people, std::int64_t at) {
  json::array contacts, customers, myob_customers, users;
  for (const Person& p : people) {
    contacts.push_back({{"ContactID", "c-" + p.id},
                        {"ContactStatus", "ACTIVE"},
                        {"Name", p.given + " " + p.family},
                        {"FirstName", p.given},
                        {"LastName", p.family},
                        {"EmailAddress", p.Email()},
                        {"ContactPersons", json::array{}},
                        {"UpdatedDateUTC", "/Date(" + std::to_string(at) + "+0000)/"}});
    customers.push_back({{"Id", p.id},
                         {"DisplayName", p.given + " " + p.family},
                         {"GivenName", p.given},
                         {"FamilyName", p.family},
                         {"Active", true},
                         {"Job", false},
                         {"PrimaryEmailAddr", {{"Address", p.Email()}}},
                         {"MetaData",
                          {{"CreateTime", Utc(at, "%Y-%m-%dT%H:%M:%S+00:00")},
                           {"LastUpdatedTime", Utc(at, "%Y-%m-%dT%H:%M:%S+00:00")}}}});
    myob_customers.push_back(
        {{"UID", "a0000000-0000-4000-8000-0000000000" + p.id},
         {"CompanyName", nullptr},
         {"FirstName", p.given},
         {"LastName", p.family},
         {"IsIndividual", true},
         {"IsActive", true},
         {"Addresses",
          json::array{json::object{
              {"Location", 1}, {"ContactName", p.given + " " + p.family}, {"Email", p.Email()}}}},
         {"LastModified", Utc(at, "%Y-%m-%dT%H:%M:%S.000")}});
    users.push_back({{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
                     {"id", "u-" + p.id},
                     {"userName", p.Email()},
                     {"name", {{"givenName", p.given}, {"familyName", p.family}}},
                     {"active", true},
                     {"emails", json::array{json::object{{"value", p.Email()}, {"primary", true}}}},
                     {"meta",
                      {{"resourceType", "User"},
                       {"created", Utc(at, "%Y-%m-%dT%H:%M:%SZ")},
                       {"lastModified", Utc(at, "%Y-%m-%dT%H:%M:%SZ")}}}});
  }
  return json::serialize(json::object{
      {"xero", {{"tenant_id", kXeroTenant}, {"access_token", kToken}, {"contacts", contacts}}},
      {"qbo", {{"realm_id", kRealm}, {"access_token", kToken}, {"customers", customers}}},
      {"myob",
       {{"company_file_id", kCompanyFile},
        {"api_key", kMyobKey},
        {"access_token", kToken},
        {"customers", myob_customers}}},
      {"scim", {{"token", kToken}, {"users", users}}}});
}

// What a run that meets the fault must do.
enum class Outcome {
  kRecover,      // retry, succeed, and end as a run without the fault would
  kFail,         // exit 1 naming the cause; nothing applied, cursors unmoved
  kNothingLost,  // succeed (no retry needed) with every record of the data applied
};

struct FaultCase {
  std::string name;
  std::string server;  // the faulted connector: xero, qbo, myob (finance) or scim (portal)
  std::string fault;   // the fault object's other members, as JSON text
  Outcome outcome;
  std::string cause;  // a part of the failed run's error (kFail only)
  // Transport settings of the faulted side, as TOML lines.
  std::string http = "timeout_seconds = 1\nmax_retries = 2\nretry_budget_seconds = 30\n";
};

// gtest prints a case by this, not as bytes.
void PrintTo(const FaultCase& c, std::ostream* out) { *out << c.server << " " << c.fault; }

std::string PrintName(const ::testing::TestParamInfo<FaultCase>& info) {
  return info.param.server + "_" + info.param.name;
}

std::vector<FaultCase> Cases() {
  std::vector<FaultCase> cases;
  for (const std::string server : {"xero", "qbo", "myob", "scim"}) {
    const auto add = [&](FaultCase c) {
      c.server = server;
      cases.push_back(std::move(c));
    };
    const Outcome kRecover = Outcome::kRecover;
    const Outcome kFail = Outcome::kFail;
    add({"RateLimited", "", R"("fault":"status","status":429,"retry_after":1)", kRecover, ""});
    add({"InternalError", "", R"("fault":"status","status":500,"count":2)", kRecover, ""});
    add({"Unavailable", "", R"("fault":"status","status":503,"count":2)", kRecover, ""});
    add({"ConnectionReset", "", R"("fault":"reset","count":2)", kRecover, ""});
    add({"SlowWithinTimeout", "", R"("fault":"slow","delay_ms":300)", kRecover, ""});
    add({"TruncatedOnce", "", R"("fault":"truncate")", kRecover, ""});
    add({"MalformedJson", "", R"("fault":"malformed_json","count":-1)", kFail, "unreadable"});
    add({"XmlBody", "", R"("fault":"xml_body","count":-1)", kFail, "expected JSON"});
    add({"InternalErrorBeyondBudget", "", R"("fault":"status","status":500,"count":-1)", kFail,
         "exceed the retry budget of 1.0 s",
         "timeout_seconds = 1\nmax_retries = 20\nretry_budget_seconds = 1\n"});
    add({"SlowBeyondTimeout", "", R"("fault":"slow","delay_ms":2500,"count":-1)", kFail,
         "timed out after 1000 ms"});
    // A record inserted at the front while the pages are read: offset paging sees one record
    // twice and loses none. MYOB's connector notices the Count change and refuses the read.
    if (server == "myob") {
      add({"PageChangesBetweenReads", "", R"("fault":"change")", kFail, "Count changed"});
    } else {
      add({"PageChangesBetweenReads", "", R"("fault":"change")", Outcome::kNothingLost, ""});
    }
  }
  return cases;
}

using Result = test_support::ChildResult;

class FaultE2eTest : public ::testing::TestWithParam<FaultCase> {
 protected:
  void SetUp() override {
    test_support::WriteFile(tmp_.File("data.json"), DataFile(kPeople, kEarlier));
    fake_.emplace(tmp_.File("data.json"));
    WriteConfig();
    const Result migrated = Concord({"migrate"});
    ASSERT_EQ(migrated.code, 0) << migrated.err;
  }

  void WriteConfig() {
    const FaultCase& c = GetParam();
    const std::string finance_kind = c.server == "scim" ? "xero" : c.server;
    std::string finance =
        "[tenant.finance]\nkind = \"" + finance_kind + "\"\n" +
        "access_token = \"env:E2E_TOKEN\"\npage_size = " + std::to_string(kPageSize) + "\n";
    if (finance_kind == "xero") {
      finance += "base_url = \"" + fake_->XeroOrigin() + "/api.xro/2.0\"\nxero_tenant_id = \"" +
                 kXeroTenant + "\"\n";
    } else if (finance_kind == "qbo") {
      finance += "base_url = \"" + fake_->QboOrigin() + "\"\nrealm_id = \"" + kRealm + "\"\n";
    } else {
      finance += "base_url = \"" + fake_->MyobOrigin() + "/accountright/" + kCompanyFile +
                 "\"\napi_key = \"env:E2E_MYOB_KEY\"\n";
    }
    std::string portal =
        "[tenant.portal]\nkind = \"scim\"\nbase_url = \"" + fake_->ScimOrigin() +
        "/scim/v2\"\ntoken = \"env:E2E_TOKEN\"\npage_size = " + std::to_string(kPageSize) + "\n";
    (c.server == "scim" ? portal : finance) += c.http;
    test_support::WriteFile(tmp_.File("concord.toml"),
                            "[database]\nurl = \"" + db_.url() +
                                "\"\n[log]\nlevel = \"info\"\n[[tenant]]\nid = \"acme\"\n" +
                                finance + portal);
  }

  Result Concord(std::vector<std::string> args) {
    ChildOptions options;
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = {{"E2E_TOKEN", kToken}, {"E2E_MYOB_KEY", kMyobKey}};
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    return test_support::RunToExit(std::move(options));
  }

  Result SyncFull() { return Concord({"sync", "--tenant", "acme", "--full"}); }

  std::string Export() {
    const Result r = Concord({"export", "--tenant", "acme"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  // Each side's cursor as "side=value_ms@run_id", in side order.
  std::string Cursors() {
    store::Connection conn({.url = db_.url()});
    const auto r = conn.Exec(
        "SELECT string_agg(side || '=' || value_ms || '@' || run_id, ' ' ORDER BY side) "
        "FROM cursors");
    return r.IsNull(0, 0) ? std::string() : std::string(r.Text(0, 0));
  }

  std::string LastRun() {
    store::Connection conn({.url = db_.url()});
    const auto r = conn.Exec(
        "SELECT status || ': ' || coalesce(error, '') FROM runs ORDER BY id DESC LIMIT 1");
    return r.Rows() == 0 ? std::string() : std::string(r.Text(0, 0));
  }

  void ArmFault() {
    const FaultCase& c = GetParam();
    const std::string fault = R"({"server":")" + c.server + R"(","after":1,)" + c.fault + "}";
    std::string reply;
    ASSERT_EQ(fake_->Faults("POST", fault, &reply), 201) << reply;
  }

  test_support::TempDir tmp_;
  testing::TestDatabase db_;
  std::optional<test_support::FakeServers> fake_;
};

TEST_P(FaultE2eTest, TransientFaultsRecoverAndPermanentOnesChangeNothing) {
  const FaultCase& c = GetParam();
  const Result first = SyncFull();
  ASSERT_EQ(first.code, 0) << first.err;
  const std::string before = Export();
  const std::string cursors = Cursors();
  ASSERT_NE(before.find(kPeople[0].Email()), std::string::npos) << before;
  ASSERT_FALSE(cursors.empty());

  // A sixth person, so that the faulted run has something to apply.
  std::vector<Person> more = kPeople;
  more.insert(more.begin(), kNova);
  test_support::WriteFile(tmp_.File("data.json"),
                          DataFile(more, test_support::UnixMillisNow() - 60'000));
  ArmFault();
  const Result faulted = SyncFull();
  std::string plan;
  (void)fake_->Faults("GET", {}, &plan);
  ASSERT_NE(plan.find(R"("fired":)"), std::string::npos) << plan;
  EXPECT_EQ(plan.find(R"("fired":0)"), std::string::npos) << "the fault never fired: " << plan;

  if (c.outcome == Outcome::kNothingLost) {
    ASSERT_EQ(faulted.code, 0) << faulted.err;
    const std::string exported = Export();
    for (const Person& p : more) {
      EXPECT_NE(exported.find(p.Email()), std::string::npos) << p.Email() << " lost:\n" << exported;
    }
  } else if (c.outcome == Outcome::kRecover) {
    ASSERT_EQ(faulted.code, 0) << faulted.err;
    // A slow answer within the timeout is no failure, so nothing is retried.
    const bool retried = c.fault.find(R"("slow")") == std::string::npos;
    // Xero's own call limiter waits out a 429 "minute" itself and logs it as rate_limit_hit.
    const bool logged = faulted.err.find("\"event\":\"http_retry\"") != std::string::npos ||
                        faulted.err.find("\"event\":\"rate_limit_hit\"") != std::string::npos;
    EXPECT_EQ(logged, retried) << "each retry is logged, and only a retry:\n" << faulted.err;
    const std::string recovered = Export();
    EXPECT_NE(recovered.find(kNova.Email()), std::string::npos) << recovered;
    EXPECT_NE(Cursors(), cursors) << "the run's cursors were stored";
    // The same as a run without the fault: a clean full run changes nothing further.
    ASSERT_EQ(fake_->Faults("DELETE"), 200);
    const Result clean = SyncFull();
    ASSERT_EQ(clean.code, 0) << clean.err;
    EXPECT_EQ(Export(), recovered);
  } else {
    EXPECT_EQ(faulted.code, 1) << faulted.err;
    const std::string run = LastRun();
    EXPECT_TRUE(run.starts_with("failed: " + c.server + ": ")) << run;
    EXPECT_NE(run.find(c.cause), std::string::npos) << run << "\nshould name: " << c.cause;
    EXPECT_NE(faulted.err.find(c.cause), std::string::npos) << faulted.err;
    EXPECT_EQ(Export(), before) << "nothing applied";
    EXPECT_EQ(Cursors(), cursors) << "cursors unmoved";
    // Once the fault is gone the same run applies the change.
    ASSERT_EQ(fake_->Faults("DELETE"), 200);
    const Result clean = SyncFull();
    ASSERT_EQ(clean.code, 0) << clean.err;
    EXPECT_NE(Export().find(kNova.Email()), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryConnectorEveryFault, FaultE2eTest, ::testing::ValuesIn(Cases()),
                         PrintName);

}  // namespace
}  // namespace concord
