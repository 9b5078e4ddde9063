#include "tools/concord-fake/dataset.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace concord::fake {
namespace {

std::string Contact(const std::string& id, const std::string& updated,
                    const std::string& status = "ACTIVE") {
  return R"({"ContactID":")" + id + R"(","ContactStatus":")" + status +
         R"(","Name":"N","UpdatedDateUTC":")" + updated + R"("})";
}

TEST(DatasetTest, SortsAndIndexesContactsAndUsers) {
  const Dataset d = ParseDataset(R"({"xero":{"tenant_id":"t","access_token":"a","contacts":[)" +
                                 Contact("b", "/Date(2000+0000)/") + "," +
                                 Contact("c", "\\/Date(1000+0000)\\/", "ARCHIVED") + "," +
                                 Contact("a", "/Date(2000+0000)/") +
                                 R"(]},"scim":{"token":"s","fail_status":503,"users":[
        {"id":"u2","meta":{"lastModified":"2026-01-02T00:00:00Z"}},
        {"id":"u1","meta":{"lastModified":"2026-01-01T00:00:00Z"}}]}})");
  ASSERT_EQ(d.xero.contacts.size(), 3u);
  EXPECT_EQ(d.xero.contacts[0].contact_id, "c");
  EXPECT_TRUE(d.xero.contacts[0].archived);
  EXPECT_EQ(d.xero.contacts[1].contact_id, "a");
  EXPECT_EQ(d.xero.contacts[2].contact_id, "b");
  EXPECT_EQ(d.xero.active_before, (std::vector<std::uint32_t>{0, 0, 1, 2}));
  EXPECT_NE(d.xero.contacts[1].json.find(R"("UpdatedDateUTC":"\/Date(2000+0000)\/")"),
            std::string::npos)
      << d.xero.contacts[1].json;
  EXPECT_EQ(d.scim.users[0].id, "u1");
  EXPECT_EQ(d.scim.fail_status, 503u);
  EXPECT_EQ(d.xero.fail_status, std::nullopt);
}

TEST(DatasetTest, ErrorsNameTheRecordAndField) {
  const auto error_of = [](const std::string& text) -> std::string {
    try {
      (void)ParseDataset(text);
    } catch (const DatasetError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string xero = R"({"xero":{"tenant_id":"t","access_token":"a","contacts":[)";
  EXPECT_NE(error_of(xero + R"({"Name":"x"}]}})").find("xero.contacts[0]: \"ContactID\""),
            std::string::npos);
  EXPECT_NE(error_of(xero + Contact("a", "2026-01-01T00:00:00") + "]}}").find("UpdatedDateUTC"),
            std::string::npos);
  EXPECT_NE(error_of(xero + Contact("a", "/Date(1)/") + "," + Contact("a", "/Date(2)/") + "]}}")
                .find("duplicate ContactID a"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"scim":{"token":"s","users":[{"id":"u"}]}})").find("scim.users[0]"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"xeroo":{}})").find("unknown key \"xeroo\""), std::string::npos);
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
}

TEST(DatasetTest, ReadsQboCustomersOrderedByNumericId) {
  const Dataset d = ParseDataset(R"({"qbo":{"realm_id":"9130","access_token":"q",
      "fail_status":429,"customers":[
        {"Id":"10","Active":false,"Job":true,"DisplayName":"Ten",
         "MetaData":{"CreateTime":"2024-01-01T00:00:00Z","LastUpdatedTime":"2024-06-09T16:40:11-07:00"}},
        {"Id":"9","MetaData":{"LastUpdatedTime":"2024-06-01T00:00:00Z"}}]}})");
  EXPECT_EQ(d.qbo.realm_id, "9130");
  EXPECT_EQ(d.qbo.fail_status, 429u);
  ASSERT_EQ(d.qbo.customers.size(), 2u);
  EXPECT_EQ(d.qbo.customers[0].id, "9");
  EXPECT_TRUE(d.qbo.customers[0].active) << "Active defaults to true";
  EXPECT_EQ(d.qbo.customers[1].id, "10");
  EXPECT_FALSE(d.qbo.customers[1].active);
  EXPECT_TRUE(d.qbo.customers[1].job);
  EXPECT_EQ(d.qbo.customers[1].updated_ms, 1717976411000);
  EXPECT_EQ(d.qbo.customers[1].created_ms, 1704067200000);
  EXPECT_EQ(d.qbo.customers[1].display_name, "Ten");
  EXPECT_TRUE(QboIdLess("9", "10"));
  EXPECT_TRUE(QboIdLess("10", "a"));
}

TEST(DatasetTest, QboErrorsNameTheRecordAndField) {
  const auto error_of = [](const std::string& text) -> std::string {
    try {
      (void)ParseDataset(text);
    } catch (const DatasetError& e) {
      return e.what();
    }
    return "";
  };
  const std::string head = R"({"qbo":{"realm_id":"1","access_token":"a","customers":[)";
  EXPECT_NE(error_of(head + R"({"Id":"1"}]}})").find("qbo.customers[0]"), std::string::npos);
  EXPECT_NE(error_of(head + R"({"Id":"1","MetaData":{"LastUpdatedTime":"soon"}}]}})")
                .find("qbo.customers[0].MetaData.LastUpdatedTime"),
            std::string::npos);
  EXPECT_NE(error_of(head + R"({"Id":"1","Active":"no","MetaData":{"LastUpdatedTime":)"
                            R"("2024-01-01T00:00:00Z"}}]}})")
                .find("Active"),
            std::string::npos);
  const std::string one = R"({"Id":"1","MetaData":{"LastUpdatedTime":"2024-01-01T00:00:00Z"}})";
  EXPECT_NE(error_of(head + one + "," + one + "]}}").find("duplicate Id 1"), std::string::npos);
  EXPECT_NE(error_of(R"({"qbo":{"realm_id":"1","access_token":"a","customers":[],"x":1}})")
                .find("qbo: unknown key \"x\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"qbo":{"access_token":"a","customers":[]}})").find("realm_id"),
            std::string::npos);
}

TEST(DatasetTest, EscapesEverySlash) {
  EXPECT_EQ(EscapeJsonSlashes(R"({"a":"/Date(1)/","b":"http://x/y"})"),
            R"({"a":"\/Date(1)\/","b":"http:\/\/x\/y"})");
}

std::string OneContact(char id) {
  return R"({"xero":{"tenant_id":"t","access_token":"a","contacts":[)" +
         Contact(std::string(1, id), "/Date(1+0000)/") + "]}}";
}

// Rewrites in place (same inode), as an editor or a careless test would.
void Overwrite(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

TEST(DatasetSourceTest, SeesEveryRewriteEvenWithinOneTimestampTick) {
  test_support::TempDir dir;
  const std::string path = dir.File("data.json");
  Overwrite(path, OneContact('a'));
  DatasetSource source(path);
  EXPECT_EQ(source.Current()->xero.contacts.at(0).contact_id, "a");
  // Same size, same inode, microseconds later: only the content tells.
  for (const char id : {'b', 'c', 'd'}) {
    Overwrite(path, OneContact(id));
    EXPECT_EQ(source.Current()->xero.contacts.at(0).contact_id, std::string(1, id));
  }
  const auto before = source.Current();
  EXPECT_EQ(source.Current(), before);  // unchanged content: the same dataset object
}

TEST(DatasetSourceTest, KeepsTheLastGoodDataWhileTheFileIsBrokenOrMissing) {
  test_support::TempDir dir;
  const std::string path = dir.File("data.json");
  test_support::WriteFile(path, OneContact('a'));
  DatasetSource source(path);
  test_support::WriteFile(path, "{\"xero\":");
  EXPECT_EQ(source.Current()->xero.contacts.at(0).contact_id, "a");
  std::remove(path.c_str());
  EXPECT_EQ(source.Current()->xero.contacts.at(0).contact_id, "a");
  test_support::WriteFile(path, OneContact('z'));
  EXPECT_EQ(source.Current()->xero.contacts.at(0).contact_id, "z");
  EXPECT_THROW(DatasetSource(dir.File("missing.json")), DatasetError);
}

}  // namespace
}  // namespace concord::fake
