// The pure parts of the MYOB connector: the Customer page parser (persons from Addresses[],
// quarantine), the first-page URL and the {"Errors":[...]} reader.

#include <gtest/gtest.h>

#include <string>

#include "connectors/myob.hpp"

namespace concord::connectors {
namespace {

using reconcile::LinkStatus;

std::string Envelope(const std::string& items, const std::string& next = "null",
                     const std::string& count = "1") {
  return R"json({"Items":[)json" + items + R"json(],"NextPageLink":)json" + next +
         R"json(,"Count":)json" + count + "}";
}

// wire-formats §3.3's example: an individual whose one address names her by first name.
const char* const kMere = R"json({
  "UID": "3a9f1c64-6f0e-4b0e-8d0e-2f7f5a3b9c10", "DisplayID": "CUS000123",
  "CompanyName": null, "FirstName": "Mere", "LastName": "Tane",
  "IsIndividual": true, "IsActive": true,
  "Addresses": [
    { "Location": 1, "Street": "12 Quay St", "City": "Auckland", "State": "", "PostCode": "1010",
      "Country": "New Zealand", "Phone1": "09 555 0100", "Phone2": null, "Phone3": null,
      "Fax": null, "Email": "mere.tane@harbourlights.example", "Website": null,
      "ContactName": "Mere", "Salutation": "Ms" }
  ],
  "Notes": "", "CurrentBalance": 0, "LastModified": "2024-06-09T23:40:11.217",
  "URI": "https://arl2.api.myob.com/accountright/8f1/Contact/Customer/3a9f1c64",
  "RowVersion": "7305512281843466240"
})json";

// A company with people at three of its addresses, the same person twice, and an address
// that names no one.
const char* const kHarbour = R"json({
  "UID": "c-harbour", "CompanyName": "Harbour Lights Ltd", "LastName": "Harbour Lights Ltd",
  "IsIndividual": false, "IsActive": false, "LastModified": "2024-06-09T23:40:12",
  "Addresses": [
    { "Location": 2, "ContactName": "Ari Te Ngata", "Email": "Ari@HarbourLights.example" },
    { "Location": 1, "ContactName": "Accounts", "Email": "accounts@harbourlights.example" },
    { "Location": 3, "Street": "1 Wharf Rd", "ContactName": null, "Email": null },
    { "Location": 4, "ContactName": "Ari", "Email": "ari@harbourlights.example" },
    { "Location": 5, "ContactName": "Sam Reception", "Email": "" }
  ]
})json";

TEST(MyobPage, ReadsEnvelopeAndAnIndividualCustomer) {
  const MyobPage page = ParseMyobPage(Envelope(kMere, R"("https://x.example/next")", "1234"));
  EXPECT_EQ(page.customer_count, 1u);
  EXPECT_EQ(page.next_page_link, "https://x.example/next");
  EXPECT_EQ(page.count, 1234);
  ASSERT_EQ(page.page.persons.size(), 1u);
  EXPECT_TRUE(page.page.quarantined.empty());
  const reconcile::FinancePerson& p = page.page.persons[0];
  EXPECT_EQ(p.source, "myob");
  EXPECT_EQ(p.remote_id, "3a9f1c64-6f0e-4b0e-8d0e-2f7f5a3b9c10");
  EXPECT_EQ(p.account_id, "3a9f1c64-6f0e-4b0e-8d0e-2f7f5a3b9c10");
  EXPECT_EQ(p.account_name, "Mere Tane");
  EXPECT_EQ(p.given_name, "Mere");  // ContactName "Mere" is her own first name
  EXPECT_EQ(p.family_name, "Tane");
  EXPECT_EQ(p.email, "mere.tane@harbourlights.example");
  EXPECT_EQ(p.status, LinkStatus::kActive);
  EXPECT_EQ(p.updated_at, 1717976411217);  // 2024-06-09T23:40:11.217Z: no zone reads as UTC
  EXPECT_NE(p.raw_json.find("\"RowVersion\":\"7305512281843466240\""), std::string::npos);
}

TEST(MyobPage, OnePersonPerNamedAddressInLocationOrder) {
  const MyobPage page = ParseMyobPage(Envelope(kHarbour));
  EXPECT_TRUE(page.page.quarantined.empty());
  ASSERT_EQ(page.page.persons.size(), 3u);
  const auto& accounts = page.page.persons[0];  // Location 1 is the primary person
  EXPECT_EQ(accounts.remote_id, "c-harbour");
  EXPECT_EQ(accounts.given_name, "Accounts");
  EXPECT_EQ(accounts.family_name, "");
  EXPECT_EQ(accounts.email, "accounts@harbourlights.example");
  const auto& ari = page.page.persons[1];
  EXPECT_EQ(ari.remote_id, "c-harbour/persons/ari@harbourlights.example");
  EXPECT_EQ(ari.given_name, "Ari");
  EXPECT_EQ(ari.family_name, "Te Ngata");
  EXPECT_EQ(ari.email, "Ari@HarbourLights.example");       // raw; reconcile keys it
  EXPECT_EQ(ari.raw_json.find("UID"), std::string::npos);  // the address, not the customer
  const auto& sam = page.page.persons[2];
  EXPECT_EQ(sam.remote_id, "c-harbour/persons/#5");
  EXPECT_EQ(sam.given_name, "Sam");
  EXPECT_EQ(sam.email, "");
  for (const auto& p : page.page.persons) {
    EXPECT_EQ(p.account_id, "c-harbour");
    EXPECT_EQ(p.account_name, "Harbour Lights Ltd");
    EXPECT_EQ(p.status, LinkStatus::kArchived);  // IsActive false
    EXPECT_EQ(p.updated_at, 1717976412000);
  }
}

TEST(MyobPage, ACustomerWithoutNamedAddressesIsStillOnePerson) {
  const MyobPage page = ParseMyobPage(
      Envelope(R"({"UID":"u1","FirstName":"Lee","LastName":"Ann","IsIndividual":true,)"
               R"("Addresses":[{"Location":1,"Street":"x"}]},)"
               R"({"UID":"u2","CompanyName":"Acme","IsActive":"false"})",
               "null", "2"));
  ASSERT_EQ(page.page.persons.size(), 2u);
  EXPECT_EQ(page.page.persons[0].remote_id, "u1");
  EXPECT_EQ(page.page.persons[0].given_name, "Lee");
  EXPECT_EQ(page.page.persons[0].family_name, "Ann");
  EXPECT_EQ(page.page.persons[0].email, "");
  EXPECT_EQ(page.page.persons[0].status, LinkStatus::kActive);  // absent IsActive
  EXPECT_EQ(page.page.persons[1].remote_id, "u2");
  EXPECT_EQ(page.page.persons[1].account_name, "Acme");
  EXPECT_EQ(page.page.persons[1].status, LinkStatus::kArchived);
}

TEST(MyobPage, AnInvalidEmailIsKeptForReview) {
  // Not quarantined: reconcile opens an invalid_email review item for it.
  const MyobPage page = ParseMyobPage(
      Envelope(R"({"UID":"u1","Addresses":[{"Location":1,"ContactName":"Bo Li",)"
               R"("Email":"bo li@example.com"},{"Location":2,"Email":"bo li@example.com"}]})"));
  ASSERT_EQ(page.page.persons.size(), 1u);
  EXPECT_EQ(page.page.persons[0].email, "bo li@example.com");
  EXPECT_TRUE(page.page.quarantined.empty());
}

TEST(MyobPage, QuarantinesUnreadableCustomersAndAddresses) {
  const MyobPage page = ParseMyobPage(
      Envelope(R"("text",{"CompanyName":"no uid"},{"UID":7},{"UID":""},)"
               R"({"UID":"u-time","LastModified":"yesterday"},)"
               R"({"UID":"u-active","IsActive":1},)"
               R"({"UID":"u-addresses","Addresses":{}},)"
               R"({"UID":"u-ok","Addresses":[3,{"Location":9,"Email":"a@b.example"},)"
               R"({"Location":1,"Email":["a@b.example"]},{"Location":2,"ContactName":"Kim"},)"
               R"({"Location":3,"ContactName":"Jo"},{"Location":3,"ContactName":"Al"}]})",
               "null", "8"));
  EXPECT_EQ(page.customer_count, 8u);
  ASSERT_EQ(page.page.persons.size(), 2u);
  EXPECT_EQ(page.page.persons[0].remote_id, "u-ok");
  EXPECT_EQ(page.page.persons[0].given_name, "Kim");
  EXPECT_EQ(page.page.persons[1].remote_id, "u-ok/persons/#3");
  std::vector<std::string> reasons;
  for (const auto& q : page.page.quarantined) {
    EXPECT_EQ(q.source, "myob");
    EXPECT_EQ(q.side, reconcile::Side::kFinance);
    EXPECT_FALSE(q.raw_json.empty());
    reasons.push_back(q.remote_id + ": " + q.reason);
  }
  EXPECT_EQ(reasons,
            (std::vector<std::string>{
                ": customer is a string, expected an object",
                ": customer has no UID",
                ": UID is a number, expected a string",
                ": UID is empty",
                "u-time: LastModified 'yesterday' is not an ISO-8601 date-time",
                "u-active: IsActive is a number, expected a boolean",
                "u-addresses: Addresses is an object, expected an array",
                "u-ok/addresses/#0: Addresses[0] is a number, expected an object",
                "u-ok/addresses/#1: Addresses[1].Location 9 is not a location from 1 to 5",
                "u-ok/addresses/#2: Addresses[2].Email is an array, expected a string",
                "u-ok/persons/#3: Location 3 is used by an earlier address of the customer",
            }));
}

TEST(MyobPage, MalformedPages) {
  for (const char* body : {"", "[]", "{}", R"({"Items":{}})", R"({"Items":[],"NextPageLink":3})",
                           R"({"Items":[],"Count":"many"})", R"({"Items":[],"Count":1.5})",
                           R"({"Errors":[{"Name":"InternalError"}]})"}) {
    EXPECT_THROW((void)ParseMyobPage(body), MalformedPage) << body;
  }
  const MyobPage empty = ParseMyobPage(R"({"Items":[],"NextPageLink":null,"Count":0})");
  EXPECT_EQ(empty.customer_count, 0u);
  EXPECT_EQ(empty.next_page_link, "");
  EXPECT_EQ(empty.count, 0);
}

TEST(MyobCustomersUrl, TopAndTheLastModifiedFilter) {
  EXPECT_EQ(MyobCustomersUrl("https://arl2.api.myob.com/accountright/cf-1/", std::nullopt, 400),
            "https://arl2.api.myob.com/accountright/cf-1/Contact/Customer?$top=400");
  EXPECT_EQ(MyobCustomersUrl("http://127.0.0.1:9/accountright/cf-1", 1717976411999, 1000),
            "http://127.0.0.1:9/accountright/cf-1/Contact/Customer?$top=1000&"
            "$filter=LastModified%20gt%20datetime'2024-06-09T23:40:11'");
  EXPECT_THROW((void)MyobCustomersUrl("arl2.api.myob.com", std::nullopt, 1), std::invalid_argument);
}

TEST(MyobErrorText, NamesEveryError) {
  EXPECT_EQ(MyobErrorText(R"({"Errors":[{"Name":"CustomerNotFound","Message":"The Customer )"
                          R"(cannot be found.","AdditionalDetails":"Customer.UID",)"
                          R"("ErrorCode":11003,"Severity":"Error","LearnMore":null},)"
                          R"({"Name":"RateLimitError","AdditionalDetails":null}],)"
                          R"("Information":"Warning"})"),
            "CustomerNotFound (ErrorCode 11003): The Customer cannot be found. [Customer.UID]; "
            "RateLimitError");
  EXPECT_EQ(MyobErrorText(R"({"Errors":[]})"), "Errors (none described)");
  EXPECT_EQ(MyobErrorText(R"({"Items":[]})"), std::nullopt);
  EXPECT_EQ(MyobErrorText("<html>"), std::nullopt);
}

TEST(IsMyobRateLimit, A403Or429NamedRateLimitError) {
  const std::string body = R"({"Errors":[{"Name":"RateLimitError","ErrorCode":429}]})";
  EXPECT_TRUE(IsMyobRateLimit({403, "Forbidden", {}, body}));
  EXPECT_TRUE(IsMyobRateLimit({429, "Too Many Requests", {}, body}));
  EXPECT_FALSE(IsMyobRateLimit({401, "Unauthorized", {}, body}));
  EXPECT_FALSE(
      IsMyobRateLimit({403, "Forbidden", {}, R"({"Errors":[{"Name":"DeveloperInactive"}]})"}));
  EXPECT_FALSE(IsMyobRateLimit({403, "Forbidden", {}, "forbidden"}));
}

}  // namespace
}  // namespace concord::connectors
