#include "tools/concord-fake/generator.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <set>
#include <sstream>

namespace concord::fake {
namespace {

namespace json = boost::json;

std::string Dump(std::uint64_t persons, std::uint64_t seed) {
  std::ostringstream out;
  WriteGeneratedDataFile(GeneratorSettings{.persons = persons, .seed = seed}, out);
  return out.str();
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

}  // namespace
}  // namespace concord::fake
