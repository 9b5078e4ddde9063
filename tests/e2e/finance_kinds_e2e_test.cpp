// Issue 5: the same tenant data served through Xero, QBO, MYOB and CSV gives the same canonical
// export. One generated ground truth (concord-fake --generate --portable) is served at once as
// Xero contacts, QBO customers and MYOB customers and written as a CSV file; four tenants of one
// database, one per finance kind and all with the same SCIM portal, are synced in full by the
// real `concord`, and their exports must be equal once what legitimately differs by kind is
// normalised (Normalised below says exactly what), and equal to the oracle (`--expect`).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "tests/store/test_database.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_servers.hpp"
#include "tests/support/line_diff.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/concord-fake/expected.hpp"
#include "tools/concord-fake/generator.hpp"

namespace concord {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::ChildOptions;
using test_support::ChildProcess;

// A couple of thousand finance persons on about 900 accounts: several persons per account,
// humans on two accounts, archived contacts, persons without or with an invalid email,
// non-ASCII names, duplicate and inactive portal users all occur, and every kind pages.
constexpr std::uint64_t kPersons = 2000;
constexpr std::uint64_t kSeed = 5;
const std::array<std::string, 4> kKinds = {"xero", "qbo", "myob", "csv"};
// The generator's defaults (tools/concord-fake/generator.hpp).
constexpr const char* kXeroTenant = "b5a3c1d2-0000-4000-8000-000000000001";
constexpr const char* kQboRealm = "9130350000000001";
constexpr const char* kMyobCompanyFile = "8f1c0d2e-0000-4000-8000-000000000001";

fake::GeneratorSettings Settings() {
  fake::GeneratorSettings settings;
  settings.persons = kPersons;
  settings.seed = kSeed;
  settings.portable = true;
  return settings;
}

// The same tenant on concord-fake's command line.
std::vector<std::string> TenantArgs() {
  return {"--generate", std::to_string(kPersons), "--seed", std::to_string(kSeed), "--portable"};
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string Canonical(const std::unordered_map<std::string, std::string>& names,
                      const std::string& id) {
  const auto it = names.find(id);
  return it == names.end() ? "unmapped " + id : it->second;
}

// Sorts an array of objects by their serialised form, so link order never matters.
void SortArray(json::value& array) {
  std::vector<std::string> items;
  for (const json::value& item : array.as_array()) items.push_back(json::serialize(item));
  std::sort(items.begin(), items.end());
  json::array sorted;
  for (const std::string& item : items) sorted.push_back(json::parse(item));
  array = std::move(sorted);
}

// One exported person with what legitimately differs between finance kinds taken out:
// - "tenant" and "person_id": each kind is its own tenant, and person ids are made per tenant;
// - a finance link's "source" ("xero", "qbo", "myob", "csv") becomes "finance";
// - its "remote_id" and "account_id" (ContactID, QBO Id, MYOB UID, CSV person_id, each with the
//   connector's own "/persons/..." scheme) become the generator's names ("person 17",
//   "account 5"), so a link must still point at the very record it came from and the persons
//   of one account must still share it (an id the generator did not make reads "unmapped");
// - its "account_name" is dropped: a MYOB individual's card is named after the person
//   ("Mere Tane"), while Xero's Name is made unique ("Mere Tane (AC-100123)");
// - finance and portal links are sorted.
// Everything else must be equal: the person's status, origin, email, names, display name and
// merges, and each link's email, status, rule (and the portal links entirely).
std::string Normalised(json::object exported, const fake::CanonicalFinanceNames& names) {
  exported.erase("tenant");
  exported.erase("person_id");
  for (json::value& link : exported["finance"].as_array()) {
    json::object& l = link.as_object();
    l["source"] = "finance";
    l["remote_id"] = Canonical(names.persons, Text(l, "remote_id"));
    l["account_id"] = Canonical(names.accounts, Text(l, "account_id"));
    l.erase("account_name");
  }
  SortArray(exported["finance"]);
  SortArray(exported["portal"]);
  return json::serialize(exported);
}

// A projection line (expected.hpp) with the same normalisation of its finance links.
std::string NormalisedProjection(const std::string& line,
                                 const fake::CanonicalFinanceNames& names) {
  json::object p = json::parse(line).as_object();
  for (json::value& link : p["links"].as_array()) {
    json::object& l = link.as_object();
    if (Text(l, "side") != "finance") continue;
    l["source"] = "finance";
    l["remote_id"] = Canonical(names.persons, Text(l, "remote_id"));
  }
  SortArray(p["links"]);
  return json::serialize(p);
}

void ExpectSame(const std::string& what, const std::vector<std::string>& expected,
                const std::vector<std::string>& actual) {
  EXPECT_EQ(actual.size(), expected.size()) << what;
  if (actual == expected) return;
  ADD_FAILURE() << what
                << "\nonly in the first: " << test_support::MissingLines(expected, actual, 6)
                << "only in the second: " << test_support::MissingLines(actual, expected, 6);
}

using Result = test_support::ChildResult;
using test_support::RunToExit;

class FinanceKindsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> args = TenantArgs();
    for (const char* more : {"--render", "qbo,myob", "--write-csv"}) args.emplace_back(more);
    args.push_back(CsvPath());
    fake_.emplace(test_support::FakeServers::WithArgs(std::move(args)));
    WriteConfig();
    const Result migrate = Concord({"migrate"});
    ASSERT_EQ(migrate.code, 0) << migrate.err;
  }

  std::string CsvPath() const { return tmp_.File("finance.csv"); }

  // Four tenants named after their finance kind, one SCIM portal. Page sizes well below the
  // tenant's size, so every kind reads several pages.
  void WriteConfig() {
    const std::string portal = "[tenant.portal]\nkind = \"scim\"\nbase_url = \"" +
                               fake_->ScimOrigin() +
                               "/scim/v2\"\ntoken = \"env:E2E_SCIM_TOKEN\"\npage_size = 500\n";
    std::string toml = "[database]\nurl = \"" + db_.url() + "\"\n[log]\nlevel = \"warn\"\n";
    toml += "[[tenant]]\nid = \"xero\"\n[tenant.finance]\nkind = \"xero\"\nbase_url = \"" +
            fake_->XeroOrigin() +
            "/api.xro/2.0\"\naccess_token = \"env:E2E_XERO_TOKEN\"\nxero_tenant_id = \"" +
            kXeroTenant + "\"\npage_size = 100\n" + portal;
    toml += "[[tenant]]\nid = \"qbo\"\n[tenant.finance]\nkind = \"qbo\"\nbase_url = \"" +
            fake_->QboOrigin() + "\"\nrealm_id = \"" + kQboRealm +
            "\"\naccess_token = \"env:E2E_QBO_TOKEN\"\npage_size = 500\n" + portal;
    toml += "[[tenant]]\nid = \"myob\"\n[tenant.finance]\nkind = \"myob\"\nbase_url = \"" +
            fake_->MyobOrigin() + "/accountright/" + kMyobCompanyFile +
            "\"\napi_key = \"env:E2E_MYOB_KEY\"\naccess_token = \"env:E2E_MYOB_TOKEN\"\n"
            "page_size = 400\n" +
            portal;
    toml += "[[tenant]]\nid = \"csv\"\n[tenant.finance]\nkind = \"csv\"\npath = \"" + CsvPath() +
            "\"\npage_size = 500\n" + portal;
    test_support::WriteFile(tmp_.File("concord.toml"), toml);
  }

  Result Concord(std::vector<std::string> args) {
    ChildOptions options;
    options.argv = {CONCORD_BIN, "--config", tmp_.File("concord.toml")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    // The generator's default credentials.
    options.env = {{"E2E_XERO_TOKEN", "demo-xero-token"},
                   {"E2E_QBO_TOKEN", "demo-qbo-token"},
                   {"E2E_MYOB_KEY", "demo-myob-key"},
                   {"E2E_MYOB_TOKEN", "demo-myob-token"},
                   {"E2E_SCIM_TOKEN", "demo-portal-token"}};
    options.unset_env = {"CONCORD_DATABASE_URL", "CONCORD_FAILPOINT"};
    return RunToExit(std::move(options));
  }

  // The tenant's export, each line normalised, sorted.
  std::vector<std::string> NormalisedExport(const std::string& kind,
                                            const fake::CanonicalFinanceNames& names) {
    const Result exported = Concord({"export", "--tenant", kind});
    EXPECT_EQ(exported.code, 0) << exported.err;
    std::vector<std::string> lines;
    for (const std::string& line : Lines(exported.out)) {
      lines.push_back(Normalised(json::parse(line).as_object(), names));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  // The tenant's export as the oracle projects it (expected.hpp), normalised, sorted.
  std::vector<std::string> NormalisedExportProjection(const std::string& kind,
                                                      const fake::CanonicalFinanceNames& names) {
    const Result exported = Concord({"export", "--tenant", kind});
    EXPECT_EQ(exported.code, 0) << exported.err;
    std::vector<std::string> lines;
    for (const std::string& line : Lines(exported.out)) {
      const std::string projected =
          fake::ProjectionLine(fake::ProjectExportedPerson(json::parse(line).as_object()));
      lines.push_back(NormalisedProjection(projected, names));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  testing::TestDatabase db_;
  test_support::TempDir tmp_;
  std::optional<test_support::FakeServers> fake_;
};

// What makes the comparison worth having: the special cases the generator promises do occur.
void ExpectRichTenant(const std::vector<std::string>& normalised) {
  std::size_t on_two_accounts = 0;
  std::size_t archived = 0;
  std::size_t no_email = 0;
  std::size_t non_ascii = 0;
  std::size_t portal_linked = 0;
  std::map<std::string, int> account_sizes;
  for (const std::string& line : normalised) {
    const json::object p = json::parse(line).as_object();
    const json::array& finance = p.at("finance").as_array();
    std::set<std::string> accounts;
    for (const json::value& link : finance) {
      const json::object& l = link.as_object();
      accounts.insert(Text(l, "account_id"));
      ++account_sizes[Text(l, "account_id")];
      archived += Text(l, "status") == "archived" ? 1 : 0;
      no_email += Text(l, "rule") == "no_email" ? 1 : 0;
    }
    on_two_accounts += accounts.size() >= 2 ? 1 : 0;
    portal_linked += !finance.empty() && !p.at("portal").as_array().empty() ? 1 : 0;
    const std::string names = Text(p, "given_name") + Text(p, "family_name");
    non_ascii += std::any_of(names.begin(), names.end(),
                             [](char c) { return static_cast<unsigned char>(c) >= 0x80; })
                     ? 1
                     : 0;
  }
  const auto several = std::count_if(account_sizes.begin(), account_sizes.end(),
                                     [](const auto& a) { return a.second >= 3; });
  EXPECT_GT(on_two_accounts, 0U) << "humans on two accounts";
  EXPECT_GT(archived, 0U) << "archived finance links";
  EXPECT_GT(no_email, 0U) << "finance persons without a usable email";
  EXPECT_GT(non_ascii, 100U) << "persons with non-ASCII names";
  EXPECT_GT(portal_linked, 100U) << "finance persons linked to a portal user";
  EXPECT_GT(several, 50) << "accounts with three or more persons";
  for (const std::string& line : normalised) {
    EXPECT_EQ(line.find("unmapped"), std::string::npos) << line;
  }
}

TEST_F(FinanceKindsE2eTest, EveryFinanceKindExportsTheSamePersons) {
  std::map<std::string, std::vector<std::string>> exports;
  std::map<std::string, fake::CanonicalFinanceNames> names;
  for (const std::string& kind : kKinds) {
    const Result sync = Concord({"sync", "--tenant", kind, "--full"});
    ASSERT_EQ(sync.code, 0) << kind << ": " << sync.err;
    names[kind] = fake::FinanceNamesFor(Settings(), kind);
    exports[kind] = NormalisedExport(kind, names[kind]);
  }
  ExpectRichTenant(exports.at("xero"));
  for (const std::string& kind : kKinds) {
    if (kind != "xero") ExpectSame("xero vs " + kind, exports.at("xero"), exports.at(kind));
  }

  // And each is what the oracle, derived from the generator's truth, says.
  const Result expected = RunToExit(ChildOptions{.argv = [] {
    std::vector<std::string> argv = TenantArgs();
    argv.insert(argv.begin(), test_support::ConcordFakeBinary());
    argv.emplace_back("--expect");
    return argv;
  }()});
  ASSERT_EQ(expected.code, 0) << expected.err;
  std::vector<std::string> oracle;
  for (const std::string& line : Lines(expected.out)) {
    oracle.push_back(NormalisedProjection(line, names.at("xero")));
  }
  std::sort(oracle.begin(), oracle.end());
  for (const std::string& kind : kKinds) {
    ExpectSame("oracle vs " + kind, oracle, NormalisedExportProjection(kind, names.at(kind)));
  }
}

}  // namespace
}  // namespace concord
