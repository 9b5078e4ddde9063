// The benchmark's correctness check, without its timing: a generated tenant served by
// concord-fake, synced by the real `concord` into PostgreSQL, must export exactly the persons
// the generator expects (`concord-fake --expect`, an oracle built from the generator's own
// truth, not from concord's reconcile library). Also for the incremental scenario: the same
// tenant with changes, read through the cursors of a first full sync.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <sstream>

#include "store/pg.hpp"
#include "tests/store/test_database.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_servers.hpp"
#include "tests/support/line_diff.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/concord-fake/expected.hpp"

namespace concord {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::ChildOptions;
using test_support::ChildProcess;

// About 20,000 finance persons and 17,000 users: every special case of the generator occurs
// many times, and a full sync stays within seconds.
const std::vector<std::string> kTenant = {"--generate", "20000", "--seed", "7"};
constexpr std::int64_t kChanges = 1000;  // the benchmark's incremental scenario
// The generator's defaults (tools/concord-fake/generator.hpp).
constexpr const char* kXeroTenant = "b5a3c1d2-0000-4000-8000-000000000001";
constexpr const char* kXeroToken = "demo-xero-token";
constexpr const char* kScimToken = "demo-portal-token";

std::vector<std::string> With(std::vector<std::string> args, std::vector<std::string> more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

class GeneratedTenantE2eTest : public ::testing::Test {
 protected:
  using Result = test_support::ChildResult;

  // Serves the generated tenant (with `extra` flags) and points the tenant's config at it.
  void Serve(std::vector<std::string> extra = {}) {
    fake_.reset();  // one tenant at a time: the new fake replaces the old one
    fake_.emplace(test_support::FakeServers::WithArgs(With(kTenant, std::move(extra))));
    const std::string toml =
        "[database]\nurl = \"" + db_.url() + "\"\n[log]\nlevel = \"warn\"\n" +
        "[[tenant]]\nid = \"acme\"\n"
        "[tenant.finance]\nkind = \"xero\"\nbase_url = \"" +
        fake_->XeroOrigin() + "/api.xro/2.0\"\naccess_token = \"env:E2E_XERO_TOKEN\"\n" +
        "xero_tenant_id = \"" + kXeroTenant + "\"\npage_size = 1000\n" +
        "[tenant.portal]\nkind = \"scim\"\nbase_url = \"" + fake_->ScimOrigin() +
        "/scim/v2\"\ntoken = \"env:E2E_SCIM_TOKEN\"\npage_size = 1000\n";
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  Result Concord(std::vector<std::string> args) {
    ChildOptions options;
    options.argv = With({CONCORD_BIN, "--config", tmp_.File("concord.toml")}, std::move(args));
    options.env = {{"E2E_XERO_TOKEN", kXeroToken}, {"E2E_SCIM_TOKEN", kScimToken}};
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    return test_support::RunToExit(std::move(options));
  }

  // What concord exported, projected as the oracle writes it, sorted.
  std::vector<std::string> ExportedProjection() {
    const Result exported = Concord({"export", "--tenant", "acme"});
    EXPECT_EQ(exported.code, 0) << exported.err;
    std::vector<std::string> lines;
    for (const std::string& line : SortedLines(exported.out)) {
      lines.push_back(
          fake::ProjectionLine(fake::ProjectExportedPerson(json::parse(line).as_object())));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  // What `concord-fake --expect` says the tenant (with `extra` flags) must export.
  static std::vector<std::string> ExpectedProjection(std::vector<std::string> extra = {}) {
    const Result expected = test_support::RunToExit(
        ChildOptions{.argv = With(With({test_support::ConcordFakeBinary()}, kTenant),
                                  With(std::move(extra), {"--expect"}))});
    EXPECT_EQ(expected.code, 0) << expected.err;
    return SortedLines(expected.out);
  }

  std::int64_t LastRunCount(const std::string& count) {
    store::Connection conn({.url = db_.url()});
    auto result = conn.Exec("SELECT (counts->>'" + count + "')::bigint FROM runs ORDER BY id DESC");
    return result.Rows() == 0 || result.IsNull(0, 0) ? -1 : result.Int(0, 0);
  }

  static void ExpectSamePersons(const std::vector<std::string>& expected,
                                const std::vector<std::string>& exported) {
    EXPECT_EQ(exported.size(), expected.size()) << "persons exported vs expected";
    if (exported == expected) return;
    ADD_FAILURE() << "expected but not exported: "
                  << test_support::MissingLines(expected, exported, 8)
                  << "exported but not expected: "
                  << test_support::MissingLines(exported, expected, 8);
  }

  testing::TestDatabase db_;
  test_support::TempDir tmp_;
  std::optional<test_support::FakeServers> fake_;
};

TEST_F(GeneratedTenantE2eTest, FullSyncExportsTheExpectedPersons) {
  Serve();
  ASSERT_EQ(Concord({"migrate"}).code, 0);
  const Result sync = Concord({"sync", "--tenant", "acme", "--full"});
  ASSERT_EQ(sync.code, 0) << sync.err;
  ExpectSamePersons(ExpectedProjection(), ExportedProjection());
}

TEST_F(GeneratedTenantE2eTest, IncrementalSyncOfChangesExportsTheExpectedPersons) {
  Serve();
  ASSERT_EQ(Concord({"migrate"}).code, 0);
  const Result full = Concord({"sync", "--tenant", "acme", "--full"});
  ASSERT_EQ(full.code, 0) << full.err;

  // The changed records are stamped with the new fake's start, after the cursors just set.
  const std::vector<std::string> changes = {"--changes", std::to_string(kChanges)};
  Serve(changes);
  const Result incremental = Concord({"sync", "--tenant", "acme"});
  ASSERT_EQ(incremental.code, 0) << incremental.err;
  EXPECT_EQ(LastRunCount("fetched_portal"), kChanges);
  // A changed contact brings all its persons (at most six); the unchanged ones stay unread.
  EXPECT_GE(LastRunCount("fetched_finance"), kChanges);
  EXPECT_LE(LastRunCount("fetched_finance"), 6 * kChanges);
  ExpectSamePersons(ExpectedProjection(changes), ExportedProjection());
}

}  // namespace
}  // namespace concord
