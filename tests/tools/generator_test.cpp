#include "tools/concord-fake/generator.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "connectors/wire_time.hpp"
#include "tools/concord-fake/expected.hpp"

namespace concord::fake {
namespace {

namespace json = boost::json;

std::string Dump(const GeneratorSettings& settings) {
  std::ostringstream out;
  WriteGeneratedDataFile(settings, out);
  return out.str();
}

std::string Dump(std::uint64_t persons, std::uint64_t seed) {
  return Dump(GeneratorSettings{.persons = persons, .seed = seed});
}

std::string Key(std::string_view email) {
  std::string key;
  for (const char c : email) {
    if (c == ' ') continue;
    key.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return key;
}

TEST(GeneratorTest, IsDeterministicPerSeed) {
  EXPECT_EQ(Dump(200, 1), Dump(200, 1));
  EXPECT_NE(Dump(200, 1), Dump(200, 2));
}

TEST(GeneratorTest, DumpParsesBackToTheSameDataset) {
  const GeneratorSettings settings{.persons = 500, .seed = 11};
  const Dataset direct = GenerateDataset(settings);
  const Dataset parsed = ParseDataset(Dump(500, 11));
  ASSERT_EQ(direct.xero.contacts.size(), parsed.xero.contacts.size());
  for (std::size_t i = 0; i < direct.xero.contacts.size(); ++i) {
    EXPECT_EQ(direct.xero.contacts[i].json, parsed.xero.contacts[i].json);
  }
  ASSERT_EQ(direct.scim.users.size(), parsed.scim.users.size());
  EXPECT_EQ(direct.xero.tenant_id, "b5a3c1d2-0000-4000-8000-000000000001");
}

TEST(GeneratorTest, HasTheAdvertisedShape) {
  const json::value data = json::parse(Dump(5000, 3));
  std::map<std::string, int> finance;  // email key → records
  std::size_t persons = 0;
  std::size_t archived = 0;
  std::size_t no_email = 0;
  std::size_t non_ascii_names = 0;
  std::set<std::string> names;
  for (const auto& c : data.at("xero").at("contacts").as_array()) {
    archived += c.at("ContactStatus") == "ARCHIVED";
    EXPECT_TRUE(names.insert(std::string(c.at("Name").as_string())).second);
    std::vector<std::pair<std::string, std::string>> people{
        {std::string(c.at("EmailAddress").as_string()),
         std::string(c.at("FirstName").as_string())}};
    for (const auto& p : c.at("ContactPersons").as_array()) {
      people.emplace_back(std::string(p.at("EmailAddress").as_string()),
                          std::string(p.at("FirstName").as_string()));
    }
    EXPECT_LE(people.size(), 6u);
    for (const auto& [email, first] : people) {
      ++persons;
      if (email.empty())
        ++no_email;
      else
        ++finance[Key(email)];
      for (const unsigned char ch : first) non_ascii_names += ch >= 0x80 ? 1 : 0;
    }
  }
  EXPECT_EQ(persons, 5000u);
  EXPECT_GT(archived, 0u);
  EXPECT_GT(no_email, 0u);
  EXPECT_GT(non_ascii_names, 0u);
  std::size_t shared = 0;
  for (const auto& [key, n] : finance) shared += n > 1;
  EXPECT_GT(shared, 0u);  // the same parent on two accounts

  std::map<std::string, int> portal;
  std::size_t overlap = 0;
  std::size_t padded = 0;
  const auto& users = data.at("scim").at("users").as_array();
  std::set<std::string> user_names;
  for (const auto& u : users) {
    const std::string email(u.at("emails").at(0).at("value").as_string());
    padded += email.front() == ' ';
    overlap += finance.count(Key(email));
    ++portal[Key(email)];
    EXPECT_TRUE(user_names.insert(Key(u.at("userName").as_string())).second);
  }
  std::size_t duplicate_users = 0;
  for (const auto& [key, n] : portal) duplicate_users += n > 1;
  EXPECT_GT(users.size(), 4500u);
  EXPECT_LT(users.size(), 5500u);
  EXPECT_GT(overlap, users.size() * 6 / 10);
  EXPECT_LT(overlap, users.size() * 8 / 10);
  EXPECT_GT(padded, 0u);
  EXPECT_GT(duplicate_users, 0u);
}

// The exact key of a generated email, worked out here the simple way: the generator only
// writes ASCII local parts, padding with spaces and the two IDN domains of generator.cpp.
std::string GeneratedKey(std::string_view email) {
  std::string key = Key(email);
  for (const auto& [unicode, ascii] :
       {std::pair<std::string_view, std::string_view>{"bücher.example", "xn--bcher-kva.example"},
        {"straße.example", "xn--strae-oqa.example"}}) {
    if (key.size() > unicode.size() && key.ends_with(unicode)) {
      key.replace(key.size() - unicode.size(), unicode.size(), ascii);
    }
  }
  return key;
}

std::vector<json::object> ExpectedPersons(const GeneratorSettings& settings) {
  std::vector<json::object> persons;
  for (const std::string& line : ExpectedProjection(settings)) {
    persons.push_back(json::parse(line).as_object());
  }
  return persons;
}

// Every record of the dump, by (side, remote id prefix): Xero persons by ContactID (their
// remote ids start with it), users by id, with the exact key of their email ("" for none).
struct DumpedRecords {
  std::map<std::string, std::vector<std::string>> contact_keys;  // ContactID → keys, main first
  std::map<std::string, bool> contact_archived;
  std::map<std::string, std::string> user_keys;
  std::map<std::string, bool> user_active;
};

DumpedRecords Records(const json::value& data) {
  DumpedRecords out;
  for (const auto& c : data.at("xero").at("contacts").as_array()) {
    const std::string id(c.at("ContactID").as_string());
    auto& keys = out.contact_keys[id];
    keys.push_back(GeneratedKey(c.at("EmailAddress").as_string()));
    for (const auto& p : c.at("ContactPersons").as_array()) {
      keys.push_back(GeneratedKey(p.at("EmailAddress").as_string()));
    }
    out.contact_archived[id] = c.at("ContactStatus") == "ARCHIVED";
  }
  for (const auto& u : data.at("scim").at("users").as_array()) {
    const std::string id(u.at("id").as_string());
    out.user_keys[id] = GeneratedKey(u.at("emails").at(0).at("value").as_string());
    out.user_active[id] = u.at("active").as_bool();
  }
  return out;
}

TEST(ExpectedProjectionTest, LinksEveryRecordOnceToAPersonWithItsKey) {
  const GeneratorSettings settings{.persons = 3000, .seed = 5};
  const DumpedRecords records = Records(json::parse(Dump(settings)));
  std::size_t finance_links = 0;
  std::set<std::string> users_seen;
  for (const json::object& person : ExpectedPersons(settings)) {
    SCOPED_TRACE(json::serialize(person));
    bool any_active = false;
    for (const auto& link_value : person.at("links").as_array()) {
      const json::object& link = link_value.as_object();
      const std::string remote_id(link.at("remote_id").as_string());
      const std::string status(link.at("status").as_string());
      any_active = any_active || status == "active";
      std::string key;
      if (link.at("side") == "finance") {
        ++finance_links;
        const std::string contact = remote_id.substr(0, remote_id.find('/'));
        ASSERT_EQ(records.contact_keys.count(contact), 1u);
        EXPECT_EQ(status, records.contact_archived.at(contact) ? "archived" : "active");
        const auto& keys = records.contact_keys.at(contact);
        if (remote_id == contact) {
          key = keys.front();
        } else if (const auto hash = remote_id.find("/persons/#"); hash != std::string::npos) {
          key = keys.at(1 + std::stoul(remote_id.substr(hash + 10)));
        } else {
          key = remote_id.substr(contact.size() + 9);
        }
      } else {
        ASSERT_TRUE(users_seen.insert(remote_id).second);
        key = records.user_keys.at(remote_id);
        EXPECT_EQ(status, records.user_active.at(remote_id) ? "active" : "archived");
      }
      // A record with a key joins the person with that key; one without has its own person.
      if (key.find('@') != std::string::npos && key.find(' ') == std::string::npos) {
        EXPECT_EQ(person.at("email"), json::value(key));
        EXPECT_NE(link.at("rule"), "no_email");
      } else {
        EXPECT_TRUE(person.at("email").is_null());
        EXPECT_EQ(link.at("rule"), "no_email");
        EXPECT_EQ(person.at("links").as_array().size(), 1u);
      }
    }
    EXPECT_EQ(person.at("status"), any_active ? "active" : "inactive");
  }
  EXPECT_EQ(finance_links, 3000u);
  EXPECT_EQ(users_seen.size(), records.user_keys.size());
}

TEST(ExpectedProjectionTest, CoversEveryRuleOfTheGeneratedShape) {
  const GeneratorSettings settings{.persons = 3000, .seed = 5};
  std::map<std::string, std::vector<json::object>> by_email;
  std::size_t no_email = 0;
  for (const json::object& person : ExpectedPersons(settings)) {
    if (person.at("email").is_null()) {
      ++no_email;
    } else {
      by_email[std::string(person.at("email").as_string())].push_back(person);
    }
  }
  EXPECT_GT(no_email, 0u);
  std::size_t merged_finance = 0;
  std::size_t duplicate_users = 0;
  std::size_t archived_with_login = 0;
  std::size_t inactive_login = 0;
  std::size_t idn = 0;
  for (const auto& [email, persons] : by_email) {
    idn += email.find("@xn--") != std::string::npos;
    std::size_t finance_persons = 0;
    for (const json::object& person : persons) {
      std::map<std::string, std::map<std::string, int>> links;  // side → status → count
      for (const auto& link : person.at("links").as_array()) {
        ++links[std::string(link.at("side").as_string())]
               [std::string(link.at("status").as_string())];
      }
      if (person.at("origin") == "finance") {
        ++finance_persons;
        merged_finance += links["finance"]["active"] + links["finance"]["archived"] > 1;
        archived_with_login += links["finance"]["active"] == 0 && links["portal"]["active"] > 0;
        inactive_login += links["portal"]["archived"] > 0;
      } else {
        EXPECT_EQ(person.at("links").as_array().size(), 1u);
      }
    }
    // Rule 3: duplicate logins each keep a person of their own beside the finance person.
    if (persons.size() > 1) {
      ++duplicate_users;
      EXPECT_EQ(finance_persons, 1u) << email;
    }
  }
  EXPECT_GT(merged_finance, 0u);       // rule 2
  EXPECT_GT(duplicate_users, 0u);      // rule 3
  EXPECT_GT(archived_with_login, 0u);  // rule 4 with every finance record archived
  EXPECT_GT(inactive_login, 0u);
  EXPECT_GT(idn, 0u);
}

TEST(GeneratorChangesTest, ChangeExactlyKFinancePersonsAndKUsers) {
  constexpr std::uint64_t kChanges = 150;
  const reconcile::Millis changed_at = 1'796'000'000'000;  // 2026-11-30
  const json::value base = json::parse(Dump(2000, 4));
  const json::value changed = json::parse(Dump(GeneratorSettings{
      .persons = 2000, .seed = 4, .changes = kChanges, .changed_at = changed_at}));
  const auto& base_contacts = base.at("xero").at("contacts").as_array();
  const auto& changed_contacts = changed.at("xero").at("contacts").as_array();
  ASSERT_EQ(base_contacts.size(), changed_contacts.size());
  std::size_t changed_persons = 0;
  std::size_t changed_phones = 0;
  for (std::size_t i = 0; i < base_contacts.size(); ++i) {
    const json::object& before = base_contacts[i].as_object();
    const json::object& after = changed_contacts[i].as_object();
    ASSERT_EQ(before.at("ContactID"), after.at("ContactID"));
    ASSERT_EQ(before.at("ContactStatus"), after.at("ContactStatus"));
    std::vector<std::pair<const json::object*, const json::object*>> persons{{&before, &after}};
    const auto& entries_before = before.at("ContactPersons").as_array();
    const auto& entries_after = after.at("ContactPersons").as_array();
    ASSERT_EQ(entries_before.size(), entries_after.size());
    for (std::size_t j = 0; j < entries_before.size(); ++j) {
      persons.emplace_back(&entries_before[j].as_object(), &entries_after[j].as_object());
    }
    std::size_t changed_here = 0;
    for (const auto& [b, a] : persons) {
      EXPECT_EQ(b->at("EmailAddress"), a->at("EmailAddress"));
      EXPECT_EQ(b->at("FirstName"), a->at("FirstName"));
      changed_here += b->at("LastName") != a->at("LastName");
    }
    changed_persons += changed_here;
    changed_phones += before.at("Phones") != after.at("Phones");
    EXPECT_EQ(after.at("UpdatedDateUTC"),
              changed_here > 0 ? json::value(connectors::FormatXeroDate(changed_at, true))
                               : before.at("UpdatedDateUTC"));
  }
  EXPECT_EQ(changed_persons, kChanges);
  EXPECT_GT(changed_phones, 0u);
  EXPECT_LT(changed_phones, kChanges / 2);

  const auto& base_users = base.at("scim").at("users").as_array();
  const auto& changed_users = changed.at("scim").at("users").as_array();
  ASSERT_EQ(base_users.size(), changed_users.size());
  std::size_t users_changed = 0;
  for (std::size_t i = 0; i < base_users.size(); ++i) {
    const json::object& before = base_users[i].as_object();
    const json::object& after = changed_users[i].as_object();
    if (before == after) continue;
    ++users_changed;
    EXPECT_EQ(before.at("id"), after.at("id"));
    EXPECT_EQ(before.at("emails"), after.at("emails"));
    EXPECT_EQ(before.at("active"), after.at("active"));
    EXPECT_NE(before.at("name"), after.at("name"));
    EXPECT_EQ(after.at("meta").at("lastModified"),
              json::value(connectors::FormatIsoDateTime(changed_at)));
  }
  EXPECT_EQ(users_changed, kChanges);
}

TEST(GeneratorChangesTest, NeverMergeOrSplitAPerson) {
  const GeneratorSettings base{.persons = 2000, .seed = 4};
  GeneratorSettings changed = base;
  changed.changes = 300;
  changed.changed_at = 1'796'000'000'000;
  // The same persons with the same links; only names differ.
  const auto without_names = [](const GeneratorSettings& settings, std::size_t& named) {
    std::multiset<std::string> out;
    for (json::object person : ExpectedPersons(settings)) {
      named += person.at("family_name").as_string().find('-') != std::string_view::npos;
      person.erase("family_name");
      out.insert(json::serialize(person));
    }
    return out;
  };
  std::size_t base_renamed = 0;
  std::size_t renamed = 0;
  EXPECT_EQ(without_names(base, base_renamed), without_names(changed, renamed));
  EXPECT_EQ(base_renamed, 0u);
  // A finance person's change shows unless a newer or active record of the human outranks it;
  // a login's only on a portal-only person (finance names win).
  EXPECT_GT(renamed, 200u);
  EXPECT_LE(renamed, 600u);
}

TEST(GeneratorChangesTest, RefusesMoreChangesThanRecords) {
  EXPECT_THROW(Dump(GeneratorSettings{.persons = 10, .seed = 1, .changes = 11}),
               std::invalid_argument);
}

}  // namespace
}  // namespace concord::fake
