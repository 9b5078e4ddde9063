// The pure parts of the QuickBooks Online connector: the query page parser, the query text and
// URL, the fault reader (both JSON forms and XML), and the sub-customer hierarchy.

#include <gtest/gtest.h>

#include <string>

#include "connectors/qbo.hpp"

namespace concord::connectors {
namespace {

using reconcile::LinkStatus;

std::string Envelope(const std::string& customers) {
  return R"json({"QueryResponse":{"Customer":[)json" + customers +
         R"json(],"startPosition":1,"maxResults":3},"time":"2024-06-10T09:15:02.118-07:00"})json";
}

const char* const kMere = R"json({
  "Id": "58", "SyncToken": "3", "domain": "QBO", "sparse": false,
  "DisplayName": "Tane, Mere", "GivenName": "Mere", "FamilyName": "Tane",
  "CompanyName": "Harbour Lights Ltd",
  "PrimaryEmailAddr": { "Address": "mere.tane@harbourlights.example" },
  "PrimaryPhone": { "FreeFormNumber": "(09) 555-0100" },
  "Active": true, "Job": false, "BillWithParent": false, "Balance": 0,
  "FullyQualifiedName": "Tane, Mere",
  "MetaData": { "CreateTime": "2024-01-05T10:02:03-08:00",
                "LastUpdatedTime": "2024-06-09T16:40:11-07:00" }
})json";

const char* const kJob = R"json({
  "Id": "61", "DisplayName": "Kitchen", "GivenName": "Ari", "FamilyName": "Ngata",
  "PrimaryEmailAddr": { "Address": "ari@harbourlights.example; accounts@harbourlights.example" },
  "Active": false, "Job": true, "BillWithParent": true, "Level": 1,
  "ParentRef": { "value": "58", "name": "Tane, Mere" },
  "FullyQualifiedName": "Tane, Mere:Kitchen",
  "MetaData": { "LastUpdatedTime": "2024-06-09T23:40:12Z" }
})json";

TEST(QboPage, ReadsEnvelopeAndCustomer) {
  const QboPage page = ParseQboPage(Envelope(kMere));
  EXPECT_EQ(page.customer_count, 1u);
  EXPECT_EQ(page.time, 1718036102118);  // 2024-06-10T16:15:02.118Z
  ASSERT_EQ(page.page.persons.size(), 1u);
  EXPECT_TRUE(page.page.quarantined.empty());
  const reconcile::FinancePerson& p = page.page.persons[0];
  EXPECT_EQ(p.source, "qbo");
  EXPECT_EQ(p.remote_id, "58");
  EXPECT_EQ(p.account_id, "58");
  EXPECT_EQ(p.account_name, "Tane, Mere");
  EXPECT_EQ(p.given_name, "Mere");
  EXPECT_EQ(p.family_name, "Tane");
  EXPECT_EQ(p.email, "mere.tane@harbourlights.example");
  EXPECT_EQ(p.email2, "");
  EXPECT_EQ(p.status, LinkStatus::kActive);
  EXPECT_EQ(p.updated_at, 1717976411000);  // 2024-06-09T23:40:11Z
  EXPECT_NE(p.raw_json.find("\"SyncToken\":\"3\""), std::string::npos);
  ASSERT_EQ(page.ancestry.size(), 1u);
  EXPECT_EQ(page.ancestry[0].parent_id, "");
}

TEST(QboPage, SubCustomerIsAPersonOfItsParentAccountAndInactiveIsArchived) {
  const QboPage page = ParseQboPage(Envelope(std::string(kMere) + "," + kJob));
  ASSERT_EQ(page.page.persons.size(), 2u);
  const reconcile::FinancePerson& job = page.page.persons[1];
  EXPECT_EQ(job.remote_id, "61");
  EXPECT_EQ(job.account_id, "58");
  EXPECT_EQ(job.account_name, "Tane, Mere") << "the first part of FullyQualifiedName";
  EXPECT_EQ(job.status, LinkStatus::kArchived);
  // Several addresses stay in the field as written; reconcile splits them (email_key.hpp).
  EXPECT_EQ(job.email, "ari@harbourlights.example; accounts@harbourlights.example");
  EXPECT_EQ(page.ancestry[1].parent_id, "58");
  EXPECT_EQ(page.ancestry[1].level, 1);
}

TEST(QboPage, EmptyPageHasNoCustomerKey) {
  const QboPage page = ParseQboPage(R"({"QueryResponse":{},"time":"2024-06-10T09:15:02-07:00"})");
  EXPECT_EQ(page.customer_count, 0u);
  EXPECT_TRUE(page.page.persons.empty());
  EXPECT_EQ(page.time, 1718036102000);
}

TEST(QboPage, BrokenPagesAreMalformed) {
  EXPECT_THROW((void)ParseQboPage("not json"), MalformedPage);
  EXPECT_THROW((void)ParseQboPage("[]"), MalformedPage);
  EXPECT_THROW((void)ParseQboPage(R"({"time":"2024-06-10T09:15:02-07:00"})"), MalformedPage);
  EXPECT_THROW((void)ParseQboPage(R"({"QueryResponse":[]})"), MalformedPage);
  EXPECT_THROW((void)ParseQboPage(R"({"QueryResponse":{"Customer":{}}})"), MalformedPage);
}

TEST(QboPage, UnreadableCustomersAreQuarantinedWithTheReason) {
  struct Case {
    std::string customer, remote_id, reason;
  };
  const Case cases[] = {
      {R"(42)", "", "customer is a number, expected an object"},
      {R"({"DisplayName":"No Id"})", "", "customer has no Id"},
      {R"({"Id":7})", "", "Id is a number, expected a string"},
      {R"({"Id":""})", "", "Id is empty"},
      {R"({"Id":"1","GivenName":["x"]})", "1", "GivenName is an array, expected a string"},
      {R"({"Id":"2","PrimaryEmailAddr":"a@b.example"})", "2",
       "PrimaryEmailAddr is a string, expected an object"},
      {R"({"Id":"3","PrimaryEmailAddr":{"Address":5}})", "3",
       "PrimaryEmailAddr.Address is a number, expected a string"},
      {R"({"Id":"4","Active":"maybe"})", "4", "Active is a string, expected a boolean"},
      {R"({"Id":"5","MetaData":{"LastUpdatedTime":"yesterday"}})", "5",
       "MetaData.LastUpdatedTime 'yesterday' is not an ISO-8601 date-time"},
      {R"({"Id":"6","ParentRef":{"value":6}})", "6",
       "ParentRef.value is a number, expected a string"},
      {R"({"Id":"7","Level":"deep"})", "7", "Level \"deep\" is not a depth from 0 to 16"},
  };
  for (const Case& c : cases) {
    const QboPage page = ParseQboPage(Envelope(c.customer + "," + kMere));
    EXPECT_EQ(page.customer_count, 2u);
    ASSERT_EQ(page.page.persons.size(), 1u) << c.customer << " does not stop the page";
    ASSERT_EQ(page.page.quarantined.size(), 1u) << c.customer;
    const reconcile::QuarantinedRecord& q = page.page.quarantined[0];
    EXPECT_EQ(q.source, "qbo");
    EXPECT_EQ(q.side, reconcile::Side::kFinance);
    EXPECT_EQ(q.remote_id, c.remote_id) << c.customer;
    EXPECT_EQ(q.reason, c.reason) << c.customer;
    EXPECT_FALSE(q.raw_json.empty());
  }
}

TEST(QboPage, StringBooleansAndAbsentFieldsAreTolerated) {
  const QboPage page = ParseQboPage(Envelope(R"({"Id":"9","Active":"false"},{"Id":"10"})"));
  ASSERT_EQ(page.page.persons.size(), 2u);
  EXPECT_EQ(page.page.persons[0].status, LinkStatus::kArchived);
  EXPECT_EQ(page.page.persons[1].status, LinkStatus::kActive) << "Active absent: active";
  EXPECT_EQ(page.page.persons[1].updated_at, 0);
  EXPECT_EQ(page.page.persons[1].account_name, "");
}

TEST(QboQuery, FullAndIncrementalStatements) {
  EXPECT_EQ(QboCustomerQuery(std::nullopt, 1, 1000),
            "select * from Customer where Active IN (true,false) orderby Id "
            "startposition 1 maxresults 1000");
  EXPECT_EQ(QboCustomerQuery(1717976411999, 3, 2),
            "select * from Customer where Active IN (true,false) and "
            "Metadata.LastUpdatedTime >= '2024-06-09T23:40:11+00:00' orderby Id "
            "startposition 3 maxresults 2");
  EXPECT_EQ(QboCustomersByIdQuery({"5", "o'neil"}),
            "select * from Customer where Active IN (true,false) and Id IN ('5','o\\'neil') "
            "maxresults 2");
}

TEST(QboQuery, UrlEncodesTheStatementAndSendsMinorversion) {
  const std::string url = QboQueryUrl("https://quickbooks.api.intuit.com/", "9130350000000001",
                                      "select * from Customer where Metadata.LastUpdatedTime >= "
                                      "'2024-06-09T23:40:11+00:00' startposition 1",
                                      75);
  EXPECT_EQ(url,
            "https://quickbooks.api.intuit.com/v3/company/9130350000000001/query?query=select%20*"
            "%20from%20Customer%20where%20Metadata.LastUpdatedTime%20%3E=%20'2024-06-09T23:40:11"
            "%2B00:00'%20startposition%201&minorversion=75");
  EXPECT_THROW((void)QboQueryUrl("quickbooks.example", "1", "select", 75), std::invalid_argument);
}

TEST(QboFault, ReadsAllThreeForms) {
  EXPECT_EQ(QboFaultText(R"({"Fault":{"Error":[{"Message":"Stale Object Error",
      "Detail":"Stale Object Error : You and Jo were working on this at the same time",
      "code":"5010","element":""}],"type":"ValidationFault"},"time":"2024-06-10T09:15:02-07:00"})"),
            "Stale Object Error (code 5010): Stale Object Error : You and Jo were working on this "
            "at the same time");
  EXPECT_EQ(QboFaultText(R"({"warnings":null,"intuitObject":null,"fault":{"error":[
      {"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401",
       "detail":"Token expired: 2024","code":"3200","element":null}],"type":"AUTHENTICATION"},
      "report":null,"time":1633520295688,"cdcresponse":[]})"),
            "message=AuthenticationFailed; errorCode=003200; statusCode=401 (code 3200): Token "
            "expired: 2024");
  EXPECT_EQ(QboFaultText(R"(<?xml version="1.0"?><IntuitResponse><Fault type="SERVICE">)"
                         R"(<Error code="3001"><Message>message=ThrottleExceeded; )"
                         R"(errorCode=003001; statusCode=429</Message><Detail>The request )"
                         R"(limit was reached. &amp; Try again later</Detail></Error>)"
                         R"(<Error code="100"><Message>Second</Message></Error></Fault>)"
                         R"(</IntuitResponse>)"),
            "message=ThrottleExceeded; errorCode=003001; statusCode=429 (code 3001): The request "
            "limit was reached. & Try again later; Second (code 100)");
  EXPECT_EQ(QboFaultText(R"({"Fault":{"type":"SystemFault"}})"), "SystemFault");
  EXPECT_EQ(QboFaultText(R"({"QueryResponse":{}})"), std::nullopt);
  EXPECT_EQ(QboFaultText("<html>Bad Gateway</html>"), std::nullopt);
  EXPECT_EQ(QboFaultText(""), std::nullopt);
}

QboAncestry Node(std::string id, std::string parent, int level, std::string name = "") {
  return QboAncestry{std::move(id), std::move(parent), level, std::move(name)};
}

reconcile::FinancePerson PersonOf(const QboAncestry& a) {
  reconcile::FinancePerson p;
  p.remote_id = a.id;
  p.account_id = a.parent_id.empty() ? a.id : a.parent_id;
  return p;
}

TEST(QboHierarchy, LevelOneNeedsNoLookupAndDeeperLevelsWalkUp) {
  QboHierarchy hierarchy;
  const std::vector<QboAncestry> page = {Node("1", "", 0), Node("2", "1", 1), Node("3", "2", 2),
                                         Node("4", "3", 3)};
  for (const auto& n : page) {
    if (!n.parent_id.empty()) hierarchy.Add(n);
  }
  EXPECT_TRUE(hierarchy.Missing(page).empty());
  std::vector<reconcile::FinancePerson> persons;
  for (const auto& n : page) persons.push_back(PersonOf(n));
  hierarchy.Resolve(page, persons);
  for (const auto& p : persons) EXPECT_EQ(p.account_id, "1") << p.remote_id;
}

TEST(QboHierarchy, UnknownAncestorsAreMissingUntilLookedUpOrNotFound) {
  QboHierarchy hierarchy;
  const std::vector<QboAncestry> page = {Node("30", "20", 3), Node("31", "20", 3),
                                         Node("40", "77", 0)};
  EXPECT_EQ(hierarchy.Missing(page), (std::vector<std::string>{"20", "77"}));
  hierarchy.Add(Node("20", "10", 2));
  hierarchy.NotFound("77");
  EXPECT_EQ(hierarchy.Missing(page), (std::vector<std::string>{"10"}));
  hierarchy.Add(Node("10", "5", 1));
  EXPECT_TRUE(hierarchy.Missing(page).empty());
  hierarchy.Add(Node("5", "", 0, "Top Co"));

  std::vector<reconcile::FinancePerson> persons;
  for (const auto& n : page) persons.push_back(PersonOf(n));
  hierarchy.Resolve(page, persons);
  EXPECT_EQ(persons[0].account_id, "5");
  EXPECT_EQ(persons[0].account_name, "Top Co");
  EXPECT_EQ(persons[1].account_id, "5");
  EXPECT_EQ(persons[2].account_id, "77") << "as far up as known";
}

TEST(QboHierarchy, CyclesEnd) {
  QboHierarchy hierarchy;
  hierarchy.Add(Node("a", "b", 2));
  hierarchy.Add(Node("b", "a", 2));
  const std::vector<QboAncestry> page = {Node("a", "b", 2)};
  EXPECT_TRUE(hierarchy.Missing(page).empty());
  std::vector<reconcile::FinancePerson> persons = {PersonOf(page[0])};
  hierarchy.Resolve(page, persons);
  EXPECT_FALSE(persons[0].account_id.empty());
}

}  // namespace
}  // namespace concord::connectors
