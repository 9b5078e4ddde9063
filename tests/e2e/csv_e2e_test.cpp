// A tenant whose finance side is a CSV file dropped in a directory, end to end: `concord` +
// concord-fake (SCIM only) + PostgreSQL. Each file is a whole copy of the finance side: a new
// file is a full sync of it, an unchanged one is not read again.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <optional>

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

constexpr const char* kScimToken = "scim-token-e2e";
constexpr std::int64_t kMay = 1'717'200'000'000;   // 2024-06-01T00:00:00Z
constexpr std::int64_t kJune = 1'717'286'400'000;  // 2024-06-02T00:00:00Z

const char* const kHeader =
    "Customer,Company,Contact ID,First,Last,Email,Email 2,Phone,Status,"
    "Modified\r\n";

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
       {{"resourceType", "User"},
        {"created", "2024-05-01T00:00:00Z"},
        {"lastModified", "2024-05-01T00:00:00Z"}}}};
}

using Result = test_support::ChildResult;

class CsvE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(Drop());
    json::array users{User("u-ann", "ann@harbour.example", "Ann", "Lee")};
    test_support::WriteFile(tmp_.File("data.json"),
                            json::serialize(json::object{
                                {"scim", json::object{{"token", kScimToken}, {"users", users}}}}));
    fake_.emplace(tmp_.File("data.json"));
    const std::string toml = "[database]\nurl = \"" + db_->url() +
                             "\"\n[log]\nlevel = \"info\"\n"
                             "[[tenant]]\nid = \"acme\"\n"
                             "[tenant.finance]\nkind = \"csv\"\npath = \"" +
                             Drop() +
                             "\"\n"
                             "[tenant.finance.columns]\naccount_id = \"Customer\"\n"
                             "account_name = \"Company\"\nperson_id = \"Contact ID\"\n"
                             "given_name = \"First\"\nfamily_name = \"Last\"\nemail = \"Email\"\n"
                             "email2 = \"Email 2\"\nphone = \"Phone\"\nstatus = \"Status\"\n"
                             "updated_at = \"Modified\"\n"
                             "[tenant.portal]\nkind = \"scim\"\nbase_url = \"" +
                             fake_->ScimOrigin() + "/scim/v2\"\ntoken = \"env:E2E_SCIM_TOKEN\"\n";
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
    auto migrate = Concord({"migrate"});
    ASSERT_EQ(migrate.code, 0) << migrate.err;
  }

  std::string Drop() const { return tmp_.File("drop"); }

  // Drops a file into the directory with the given modification time.
  void DropFile(const std::string& name, const std::string& rows, std::int64_t mtime_ms) {
    const std::string path = Drop() + "/" + name;
    test_support::WriteFile(path, kHeader + rows);
    const timespec times[2] = {{mtime_ms / 1000, 0}, {mtime_ms / 1000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  Result Concord(std::vector<std::string> args) {
    ChildOptions options;
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = {{"E2E_SCIM_TOKEN", kScimToken}};
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    return test_support::RunToExit(std::move(options));
  }

  Result Sync(std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"sync", "--tenant", "acme"};
    args.insert(args.end(), flags.begin(), flags.end());
    return Concord(args);
  }

  std::string Export() {
    auto r = Concord({"export", "--tenant", "acme"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  std::vector<json::object> Persons() {
    const std::string out = Export();
    std::vector<json::object> persons;
    std::size_t start = 0;
    while (start < out.size()) {
      auto end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      if (end > start) persons.push_back(json::parse(out.substr(start, end - start)).as_object());
      start = end + 1;
    }
    return persons;
  }

  std::int64_t QueryInt(const std::string& sql) {
    store::Connection conn({.url = db_->url()});
    auto result = conn.Exec(sql);
    return result.Rows() == 0 || result.IsNull(0, 0) ? -1 : result.Int(0, 0);
  }

  std::string QueryText(const std::string& sql) {
    store::Connection conn({.url = db_->url()});
    auto result = conn.Exec(sql);
    return result.Rows() == 0 || result.IsNull(0, 0) ? "" : std::string(result.Text(0, 0));
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

const std::string kAnn =
    "A1,\"Harbour Lights, Ltd\",P1,Ann,Lee,Ann@Harbour.example,,09 555 0100,active,"
    "2024-05-20\r\n";
const std::string kBo = "A1,\"Harbour Lights, Ltd\",P2,Bo,Ngata,bo@harbour.example,,,,\r\n";
const std::string kCy = "A2,Cy Ltd,P3,Cy,Ray,cy@ray.example,,,Inactive,\r\n";

TEST_F(CsvE2eTest, ANewFileIsAFullSyncAndAnUnchangedOneChangesNothing) {
  DropFile("2024-06-01.csv", kAnn + kBo + kCy, kMay);
  auto first = Sync();
  ASSERT_EQ(first.code, 0) << first.err;
  auto persons = Persons();
  ASSERT_EQ(persons.size(), 3u) << Export();
  const auto* ann = FindByEmail(persons, "ann@harbour.example");
  ASSERT_NE(ann, nullptr) << Export();
  const auto& link = ann->at("finance").as_array()[0].as_object();
  EXPECT_EQ(link.at("source"), "csv");
  EXPECT_EQ(link.at("remote_id"), "P1");
  EXPECT_EQ(link.at("account_name"), "Harbour Lights, Ltd");
  EXPECT_EQ(ann->at("portal").as_array().size(), 1u) << "the portal user is linked";
  const auto* cy = FindByEmail(persons, "cy@ray.example");
  ASSERT_NE(cy, nullptr);
  EXPECT_EQ(cy->at("finance").as_array()[0].at("status"), "archived");
  EXPECT_EQ(QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'"), kMay)
      << "the cursor is the file's modification time, with no overlap taken off";
  EXPECT_NE(QueryText("SELECT raw FROM finance_records WHERE remote_id = 'P1'").find("09 555 0100"),
            std::string::npos)
      << "the row is kept as JSON for audit";

  // The same file again: nothing is read, nothing changes.
  const std::string before = Export();
  auto unchanged = Sync();
  ASSERT_EQ(unchanged.code, 0) << unchanged.err;
  EXPECT_EQ(QueryInt("SELECT (counts->>'fetched_finance')::bigint FROM runs ORDER BY id DESC "
                     "LIMIT 1"),
            0);
  EXPECT_EQ(Export(), before);

  // A newer file without Bo, on an incremental run: Bo is gone from the source.
  DropFile("2024-06-02.csv", kAnn + kCy, kJune);
  auto second = Sync();
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(QueryText("SELECT mode FROM runs ORDER BY id DESC LIMIT 1"), "incremental");
  const auto after = Persons();
  const auto* bo = FindByEmail(after, "bo@harbour.example");
  ASSERT_NE(bo, nullptr) << Export();
  EXPECT_EQ(bo->at("status"), "inactive");
  EXPECT_EQ(bo->at("finance").as_array()[0].at("status"), "deleted");
  EXPECT_EQ(FindByEmail(after, "ann@harbour.example")->at("status"), "active");
  EXPECT_EQ(QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'"), kJune);

  // A full run reads the file again; it is the same, so nothing changes.
  const std::string settled = Export();
  ASSERT_EQ(Sync({"--full"}).code, 0);
  EXPECT_EQ(Export(), settled);
}

TEST_F(CsvE2eTest, BadRowsAreQuarantinedWithTheirLineAndTheRestIsSynced) {
  DropFile("contacts.csv", kAnn + "A1,broken row\r\n" + kBo, kMay);
  auto sync = Sync();
  ASSERT_EQ(sync.code, 0) << sync.err;
  EXPECT_EQ(QueryText("SELECT status FROM runs"), "succeeded_with_warnings");
  EXPECT_EQ(QueryText("SELECT reason FROM quarantine"), "line 3: 2 fields where the header has 10");
  EXPECT_EQ(Persons().size(), 2u);

  // Bo's row breaks in the next file: Bo is reported, not deleted.
  DropFile("contacts.csv", kAnn + "A1,\"Harbour\",P2,Bo,\r\n", kJune);
  auto next = Sync();
  ASSERT_EQ(next.code, 0) << next.err;
  EXPECT_EQ(QueryInt("SELECT count(*) FROM quarantine WHERE remote_id = 'P2'"), 1);
  const auto persons = Persons();
  const auto* bo = FindByEmail(persons, "bo@harbour.example");
  ASSERT_NE(bo, nullptr);
  EXPECT_EQ(bo->at("finance").as_array()[0].at("status"), "active")
      << "a quarantined row still names its record, so it is not taken as deleted";
}

TEST_F(CsvE2eTest, AFileWithoutAMappedColumnFailsTheRunWithNothingApplied) {
  DropFile("contacts.csv", kAnn + kBo, kMay);
  ASSERT_EQ(Sync().code, 0);
  const std::string before = Export();
  const std::string path = Drop() + "/contacts-2.csv";
  test_support::WriteFile(path,
                          "Customer,Contact ID,First,Last,Email\r\nA1,P1,Ann,Lee,a@b.example\r\n");
  const timespec times[2] = {{kJune / 1000, 0}, {kJune / 1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);

  auto failed = Sync();
  EXPECT_EQ(failed.code, 1);
  EXPECT_NE(failed.err.find("csv: " + path +
                            ": the header has no column \"Company\" "
                            "(columns.account_name)"),
            std::string::npos)
      << failed.err;
  EXPECT_EQ(Export(), before);
  EXPECT_EQ(QueryInt("SELECT value_ms FROM cursors WHERE side = 'finance'"), kMay);
}

}  // namespace
}  // namespace concord
