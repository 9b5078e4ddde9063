#include "tools/concord-fake/renderings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "connectors/csv.hpp"
#include "connectors/myob.hpp"
#include "connectors/qbo.hpp"
#include "connectors/xero.hpp"
#include "reconcile/email_key.hpp"
#include "tools/concord-fake/expected.hpp"

namespace concord::fake {
namespace {

namespace json = boost::json;

GeneratorSettings Portable(std::uint64_t persons, std::uint64_t seed) {
  GeneratorSettings settings{.persons = persons, .seed = seed};
  settings.portable = true;
  return settings;
}

// Every contact with its truth.
class ContactsSink final : public RecordSink {
 public:
  void Contact(const json::object& contact, const ContactTruth& truth) override {
    // A copy in the default memory resource: the generator's record arena is reused.
    contacts.emplace_back(contact, json::storage_ptr());
    truths.push_back(truth);
  }
  void User(const json::object& /*user*/, const UserTruth& /*truth*/) override {}

  std::vector<json::object> contacts;
  std::vector<ContactTruth> truths;
};

ContactsSink Contacts(const GeneratorSettings& settings) {
  ContactsSink sink;
  Generate(settings, sink);
  return sink;
}

TEST(PortableTenantTest, KeepsToWhatEveryFinanceKindCanHold) {
  const ContactsSink plain = Contacts(GeneratorSettings{.persons = 5000, .seed = 3});
  const ContactsSink portable = Contacts(Portable(5000, 3));
  // Without the option the generator makes what MYOB cannot hold, so the option is what
  // prevents it.
  EXPECT_TRUE(std::any_of(plain.truths.begin(), plain.truths.end(),
                          [](const ContactTruth& t) { return t.persons.size() > 5; }));
  std::size_t persons = 0;
  std::size_t invalid = 0;
  std::size_t five = 0;
  for (const ContactTruth& truth : portable.truths) {
    EXPECT_LE(truth.persons.size(), 5U) << truth.contact_id;
    five += truth.persons.size() == 5 ? 1 : 0;
    std::set<std::uint64_t> humans;
    std::set<std::string> names;
    for (const FinancePersonTruth& p : truth.persons) {
      ++persons;
      EXPECT_TRUE(humans.insert(p.human).second) << "a human twice on " << truth.contact_id;
      EXPECT_TRUE(names.insert(p.given_name + " " + p.family_name).second)
          << "a name twice on " << truth.contact_id;
      if (!p.email.empty() && p.email_key.empty()) {
        ++invalid;
        EXPECT_NE(p.email.find('@'), std::string::npos) << p.email;
        EXPECT_NE(p.email.find('.'), std::string::npos) << p.email;
        EXPECT_FALSE(reconcile::ExactEmailKey(p.email).valid()) << p.email;
      }
    }
  }
  EXPECT_EQ(persons, 5000U);
  EXPECT_GT(invalid, 0U);
  EXPECT_GT(five, 0U);
}

TEST(RenderingsTest, MyobNeedsAPortableTenant) {
  GeneratorSettings settings{.persons = 50, .seed = 1};
  settings.render_myob = true;
  EXPECT_THROW((void)GenerateDataset(settings), std::invalid_argument);
  settings.portable = true;
  EXPECT_EQ(GenerateDataset(settings).myob.customers.size(), Contacts(settings).contacts.size());
}

TEST(RenderingsTest, DumpParsesBackToTheSameDataset) {
  GeneratorSettings settings = Portable(600, 4);
  settings.render_qbo = true;
  settings.render_myob = true;
  std::ostringstream dump;
  WriteGeneratedDataFile(settings, dump);
  const Dataset direct = GenerateDataset(settings);
  const Dataset parsed = ParseDataset(dump.str());
  ASSERT_EQ(direct.qbo.customers.size(), 600U);
  ASSERT_EQ(parsed.qbo.customers.size(), 600U);
  for (std::size_t i = 0; i < direct.qbo.customers.size(); ++i) {
    EXPECT_EQ(direct.qbo.customers[i].json, parsed.qbo.customers[i].json);
  }
  ASSERT_EQ(direct.myob.customers.size(), parsed.myob.customers.size());
  for (std::size_t i = 0; i < direct.myob.customers.size(); ++i) {
    EXPECT_EQ(direct.myob.customers[i].json, parsed.myob.customers[i].json);
  }
  EXPECT_EQ(parsed.qbo.realm_id, settings.qbo_realm_id);
  EXPECT_EQ(parsed.myob.id, settings.myob_company_file_id);
  EXPECT_EQ(parsed.xero.contacts.size(), direct.xero.contacts.size());
}

// A finance person as every kind must deliver it, in the generator's names.
using Person = std::tuple<std::string, std::string, std::string, std::string, std::string,
                          reconcile::LinkStatus>;

std::vector<Person> Canonical(const connectors::FinancePage& page,
                              const CanonicalFinanceNames& names) {
  EXPECT_TRUE(page.quarantined.empty())
      << page.quarantined.size() << " quarantined, first: " << page.quarantined[0].reason;
  std::vector<Person> out;
  for (const reconcile::FinancePerson& p : page.persons) {
    const auto person = names.persons.find(p.remote_id);
    const auto account = names.accounts.find(p.account_id);
    out.emplace_back(person == names.persons.end() ? "unmapped " + p.remote_id : person->second,
                     account == names.accounts.end() ? "unmapped " + p.account_id : account->second,
                     p.given_name, p.family_name, p.email, p.status);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Array(const std::vector<json::object>& records) {
  json::array array;
  for (const json::object& r : records) array.push_back(r);
  return json::serialize(array);
}

// The connectors' own page parsers read every rendering of one truth as the same persons: the
// same records (by the generator's names), accounts, names, emails and statuses.
TEST(RenderingsTest, EveryConnectorReadsTheSamePersons) {
  const GeneratorSettings settings = Portable(3000, 9);
  const ContactsSink tenant = Contacts(settings);
  std::vector<json::object> qbo;
  std::vector<json::object> myob;
  std::string csv;
  for (std::size_t i = 0; i < tenant.contacts.size(); ++i) {
    for (json::object& c : QboCustomersFor(tenant.contacts[i], tenant.truths[i])) {
      qbo.push_back(std::move(c));
    }
    myob.push_back(MyobCustomerFor(tenant.contacts[i], tenant.truths[i]));
    csv += CsvRowsFor(tenant.contacts[i], tenant.truths[i]);
  }

  const std::vector<Person> xero =
      Canonical(connectors::ParseXeroPage(R"({"Contacts":)" + Array(tenant.contacts) + "}").page,
                FinanceNamesFor(settings, "xero"));
  ASSERT_EQ(xero.size(), 3000U);
  EXPECT_EQ(std::get<0>(xero.front()).rfind("person ", 0), 0U);

  // Sub-customers sit right under their parent (Level 1), so no hierarchy look-up is needed.
  const connectors::QboPage qbo_page =
      connectors::ParseQboPage(R"({"QueryResponse":{"Customer":)" + Array(qbo) + "}}");
  EXPECT_EQ(Canonical(qbo_page.page, FinanceNamesFor(settings, "qbo")), xero);

  EXPECT_EQ(Canonical(connectors::ParseMyobPage(R"({"Items":)" + Array(myob) + "}").page,
                      FinanceNamesFor(settings, "myob")),
            xero);

  connectors::CsvReader reader({}, 0, 1000);
  connectors::FinancePage csv_persons;
  const auto collect = [&](connectors::FinancePage&& page) {
    for (auto& p : page.persons) csv_persons.persons.push_back(std::move(p));
    for (auto& q : page.quarantined) csv_persons.quarantined.push_back(std::move(q));
  };
  std::ostringstream file;
  file << "\xEF\xBB\xBF" << kGeneratedCsvHeader << "\r\n" << csv;
  reader.Feed(file.str(), collect);
  reader.Finish(collect);
  EXPECT_EQ(Canonical(csv_persons, FinanceNamesFor(settings, "csv")), xero);
}

TEST(RenderingsTest, WriteGeneratedCsvIsTheHeaderAndEveryAccountsRows) {
  const GeneratorSettings settings = Portable(200, 2);
  std::ostringstream out;
  WriteGeneratedCsv(settings, out);
  const std::string text = out.str();
  ASSERT_TRUE(text.starts_with("\xEF\xBB\xBF" + std::string(kGeneratedCsvHeader) + "\r\n"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 201);
}

}  // namespace
}  // namespace concord::fake
