#include <gtest/gtest.h>

#include <string>

#include "connectors/xero.hpp"

namespace concord::connectors {
namespace {

using reconcile::LinkStatus;

// Wraps contacts in the list envelope Xero sends when paging (wire-formats §1.2).
std::string Envelope(const std::string& contacts, int page_count = 1) {
  return R"json({"Id":"7d0c2a9e-1111-4c1e-9a55-0f2b7e1d0001","Status":"OK",
    "ProviderName":"concord tests","DateTimeUTC":"\/Date(1718000000123)\/",
    "pagination":{"page":1,"pageSize":100,"pageCount":)json" +
         std::to_string(page_count) + R"json(,"itemCount":3},
    "Contacts":[)json" +
         contacts + "]}";
}

const char* const kHarbourLights = R"json({
  "ContactID": "0b6a3c1e-2f4d-4e8a-9c71-5a2d9e0f1a22",
  "ContactNumber": "PORTAL-000123",
  "ContactStatus": "ACTIVE",
  "Name": "Harbour Lights Ltd",
  "FirstName": "Mere",
  "LastName": "Tane",
  "EmailAddress": "Mere.Tane@HarbourLights.example",
  "ContactPersons": [
    { "FirstName": "Ari", "LastName": "Ngata", "EmailAddress": "ari@harbourlights.example",
      "IncludeInEmails": true },
    { "FirstName": "No", "LastName": "Email", "IncludeInEmails": false },
    { "FirstName": "Mere", "LastName": "Again", "EmailAddress": "MERE.TANE@harbourlights.example" },
    { "FirstName": "Ari", "LastName": "Twice", "EmailAddress": " Ari@HarbourLights.example " },
    { "FirstName": "Bad", "LastName": "Address", "EmailAddress": "not an email" },
    { "FirstName": "Empty", "LastName": "String", "EmailAddress": "" }
  ],
  "Phones": [ { "PhoneType": "DEFAULT", "PhoneNumber": "555-0100" } ],
  "IsCustomer": true,
  "UpdatedDateUTC": "\/Date(1718001234567+0000)\/"
})json";

TEST(XeroPage, ReadsEnvelope) {
  const XeroPage page = ParseXeroPage(Envelope(kHarbourLights, 3));
  EXPECT_EQ(page.contact_count, 1u);
  EXPECT_EQ(page.page_count, 3);
  EXPECT_EQ(page.date_time_utc, 1718000000123);
  EXPECT_TRUE(page.page.quarantined.empty());
}

TEST(XeroPage, MainPersonIsTheContact) {
  const XeroPage page = ParseXeroPage(Envelope(kHarbourLights));
  ASSERT_FALSE(page.page.persons.empty());
  const reconcile::FinancePerson& main = page.page.persons.front();
  EXPECT_EQ(main.source, "xero");
  EXPECT_EQ(main.remote_id, "0b6a3c1e-2f4d-4e8a-9c71-5a2d9e0f1a22");
  EXPECT_EQ(main.account_id, "0b6a3c1e-2f4d-4e8a-9c71-5a2d9e0f1a22");
  EXPECT_EQ(main.account_name, "Harbour Lights Ltd");
  EXPECT_EQ(main.given_name, "Mere");
  EXPECT_EQ(main.family_name, "Tane");
  EXPECT_EQ(main.email, "Mere.Tane@HarbourLights.example");  // raw, as delivered
  EXPECT_EQ(main.email2, "");
  EXPECT_EQ(main.status, LinkStatus::kActive);
  EXPECT_EQ(main.updated_at, 1718001234567);
  EXPECT_NE(main.raw_json.find("PORTAL-000123"), std::string::npos);
}

TEST(XeroPage, ContactPersonsRemoteIds) {
  const XeroPage page = ParseXeroPage(Envelope(kHarbourLights));
  ASSERT_EQ(page.page.persons.size(), 7u);
  const std::string id = "0b6a3c1e-2f4d-4e8a-9c71-5a2d9e0f1a22";
  // A valid, unused email: keyed by its exact email key.
  EXPECT_EQ(page.page.persons[1].remote_id, id + "/persons/ari@harbourlights.example");
  EXPECT_EQ(page.page.persons[1].given_name, "Ari");
  EXPECT_EQ(page.page.persons[1].email, "ari@harbourlights.example");
  // No email: by index within ContactPersons (from 0).
  EXPECT_EQ(page.page.persons[2].remote_id, id + "/persons/#1");
  // The main person's key counts as used.
  EXPECT_EQ(page.page.persons[3].remote_id, id + "/persons/#2");
  // A key an earlier entry already took.
  EXPECT_EQ(page.page.persons[4].remote_id, id + "/persons/#3");
  // Invalid and empty emails.
  EXPECT_EQ(page.page.persons[5].remote_id, id + "/persons/#4");
  EXPECT_EQ(page.page.persons[6].remote_id, id + "/persons/#5");
  for (std::size_t i = 1; i < page.page.persons.size(); ++i) {
    const reconcile::FinancePerson& person = page.page.persons[i];
    EXPECT_EQ(person.source, "xero");
    EXPECT_EQ(person.account_id, id);
    EXPECT_EQ(person.account_name, "Harbour Lights Ltd");
    EXPECT_EQ(person.status, LinkStatus::kActive);
    EXPECT_EQ(person.updated_at, 1718001234567);
    EXPECT_EQ(person.raw_json.find("PORTAL-000123"), std::string::npos) << "entry JSON only";
  }
}

TEST(XeroPage, ContactStatusMapping) {
  const XeroPage page = ParseXeroPage(Envelope(R"json(
    {"ContactID":"a","ContactStatus":"ACTIVE","Name":"A"},
    {"ContactID":"b","ContactStatus":"ARCHIVED","Name":"B",
     "ContactPersons":[{"FirstName":"P","EmailAddress":"p@b.example"}]},
    {"ContactID":"c","ContactStatus":"GDPRREQUEST","Name":"C"},
    {"ContactID":"d","Name":"D"})json"));
  ASSERT_EQ(page.page.persons.size(), 5u);
  EXPECT_EQ(page.page.persons[0].status, LinkStatus::kActive);
  EXPECT_EQ(page.page.persons[1].status, LinkStatus::kArchived);
  EXPECT_EQ(page.page.persons[2].remote_id, "b/persons/p@b.example");
  EXPECT_EQ(page.page.persons[2].status, LinkStatus::kArchived) << "entries share the contact's";
  EXPECT_EQ(page.page.persons[3].status, LinkStatus::kErased);
  EXPECT_EQ(page.page.persons[4].status, LinkStatus::kActive) << "absent status";
  EXPECT_EQ(page.page.persons[4].updated_at, 0) << "absent UpdatedDateUTC";
}

TEST(XeroPage, QuarantinesContactWithoutContactId) {
  const XeroPage page = ParseXeroPage(Envelope(R"json(
    {"Name":"No Id","EmailAddress":"x@example.com"},
    {"ContactID":"ok","Name":"Fine"})json"));
  EXPECT_EQ(page.contact_count, 2u);
  ASSERT_EQ(page.page.persons.size(), 1u);
  EXPECT_EQ(page.page.persons[0].remote_id, "ok");
  ASSERT_EQ(page.page.quarantined.size(), 1u);
  const reconcile::QuarantinedRecord& record = page.page.quarantined[0];
  EXPECT_EQ(record.side, reconcile::Side::kFinance);
  EXPECT_EQ(record.source, "xero");
  EXPECT_EQ(record.remote_id, "");
  EXPECT_NE(record.reason.find("ContactID"), std::string::npos) << record.reason;
  EXPECT_NE(record.raw_json.find("No Id"), std::string::npos);
}

TEST(XeroPage, QuarantinesWrongTypesWithReasons) {
  struct Case {
    const char* contact;
    const char* remote_id;
    const char* reason_part;
  };
  const Case cases[] = {
      {R"json({"ContactID":42,"Name":"N"})json", "", "ContactID is a number"},
      {R"json({"ContactID":"","Name":"N"})json", "", "ContactID is empty"},
      {R"json({"ContactID":"x1","FirstName":7})json", "x1", "FirstName is a number"},
      {R"json({"ContactID":"x2","EmailAddress":["a@b.c"]})json", "x2", "EmailAddress is an array"},
      {R"json({"ContactID":"x3","ContactStatus":"DELETED"})json", "x3", "ContactStatus 'DELETED'"},
      {R"json({"ContactID":"x4","UpdatedDateUTC":"2024-06-01"})json", "x4", "UpdatedDateUTC"},
      {R"json({"ContactID":"x5","UpdatedDateUTC":17})json", "x5", "UpdatedDateUTC is a number"},
      {R"json({"ContactID":"x6","ContactPersons":{}})json", "x6", "ContactPersons is an object"},
      {R"json("just a string")json", "", "contact is a string"},
  };
  for (const Case& c : cases) {
    const XeroPage page = ParseXeroPage(Envelope(c.contact));
    EXPECT_TRUE(page.page.persons.empty()) << c.contact;
    ASSERT_EQ(page.page.quarantined.size(), 1u) << c.contact;
    EXPECT_EQ(page.page.quarantined[0].remote_id, c.remote_id) << c.contact;
    EXPECT_NE(page.page.quarantined[0].reason.find(c.reason_part), std::string::npos)
        << c.contact << " → " << page.page.quarantined[0].reason;
  }
}

TEST(XeroPage, QuarantinesOnlyTheBadContactPersonsEntry) {
  const XeroPage page = ParseXeroPage(Envelope(R"json(
    {"ContactID":"c1","Name":"N","EmailAddress":"main@n.example",
     "ContactPersons":[{"FirstName":1},"text",{"FirstName":"Ok","EmailAddress":"ok@n.example"}]})json"));
  ASSERT_EQ(page.page.persons.size(), 2u);
  EXPECT_EQ(page.page.persons[1].remote_id, "c1/persons/ok@n.example");
  ASSERT_EQ(page.page.quarantined.size(), 2u);
  EXPECT_EQ(page.page.quarantined[0].remote_id, "c1/persons/#0");
  EXPECT_NE(page.page.quarantined[0].reason.find("ContactPersons[0].FirstName"), std::string::npos);
  EXPECT_EQ(page.page.quarantined[1].remote_id, "c1/persons/#1");
}

TEST(XeroPage, NullMembersReadAsEmpty) {
  const XeroPage page = ParseXeroPage(Envelope(
      R"json({"ContactID":"n","Name":null,"FirstName":null,"EmailAddress":null,
              "ContactPersons":null,"UpdatedDateUTC":null})json"));
  ASSERT_EQ(page.page.persons.size(), 1u);
  EXPECT_TRUE(page.page.quarantined.empty());
  EXPECT_EQ(page.page.persons[0].email, "");
}

TEST(XeroPage, EmptyPageAndMissingPagination) {
  const XeroPage page = ParseXeroPage(R"json({"Status":"OK","Contacts":[]})json");
  EXPECT_EQ(page.contact_count, 0u);
  EXPECT_EQ(page.page_count, std::nullopt);
  EXPECT_EQ(page.date_time_utc, std::nullopt);
}

TEST(XeroPage, MalformedBodiesThrow) {
  for (const char* body : {"", "not json", "[]", R"json({"Contacts":{}})json",
                           R"json({"Status":"OK"})json", R"json({"Contacts":[)json"}) {
    EXPECT_THROW((void)ParseXeroPage(body), MalformedPage) << body;
  }
}

TEST(XeroUrl, BuildsContactsQuery) {
  EXPECT_EQ(XeroContactsUrl("https://api.xero.com/api.xro/2.0", 3, 100),
            "https://api.xero.com/api.xro/2.0/Contacts?page=3&pageSize=100&includeArchived=true");
  EXPECT_EQ(XeroContactsUrl("http://127.0.0.1:8080/api.xro/2.0/", 1, 2),
            "http://127.0.0.1:8080/api.xro/2.0/Contacts?page=1&pageSize=2&includeArchived=true");
  EXPECT_THROW((void)XeroContactsUrl("ftp://example.com", 1, 2), std::invalid_argument);
  EXPECT_THROW((void)XeroContactsUrl("not a url", 1, 2), std::invalid_argument);
}

}  // namespace
}  // namespace concord::connectors
