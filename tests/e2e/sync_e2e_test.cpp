// The first real sync, end to end: `concord` + concord-fake (Xero and SCIM wire formats) +
// PostgreSQL. Each test gets its own database, data file and fake server.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "store/pg.hpp"
#include "tests/store/test_database.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace concord {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::ChildOptions;
using test_support::ChildProcess;

constexpr const char* kXeroTenant = "b5a3c1d2-0000-4000-8000-000000000001";
constexpr const char* kXeroToken = "xero-token-e2e";
constexpr const char* kScimToken = "scim-token-e2e";

// An hour ago: old enough to be behind any cursor a first sync sets.
const std::int64_t kEarlier = test_support::UnixMillisNow() - 3'600'000;

std::string XeroDate(std::int64_t ms) { return "/Date(" + std::to_string(ms) + "+0000)/"; }

std::string IsoDate(std::int64_t ms) {
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

json::object Contact(std::string id, std::string name, std::string first, std::string last,
                     std::string email, std::int64_t updated = kEarlier,
                     std::string status = "ACTIVE") {
  return {{"ContactID", id},
          {"ContactStatus", status},
          {"Name", name},
          {"FirstName", first},
          {"LastName", last},
          {"EmailAddress", email},
          {"ContactPersons", json::array{}},
          {"UpdatedDateUTC", XeroDate(updated)}};
}

json::object User(std::string id, std::string user_name, std::string email, std::string given,
                  std::string family, std::int64_t updated = kEarlier, bool active = true) {
  return {
      {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
      {"id", id},
      {"userName", user_name},
      {"name", {{"givenName", given}, {"familyName", family}}},
      {"displayName", given + " " + family},
      {"active", active},
      {"emails", json::array{json::object{{"value", email}, {"type", "work"}, {"primary", true}}}},
      {"meta",
       {{"resourceType", "User"},
        {"created", IsoDate(updated)},
        {"lastModified", IsoDate(updated)}}}};
}

struct Data {
  json::array contacts;
  json::array users;
  int xero_fail_status = 0;  // concord-fake answers every request with it when set
  int scim_fail_status = 0;

  std::string Render() const {
    json::object xero{
        {"tenant_id", kXeroTenant}, {"access_token", kXeroToken}, {"contacts", contacts}};
    json::object scim{{"token", kScimToken}, {"users", users}};
    if (xero_fail_status) xero["fail_status"] = xero_fail_status;
    if (scim_fail_status) scim["fail_status"] = scim_fail_status;
    return json::serialize(json::object{{"xero", xero}, {"scim", scim}});
  }
};

using Result = test_support::ChildResult;

class SyncE2eTest : public ::testing::Test {
 protected:
  void StartFake(const Data& data) {
    test_support::WriteFile(tmp_.File("data.json"), data.Render());
    fake_.emplace(ChildOptions{.argv = {CONCORD_FAKE_BIN, "--data", tmp_.File("data.json"),
                                        "--xero-port", "0", "--scim-port", "0"}});
    auto ready = json::parse(fake_->ReadLine(10s)).as_object();
    xero_port_ = ready.at("xero_port").as_int64();
    scim_port_ = ready.at("scim_port").as_int64();
    WriteConfig();
  }

  // Rewrites the data file; the fake picks it up on its next request.
  void ChangeData(const Data& data) {
    test_support::WriteFile(tmp_.File("data.json"), data.Render());
  }

  void WriteConfig(int page_size = 1000, int portal_page_size = 500,
                   const std::string& extra_finance = "") {
    std::string toml = "[database]\nurl = \"" + db_->url() + "\"\n" +
                       "[log]\nlevel = \"info\"\n"
                       "[[tenant]]\nid = \"acme\"\n"
                       "[tenant.finance]\nkind = \"xero\"\n"
                       "base_url = \"http://127.0.0.1:" +
                       std::to_string(xero_port_) +
                       "/api.xro/2.0\"\n"
                       "access_token = \"env:E2E_XERO_TOKEN\"\n"
                       "xero_tenant_id = \"" +
                       kXeroTenant + "\"\n" + "page_size = " + std::to_string(page_size) + "\n" +
                       extra_finance +
                       "[tenant.portal]\nkind = \"scim\"\n"
                       "base_url = \"http://127.0.0.1:" +
                       std::to_string(scim_port_) +
                       "/scim/v2\"\n"
                       "token = \"env:E2E_SCIM_TOKEN\"\n"
                       "page_size = " +
                       std::to_string(portal_page_size) + "\n" + rules_toml_;
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  ChildOptions ConcordOptions(std::vector<std::string> args,
                              std::map<std::string, std::string> env = {}) {
    ChildOptions options;
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = {{"E2E_XERO_TOKEN", kXeroToken}, {"E2E_SCIM_TOKEN", kScimToken}};
    for (auto& [k, v] : env) options.env[k] = v;
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    return options;
  }

  Result Concord(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    return test_support::RunToExit(ConcordOptions(std::move(args), std::move(env)));
  }

  void Migrate() {
    auto r = Concord({"migrate"});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  Result Sync(std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"sync", "--tenant", "acme"};
    args.insert(args.end(), flags.begin(), flags.end());
    return Concord(args);
  }

  std::vector<json::object> Lines(const std::string& text) {
    std::vector<json::object> out;
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) out.push_back(json::parse(text.substr(start, end - start)).as_object());
      start = end + 1;
    }
    return out;
  }

  std::string Export() {
    auto r = Concord({"export", "--tenant", "acme"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  std::vector<json::object> Persons() { return Lines(Export()); }

  std::vector<json::object> Review() {
    auto r = Concord({"review", "--tenant", "acme"});
    EXPECT_EQ(r.code, 0) << r.err;
    return Lines(r.out);
  }

  std::int64_t QueryInt(const std::string& sql) {
    store::Connection conn({.url = db_->url()});
    auto result = conn.Exec(sql);
    return result.Rows() == 0 || result.IsNull(0, 0) ? -1 : result.Int(0, 0);
  }

  std::string rules_toml_;  // appended as the tenant's [tenant.rules] when set
  test_support::TempDir tmp_;
  std::optional<testing::TestDatabase> db_{std::in_place};
  std::optional<ChildProcess> fake_;
  std::int64_t xero_port_ = 0;
  std::int64_t scim_port_ = 0;
};

const json::object* FindByEmail(const std::vector<json::object>& persons, std::string_view email) {
  for (const auto& p : persons) {
    if (p.at("email").is_string() && p.at("email").as_string() == email) return &p;
  }
  return nullptr;
}

Data HarbourLights() {
  Data d;
  auto mere = Contact("0b6a3c1e-2f4d-4e8a-9c71-5a2d9e0f1a22", "Harbour Lights Ltd", "Mere", "Tane",
                      "Mere.Tane@HarbourLights.example");
  mere["ContactPersons"] = json::array{json::object{{"FirstName", "Ari"},
                                                    {"LastName", "Ngata"},
                                                    {"EmailAddress", "ari@harbourlights.example"},
                                                    {"IncludeInEmails", true}}};
  d.contacts.push_back(mere);
  d.contacts.push_back(Contact("1c7b4d2f-3a5e-4f9b-8d82-6b3eaf102b33", "Ngata Whānau", "Ari",
                               "Ngata", " ARI@harbourlights.example "));
  d.contacts.push_back(Contact("2d8c5e3a-4b6f-4a0c-9e93-7c4fb0213c44", "Old Co", "Olive", "Old",
                               "olive@old.example", kEarlier, "ARCHIVED"));
  d.contacts.push_back(
      Contact("3e9d6f4b-5c7a-4b1d-8fa4-8d5ac1324d55", "No Email Ltd", "Nora", "None", ""));
  d.contacts.push_back(Contact("4fae7a5c-6d8b-4c2e-9ab5-9e6bd2435e66", "Bad Email Ltd", "Ben",
                               "Bad", "accounts at bad.example"));
  d.users.push_back(User("u-mere", "mere.tane@harbourlights.example",
                         " mere.tane@HARBOURLIGHTS.example", "Mere", "Tane"));
  d.users.push_back(
      User("u-pita", "pita@portal-only.example", "pita@portal-only.example", "Pita", "Sharples"));
  d.users.push_back(User("u-dup1", "dup1", "shared@dup.example", "Dee", "One"));
  d.users.push_back(User("u-dup2", "dup2", "shared@dup.example", "Dee", "Two"));
  return d;
}

TEST_F(SyncE2eTest, FirstSyncReconcilesBothSides) {
  StartFake(HarbourLights());
  Migrate();
  auto sync = Sync({"--full"});
  ASSERT_EQ(sync.code, 0) << sync.err;

  auto persons = Persons();
  const auto* mere = FindByEmail(persons, "mere.tane@harbourlights.example");
  ASSERT_NE(mere, nullptr) << Export();
  EXPECT_EQ(mere->at("origin"), "finance");
  EXPECT_EQ(mere->at("tenant"), "acme");
  ASSERT_EQ(mere->at("finance").as_array().size(), 1u);
  EXPECT_EQ(mere->at("finance").as_array()[0].at("email"), "Mere.Tane@HarbourLights.example");
  EXPECT_EQ(mere->at("finance").as_array()[0].at("account_name"), "Harbour Lights Ltd");
  ASSERT_EQ(mere->at("portal").as_array().size(), 1u);
  EXPECT_EQ(mere->at("portal").as_array()[0].at("remote_id"), "u-mere");
  EXPECT_EQ(mere->at("portal").as_array()[0].at("rule"), "email_exact");

  // Ari is a person on two accounts: one person, two finance links.
  const auto* ari = FindByEmail(persons, "ari@harbourlights.example");
  ASSERT_NE(ari, nullptr);
  EXPECT_EQ(ari->at("finance").as_array().size(), 2u);

  const auto* pita = FindByEmail(persons, "pita@portal-only.example");
  ASSERT_NE(pita, nullptr);
  EXPECT_EQ(pita->at("origin"), "portal");
  EXPECT_EQ(pita->at("portal").as_array()[0].at("rule"), "portal_origin");

  // Nothing is lost: every source record is linked to exactly one exported person.
  std::size_t finance_links = 0, portal_links = 0;
  for (const auto& p : persons) {
    finance_links += p.at("finance").as_array().size();
    portal_links += p.at("portal").as_array().size();
  }
  EXPECT_EQ(finance_links, 6u);  // 5 contacts + 1 contact person
  EXPECT_EQ(portal_links, 4u);

  auto review = Review();
  auto has_kind = [&](std::string_view kind) {
    return std::any_of(review.begin(), review.end(),
                       [&](const json::object& r) { return r.at("kind").as_string() == kind; });
  };
  EXPECT_TRUE(has_kind("invalid_email"));
  EXPECT_TRUE(has_kind("duplicate_portal_users"));
  for (const auto& r : review) {
    EXPECT_TRUE(r.contains("id") && r.contains("reason") && r.contains("subjects") &&
                r.contains("person_ids"));
  }
  // The duplicate portal users are not linked by email: each has a person of its own.
  std::size_t shared = 0;
  for (const auto& p : persons) {
    if (p.at("email") == "shared@dup.example") ++shared;
  }
  EXPECT_EQ(shared, 2u);

  // The log: one JSON line per decision (as many as the run's events), and a summary line
  // that says where the run spent its time.
  bool summary = false;
  std::int64_t decisions = 0;
  for (const auto& line : Lines(sync.err)) {
    EXPECT_TRUE(line.contains("ts") && line.contains("level") && line.contains("event"));
    if (line.at("event") == "decision") ++decisions;
    if (line.at("event") == "run_finished") {
      summary = line.at("status") == "succeeded";
      const auto& phases = line.at("phases_ms").as_object();
      for (const char* phase : {"fetch", "load", "plan", "apply", "log"}) {
        EXPECT_TRUE(phases.contains(phase)) << phase;
      }
    }
  }
  EXPECT_TRUE(summary) << sync.err;
  EXPECT_EQ(decisions, QueryInt("SELECT count(*) FROM events"));
}

TEST_F(SyncE2eTest, SecondSyncOnUnchangedSourcesChangesNothing) {
  StartFake(HarbourLights());
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto first = Export();
  auto again = Sync();
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(Export(), first);
  auto full = Sync({"--full"});
  ASSERT_EQ(full.code, 0) << full.err;
  EXPECT_EQ(Export(), first) << "an unchanged re-run prints a byte-identical export";
  EXPECT_EQ(QueryInt("SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id "
                     "WHERE r.id > (SELECT min(id) FROM runs) AND e.kind NOT IN ('quarantined')"),
            0);
}

TEST_F(SyncE2eTest, ShuffledSourceOrderGivesTheSameExport) {
  auto data = HarbourLights();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto forward = Export();

  std::reverse(data.contacts.begin(), data.contacts.end());
  std::reverse(data.users.begin(), data.users.end());
  std::rotate(data.users.begin(), data.users.begin() + 1, data.users.end());
  db_.emplace();
  WriteConfig();
  ChangeData(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  EXPECT_EQ(Export(), forward);
}

TEST_F(SyncE2eTest, PagesAcrossSeveralPagesOnBothSides) {
  Data data;
  for (int i = 0; i < 7; ++i) {
    auto n = std::to_string(i);
    data.contacts.push_back(Contact("c" + n, "Account " + n, "Given" + n, "Family" + n,
                                    "person" + n + "@paging.example"));
  }
  for (int i = 0; i < 9; ++i) {
    auto n = std::to_string(i);
    data.users.push_back(User("u" + n, "person" + n + "@paging.example",
                              "person" + n + "@paging.example", "Given" + n, "Family" + n));
  }
  StartFake(data);
  WriteConfig(/*page_size=*/2, /*portal_page_size=*/3);
  Migrate();
  auto sync = Sync({"--full"});
  ASSERT_EQ(sync.code, 0) << sync.err;
  auto persons = Persons();
  ASSERT_EQ(persons.size(), 9u);
  for (int i = 0; i < 7; ++i) {
    const auto* p = FindByEmail(persons, "person" + std::to_string(i) + "@paging.example");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->at("finance").as_array().size(), 1u);
    EXPECT_EQ(p->at("portal").as_array().size(), 1u);
  }
}

TEST_F(SyncE2eTest, PortalUserCreatedBeforeItsContactIsMergedIntoIt) {
  Data data;
  data.users.push_back(User("u-hemi", "hemi@whare.example", "hemi@whare.example", "Hemi", "P"));
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto before = Persons();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].at("origin"), "portal");
  auto portal_person = before[0].at("person_id");

  data.contacts.push_back(Contact("c-hemi", "Whare Ltd", "Hemi", "Parata", "Hemi@Whare.example",
                                  test_support::UnixMillisNow()));
  ChangeData(data);
  auto sync = Sync();  // incremental: the new contact is within the cursor window
  ASSERT_EQ(sync.code, 0) << sync.err;
  auto after = Persons();
  ASSERT_EQ(after.size(), 1u) << Export();
  const auto& hemi = after[0];
  EXPECT_EQ(hemi.at("origin"), "finance");
  EXPECT_EQ(hemi.at("family_name"), "Parata") << "finance wins";
  EXPECT_NE(hemi.at("person_id"), portal_person);
  ASSERT_EQ(hemi.at("merged_from").as_array().size(), 1u);
  EXPECT_EQ(hemi.at("merged_from").as_array()[0], portal_person);
  ASSERT_EQ(hemi.at("portal").as_array().size(), 1u);
  EXPECT_EQ(hemi.at("portal").as_array()[0].at("rule"), "email_exact");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM merges"), 1);
}

// An incremental run plans over the neighbourhood of what changed: it closes the review items
// its change resolves, and leaves items about records it did not load alone.
TEST_F(SyncE2eTest, IncrementalRunClosesOnlyTheReviewItemsItsChangeResolves) {
  auto data = HarbourLights();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  ASSERT_EQ(Review().size(), 2u) << "the invalid email and the duplicate portal users";

  data.contacts[4] = Contact("4fae7a5c-6d8b-4c2e-9ab5-9e6bd2435e66", "Bad Email Ltd", "Ben", "Bad",
                             "accounts@bad.example", test_support::UnixMillisNow());
  ChangeData(data);
  auto sync = Sync();
  ASSERT_EQ(sync.code, 0) << sync.err;
  auto review = Review();
  ASSERT_EQ(review.size(), 1u);
  EXPECT_EQ(review[0].at("kind"), "duplicate_portal_users");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM review_items WHERE status = 'closed' AND "
                     "kind = 'invalid_email'"),
            1);
}

TEST_F(SyncE2eTest, CrashBeforeCommitLeavesThePreviousStateAndCursor) {
  auto data = HarbourLights();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto before = Export();
  auto cursor = QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'");
  ASSERT_GT(cursor, 0);

  data.contacts.push_back(
      Contact("c-new", "New Ltd", "Nia", "New", "nia@new.example", test_support::UnixMillisNow()));
  ChangeData(data);
  std::this_thread::sleep_for(1100ms);  // the next cursor must differ from this one
  {
    ChildProcess crashing(ConcordOptions({"sync", "--tenant", "acme", "--full"},
                                         {{"CONCORD_FAILPOINT", "before_commit"}}));
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (crashing.Stderr().find("\"failpoint\"") == std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << crashing.Stderr();
      ASSERT_TRUE(crashing.Running()) << crashing.Stderr();
      std::this_thread::sleep_for(50ms);
    }
    crashing.Kill();
    crashing.Wait();
  }
  EXPECT_EQ(Export(), before);
  EXPECT_EQ(QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'"), cursor);

  // The lease of the killed process blocks the tenant until it expires; force it.
  QueryInt("UPDATE tenant_leases SET expires_at = now() - interval '1 second'");
  auto retry = Sync();
  ASSERT_EQ(retry.code, 0) << retry.err;
  EXPECT_NE(FindByEmail(Persons(), "nia@new.example"), nullptr);
  EXPECT_GT(QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'"), cursor);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE status = 'running'"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE error LIKE 'abandoned%'"), 1)
      << "the killed run is marked failed by the next run of the tenant";
}

TEST_F(SyncE2eTest, RejectedCredentialsFailTheRunAndApplyNothing) {
  StartFake(HarbourLights());
  Migrate();
  auto r = Concord({"sync", "--tenant", "acme", "--full"}, {{"E2E_XERO_TOKEN", "wrong"}});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("xero"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/api.xro/2.0/Contacts"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(Xero-Correlation-Id: "), std::string::npos)
      << "Xero's request id: " << r.err;
  EXPECT_TRUE(Persons().empty());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cursors"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE status = 'failed' AND error <> ''"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE error LIKE '%(Xero-Correlation-Id: _%'"), 1)
      << "the request id is kept on the run";

  auto scim = Concord({"sync", "--tenant", "acme", "--full"}, {{"E2E_SCIM_TOKEN", "wrong"}});
  EXPECT_EQ(scim.code, 1);
  EXPECT_NE(scim.err.find("scim"), std::string::npos) << scim.err;
  EXPECT_NE(scim.err.find("401"), std::string::npos) << scim.err;
  EXPECT_TRUE(Persons().empty());
}

TEST_F(SyncE2eTest, ServerErrorsFailTheRunAndLeaveStateAndCursorsUnmoved) {
  auto data = HarbourLights();
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto before = Export();
  auto cursors = QueryInt("SELECT sum(value_ms) FROM cursors");

  data.contacts.push_back(
      Contact("c-new", "New Ltd", "Nia", "New", "nia@new.example", test_support::UnixMillisNow()));
  for (auto [xero, scim, connector] : {std::tuple{500, 0, "xero"}, {0, 500, "scim"}}) {
    data.xero_fail_status = xero;
    data.scim_fail_status = scim;
    ChangeData(data);
    auto r = Sync();
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find(connector), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("500"), std::string::npos) << r.err;
    EXPECT_EQ(Export(), before) << "nothing of a failed run is applied";
    EXPECT_EQ(QueryInt("SELECT sum(value_ms) FROM cursors"), cursors);
  }
  data.xero_fail_status = data.scim_fail_status = 0;
  ChangeData(data);
  ASSERT_EQ(Sync().code, 0);
  EXPECT_NE(FindByEmail(Persons(), "nia@new.example"), nullptr);
}

TEST_F(SyncE2eTest, UnreachableSourceFailsTheRunAndNamesTheUrl) {
  StartFake(HarbourLights());
  Migrate();
  fake_->Stop();
  auto r = Sync({"--full"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(xero_port_)), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cursors"), 0);
}

TEST_F(SyncE2eTest, ProxiesComeFromTheEnvironment) {
  StartFake(HarbourLights());
  Migrate();
  auto bad = Concord({"sync", "--tenant", "acme"}, {{"HTTPS_PROXY", "socks5://u:secret@px:1080"}});
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("environment variable HTTPS_PROXY"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find("secret"), std::string::npos) << bad.err;

  // The fake is on loopback, which is never proxied: a proxy that is not there changes nothing.
  auto direct = Concord({"sync", "--tenant", "acme", "--full"},
                        {{"HTTP_PROXY", "http://127.0.0.1:9"}, {"https_proxy", "127.0.0.1:9"}});
  EXPECT_EQ(direct.code, 0) << direct.err;
}

TEST_F(SyncE2eTest, BadConfigurationExitsWithCodeTwoNamingTheKey) {
  StartFake(HarbourLights());
  WriteConfig(1000, 500, "colour = \"red\"\n");
  auto r = Sync();
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("tenant[0].finance.colour"), std::string::npos) << r.err;

  WriteConfig();
  auto unset = ConcordOptions({"sync", "--tenant", "acme"});
  unset.env.erase("E2E_XERO_TOKEN");
  unset.unset_env.push_back("E2E_XERO_TOKEN");
  ChildProcess child(unset);
  (void)child.ReadToEnd(60s);
  EXPECT_EQ(child.Wait(), 2);
  EXPECT_NE(child.Stderr().find("E2E_XERO_TOKEN"), std::string::npos) << child.Stderr();

  auto usage = Concord({"sync"});
  EXPECT_EQ(usage.code, 2);
}

TEST_F(SyncE2eTest, UnreachableDatabaseExitsWithCodeTwo) {
  StartFake(HarbourLights());
  auto r = Concord({"migrate"},
                   {{"CONCORD_DATABASE_URL", "postgresql:///none?host=/nonexistent-dir&port=1"}});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST_F(SyncE2eTest, SyncRefusesAnOldSchema) {
  StartFake(HarbourLights());
  auto r = Sync();
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("concord migrate"), std::string::npos) << r.err;
}

TEST_F(SyncE2eTest, DryRunPrintsThePlanAndAppliesNothing) {
  StartFake(HarbourLights());
  Migrate();
  auto r = Sync({"--full", "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto plan = Lines(r.out);
  EXPECT_FALSE(plan.empty());
  for (const auto& op : plan) EXPECT_TRUE(op.contains("op"));
  EXPECT_TRUE(Persons().empty());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cursors"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE plan IS NOT NULL"), 1);
}

std::string Text(const json::value& v) { return std::string(v.as_string()); }

TEST_F(SyncE2eTest, FullSyncDeletionsAreHeldBySafeguardUntilConfirmed) {
  Data data;
  for (int i = 0; i < 3; ++i) {
    auto n = std::to_string(i);
    data.contacts.push_back(
        Contact("c" + n, "Account " + n, "G" + n, "F" + n, "p" + n + "@gone.example"));
  }
  StartFake(data);
  rules_toml_ = "[tenant.rules]\nmax_deactivations = 1\n";
  WriteConfig();
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto before = Export();

  data.contacts.erase(data.contacts.begin(), data.contacts.begin() + 2);
  ChangeData(data);
  auto held = Sync({"--full"});
  EXPECT_EQ(held.code, 3) << held.err;
  EXPECT_NE(held.err.find("max_deactivations"), std::string::npos) << held.err;
  EXPECT_EQ(Export(), before) << "a held plan applies nothing";
  EXPECT_EQ(QueryInt("SELECT count(*) FROM runs WHERE status = 'held' AND plan IS NOT NULL"), 1);

  auto confirmed = Sync({"--full", "--confirm-deletes"});
  ASSERT_EQ(confirmed.code, 0) << confirmed.err;
  auto persons = Persons();
  ASSERT_EQ(persons.size(), 3u) << "deleted records keep their persons, inactive";
  for (int i = 0; i < 2; ++i) {
    const auto* p = FindByEmail(persons, "p" + std::to_string(i) + "@gone.example");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->at("status"), "inactive");
    EXPECT_EQ(p->at("finance").as_array()[0].at("status"), "deleted");
  }
  EXPECT_EQ(FindByEmail(persons, "p2@gone.example")->at("status"), "active");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM finance_records WHERE status = 'deleted' AND "
                     "raw LIKE '%gone.example%'"),
            2)
      << "a deleted record keeps the source JSON it was last seen with";
}

TEST_F(SyncE2eTest, MergeUndoBringsBothPersonsBackAndKeepsThemApart) {
  Data data;
  data.users.push_back(User("u-hemi", "hemi@whare.example", "hemi@whare.example", "Hemi", "P"));
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto portal_only = Export();
  data.contacts.push_back(Contact("c-hemi", "Whare Ltd", "Hemi", "Parata", "hemi@whare.example",
                                  test_support::UnixMillisNow()));
  ChangeData(data);
  ASSERT_EQ(Sync().code, 0);
  ASSERT_EQ(Persons().size(), 1u);
  auto merge_id = QueryInt("SELECT id FROM merges");
  ASSERT_GT(merge_id, 0);

  auto undo = Concord({"merge", "undo", std::to_string(merge_id)});
  ASSERT_EQ(undo.code, 0) << undo.err;
  auto persons = Persons();
  ASSERT_EQ(persons.size(), 2u) << Export();
  std::size_t portal_links = 0, finance_links = 0;
  for (const auto& p : persons) {
    EXPECT_TRUE(p.at("merged_from").as_array().empty());
    portal_links += p.at("portal").as_array().size();
    finance_links += p.at("finance").as_array().size();
  }
  EXPECT_EQ(portal_links, 1u);
  EXPECT_EQ(finance_links, 1u);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM keep_separate"), 1);

  ASSERT_EQ(Sync({"--full"}).code, 0);
  EXPECT_EQ(Persons().size(), 2u) << "an undone merge is not made again";
  auto again = Concord({"merge", "undo", std::to_string(merge_id)});
  EXPECT_EQ(again.code, 2) << "already undone";
}

TEST_F(SyncE2eTest, ReviewItemsAreResolvedAndStayResolved) {
  auto data = HarbourLights();
  // The two logins sharing shared@dup.example belong to the Dee family's contact person.
  data.contacts.push_back(Contact("c-dee", "Dee Family", "Dee", "One", "shared@dup.example"));
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  std::int64_t duplicate = 0, invalid = 0;
  for (const auto& item : Review()) {
    if (item.at("kind") == "duplicate_portal_users") duplicate = item.at("id").as_int64();
    if (item.at("kind") == "invalid_email") invalid = item.at("id").as_int64();
  }
  ASSERT_GT(duplicate, 0);
  ASSERT_GT(invalid, 0);
  std::string dee_id;
  for (const auto& p : Persons()) {
    if (p.at("email") == "shared@dup.example" && p.at("origin") == "finance") {
      dee_id = Text(p.at("person_id"));
    }
  }
  ASSERT_FALSE(dee_id.empty()) << Export();

  auto link = Concord({"review", "resolve", std::to_string(duplicate), "--link", dee_id});
  ASSERT_EQ(link.code, 0) << link.err;
  auto dismiss = Concord({"review", "resolve", std::to_string(invalid), "--dismiss"});
  ASSERT_EQ(dismiss.code, 0) << dismiss.err;
  EXPECT_TRUE(Review().empty()) << Concord({"review", "--tenant", "acme"}).out;

  ASSERT_EQ(Sync({"--full"}).code, 0);
  EXPECT_TRUE(Review().empty()) << "resolved situations are not raised again";
  auto persons = Persons();
  const json::object* dee = nullptr;
  for (const auto& p : persons) {
    if (Text(p.at("person_id")) == dee_id) dee = &p;
  }
  ASSERT_NE(dee, nullptr);
  std::size_t manual = 0;
  for (const auto& l : dee->at("portal").as_array()) manual += l.at("rule") == "manual";
  EXPECT_EQ(manual, 2u) << "both logins now reach the Dee person, as decided";

  auto unknown = Concord({"review", "resolve", "999999", "--dismiss"});
  EXPECT_EQ(unknown.code, 2);
  auto no_action = Concord({"review", "resolve", std::to_string(invalid)});
  EXPECT_EQ(no_action.code, 2);
}

TEST_F(SyncE2eTest, ExplainShowsThePersonItsLinksAndTheEventsThatMadeThem) {
  StartFake(HarbourLights());
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  auto r = Concord(
      {"explain", "--tenant", "acme", "--email", " Mere Tane <MERE.TANE@harbourlights.example>"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("person").at("email"), "mere.tane@harbourlights.example");
  EXPECT_EQ(lines[0].at("links").as_array().size(), 2u);
  bool linked_portal = false;
  for (const auto& e : lines[0].at("events").as_array()) {
    if (e.at("kind") == "linked" && e.at("subjects").as_array()[0].at("side") == "portal") {
      linked_portal = true;
    }
  }
  EXPECT_TRUE(linked_portal) << r.out;
  EXPECT_EQ(Concord({"explain", "--tenant", "acme", "--email", "nobody@nowhere.example"}).code, 1);
  EXPECT_EQ(Concord({"explain", "--tenant", "acme", "--email", "not an email"}).code, 2);
}

TEST_F(SyncE2eTest, ErasureRequestRemovesPersonalDataEverywhere) {
  Data data;
  data.contacts.push_back(Contact("c-ana", "Ana Ltd", "Ana", "Secret", "ana@private.example"));
  StartFake(data);
  Migrate();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  ASSERT_GT(QueryInt("SELECT count(*) FROM events WHERE reason LIKE '%ana@private.example%'"), 0);

  data.contacts[0].as_object()["ContactStatus"] = "GDPRREQUEST";
  data.contacts[0].as_object()["UpdatedDateUTC"] = XeroDate(test_support::UnixMillisNow());
  ChangeData(data);
  auto r = Sync();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(QueryInt("SELECT count(*) FROM finance_records WHERE email <> '' OR given_name <> '' "
                     "OR family_name <> '' OR coalesce(raw, '') <> ''"),
            0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM events WHERE reason LIKE '%ana@private.example%'"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM tombstones"), 1);
  auto exported = Export();
  EXPECT_EQ(exported.find("ana@private.example"), std::string::npos) << exported;
  EXPECT_EQ(exported.find("Secret"), std::string::npos) << exported;

  // The source sends the record again as active: it stays erased.
  data.contacts[0].as_object()["ContactStatus"] = "ACTIVE";
  data.contacts[0].as_object()["UpdatedDateUTC"] = XeroDate(test_support::UnixMillisNow() + 1000);
  ChangeData(data);
  ASSERT_EQ(Sync().code, 0);
  EXPECT_EQ(Export().find("ana@private.example"), std::string::npos);
}

}  // namespace
}  // namespace concord
