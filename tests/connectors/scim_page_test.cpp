#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/scim.hpp"

namespace concord::connectors {
namespace {

std::string ListResponse(const std::string& resources, int total = 1, int start = 1) {
  return R"json({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    "totalResults":)json" +
         std::to_string(total) + R"json(,"startIndex":)json" + std::to_string(start) +
         R"json(,"itemsPerPage":1,"Resources":[)json" + resources + "]}";
}

// The one user of a one-user page; fails the test if it was quarantined.
reconcile::PortalUser OnlyUser(const std::string& user) {
  const ScimPage page = ParseScimPage(ListResponse(user));
  EXPECT_TRUE(page.page.quarantined.empty())
      << (page.page.quarantined.empty() ? "" : page.page.quarantined[0].reason);
  EXPECT_EQ(page.page.users.size(), 1u);
  return page.page.users.empty() ? reconcile::PortalUser{} : page.page.users[0];
}

const char* const kMere = R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "b1f0e0d2-6c5e-4f2f-9d2c-8f0a1e2b3c4d",
  "externalId": "portal-88412",
  "userName": "mere.tane@harbourlights.example",
  "name": { "formatted": "Mere Tane", "givenName": "Mere", "familyName": "Tane" },
  "displayName": "Mere T.",
  "active": true,
  "emails": [
    { "value": "mere@home.example", "type": "home" },
    { "value": "Mere.Tane@HarbourLights.example", "type": "work", "primary": true }
  ],
  "meta": { "resourceType": "User", "created": "2024-01-05T18:02:03Z",
            "lastModified": "2024-06-09T23:40:11Z", "version": "W/\"3\"" }
})json";

TEST(ScimPage, MapsUser) {
  const ScimPage page = ParseScimPage(ListResponse(kMere, 342, 101));
  EXPECT_EQ(page.total_results, 342);
  EXPECT_EQ(page.start_index, 101);
  EXPECT_EQ(page.items_per_page, 1);
  EXPECT_EQ(page.resource_count, 1u);
  ASSERT_EQ(page.page.users.size(), 1u);
  const reconcile::PortalUser& user = page.page.users[0];
  EXPECT_EQ(user.source, "scim");
  EXPECT_EQ(user.remote_id, "b1f0e0d2-6c5e-4f2f-9d2c-8f0a1e2b3c4d");
  EXPECT_EQ(user.user_name, "mere.tane@harbourlights.example");
  EXPECT_EQ(user.email, "Mere.Tane@HarbourLights.example");
  EXPECT_EQ(user.given_name, "Mere");
  EXPECT_EQ(user.family_name, "Tane");
  EXPECT_EQ(user.display_name, "Mere T.");
  EXPECT_TRUE(user.active);
  EXPECT_EQ(user.updated_at, 1717976411000);
  EXPECT_NE(user.raw_json.find("portal-88412"), std::string::npos);
  // The ETag: no field of its own in the model; the stored raw JSON keeps it.
  EXPECT_NE(user.raw_json.find(R"("version":"W/\"3\"")"), std::string::npos) << user.raw_json;
}

TEST(ScimPrimaryEmail, PrimaryWins) {
  EXPECT_EQ(OnlyUser(R"json({"id":"1","userName":"u@x.example","emails":[
      {"value":"work@x.example","type":"work"},
      {"value":"primary@x.example","type":"home","primary":true}]})json")
                .email,
            "primary@x.example");
}

TEST(ScimPrimaryEmail, PrimaryAsString) {
  EXPECT_EQ(OnlyUser(R"json({"id":"1","emails":[
      {"value":"work@x.example","type":"work","primary":"False"},
      {"value":"primary@x.example","type":"home","primary":"true"}]})json")
                .email,
            "primary@x.example");
}

TEST(ScimPrimaryEmail, ThenWork) {
  EXPECT_EQ(OnlyUser(R"json({"id":"1","emails":[
      {"value":"home@x.example","type":"home"},
      {"value":"work@x.example","type":"Work","primary":false}]})json")
                .email,
            "work@x.example");
}

TEST(ScimPrimaryEmail, ThenFirst) {
  EXPECT_EQ(OnlyUser(R"json({"id":"1","emails":[
      {"value":"first@x.example","type":"home"},
      {"value":"second@x.example","type":"other"}]})json")
                .email,
            "first@x.example");
}

TEST(ScimPrimaryEmail, EntriesWithoutValueNeverWin) {
  EXPECT_EQ(OnlyUser(R"json({"id":"1","emails":[
      {"type":"work","primary":true},{"value":"","type":"work"},
      {"value":"only@x.example"}]})json")
                .email,
            "only@x.example");
}

TEST(ScimPrimaryEmail, ThenUserNameWithAt) {
  EXPECT_EQ(OnlyUser(R"json({"id":"1","userName":"login@x.example"})json").email,
            "login@x.example");
  EXPECT_EQ(OnlyUser(R"json({"id":"1","userName":"login@x.example","emails":[]})json").email,
            "login@x.example");
  EXPECT_EQ(OnlyUser(R"json({"id":"1","userName":"jdoe"})json").email, "");
}

TEST(ScimGroups, ValueElseDisplayInOrder) {
  const reconcile::PortalUser user = OnlyUser(R"json({"id":"1","groups":[
      {"value":"acct-acme","display":"Acme Ltd","type":"direct",
       "$ref":"https://portal.example/scim/v2/Groups/acct-acme"},
      {"display":"Hosting customers","type":"indirect"},
      {"value":"","display":""},
      {}]})json");
  EXPECT_EQ(user.groups, (std::vector<std::string>{"acct-acme", "Hosting customers"}));
  EXPECT_TRUE(user.entitlements.empty());
  EXPECT_TRUE(OnlyUser(R"json({"id":"1","groups":[]})json").groups.empty());
  EXPECT_TRUE(OnlyUser(R"json({"id":"1","groups":null})json").groups.empty());
  EXPECT_TRUE(OnlyUser(R"json({"id":"1"})json").groups.empty());
}

TEST(ScimEntitlements, EntitlementsThenRoles) {
  const reconcile::PortalUser user = OnlyUser(R"json({"id":"1",
      "entitlements":[{"value":"view_invoices"},{"value":"open_tickets","primary":true}],
      "roles":[{"value":"billing_admin","display":"Billing admin"},{"display":"Support"},
               "owner"]})json");
  EXPECT_EQ(user.entitlements, (std::vector<std::string>{"view_invoices", "open_tickets",
                                                         "billing_admin", "Support", "owner"}));
  EXPECT_TRUE(user.groups.empty());
}

TEST(ScimMapsAll, TheSampleUserHasItsGroupsAndRoles) {
  const std::string mere = std::string(kMere).substr(0, std::string(kMere).rfind('}')) +
                           R"json(, "groups": [{"value": "acct-7", "display": "Harbour Lights"}],
                                  "roles": [{"value": "view_invoices"}] })json";
  const reconcile::PortalUser user = OnlyUser(mere);
  EXPECT_EQ(user.groups, std::vector<std::string>{"acct-7"});
  EXPECT_EQ(user.entitlements, std::vector<std::string>{"view_invoices"});
  EXPECT_EQ(user.email, "Mere.Tane@HarbourLights.example");
}

TEST(ScimActive, BooleansAndStrings) {
  EXPECT_TRUE(OnlyUser(R"json({"id":"1"})json").active) << "absent means active";
  EXPECT_TRUE(OnlyUser(R"json({"id":"1","active":null})json").active);
  EXPECT_TRUE(OnlyUser(R"json({"id":"1","active":true})json").active);
  EXPECT_FALSE(OnlyUser(R"json({"id":"1","active":false})json").active);
  EXPECT_TRUE(OnlyUser(R"json({"id":"1","active":"True"})json").active);
  EXPECT_FALSE(OnlyUser(R"json({"id":"1","active":"false"})json").active);
  EXPECT_FALSE(OnlyUser(R"json({"id":"1","active":"FALSE"})json").active);
}

TEST(ScimPage, LastModifiedWithOffsetAndFraction) {
  EXPECT_EQ(
      OnlyUser(R"json({"id":"1","meta":{"lastModified":"2024-06-09T16:40:11.250-07:00"}})json")
          .updated_at,
      1717976411250);
  EXPECT_EQ(OnlyUser(R"json({"id":"1","meta":{}})json").updated_at, 0);
}

TEST(ScimPage, QuarantinesUsersWithoutIdOrWithWrongTypes) {
  struct Case {
    const char* user;
    const char* remote_id;
    const char* reason_part;
  };
  const Case cases[] = {
      {R"json({"userName":"a@x.example"})json", "", "no id"},
      {R"json({"id":7})json", "", "id is a number"},
      {R"json({"id":""})json", "", "id is empty"},
      {R"json({"id":"u1","active":"maybe"})json", "u1", "active"},
      {R"json({"id":"u2","active":1})json", "u2", "active is a number"},
      {R"json({"id":"u3","name":"Mere"})json", "u3", "name is a string"},
      {R"json({"id":"u4","name":{"givenName":5}})json", "u4", "name.givenName is a number"},
      {R"json({"id":"u5","emails":{"value":"a@x"}})json", "u5", "emails is an object"},
      {R"json({"id":"u6","emails":["a@x.example"]})json", "u6", "emails[0] is a string"},
      {R"json({"id":"u7","emails":[{"value":1}]})json", "u7", "emails[0].value is a number"},
      {R"json({"id":"u8","meta":{"lastModified":"yesterday"}})json", "u8", "meta.lastModified"},
      {R"json({"id":"u9","userName":false})json", "u9", "userName is a boolean"},
      {R"json(null)json", "", "user is null"},
      {R"json({"id":"g1","groups":{"value":"a"}})json", "g1", "groups is an object"},
      {R"json({"id":"g2","groups":[7]})json", "g2", "groups[0] is a number"},
      {R"json({"id":"g3","groups":[{"value":7}]})json", "g3", "groups[0].value is a number"},
      {R"json({"id":"g4","entitlements":"admin"})json", "g4", "entitlements is a string"},
      {R"json({"id":"g5","roles":[{"display":false}]})json", "g5", "roles[0].display"},
  };
  for (const Case& c : cases) {
    const ScimPage page = ParseScimPage(ListResponse(c.user));
    EXPECT_TRUE(page.page.users.empty()) << c.user;
    ASSERT_EQ(page.page.quarantined.size(), 1u) << c.user;
    const reconcile::QuarantinedRecord& record = page.page.quarantined[0];
    EXPECT_EQ(record.side, reconcile::Side::kPortal);
    EXPECT_EQ(record.source, "scim");
    EXPECT_EQ(record.remote_id, c.remote_id) << c.user;
    EXPECT_NE(record.reason.find(c.reason_part), std::string::npos)
        << c.user << " → " << record.reason;
  }
}

TEST(ScimPage, ResourcesMayBeMissingWhenEmpty) {
  const ScimPage page = ParseScimPage(
      R"json({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
              "totalResults":0,"startIndex":1,"itemsPerPage":0})json");
  EXPECT_EQ(page.total_results, 0);
  EXPECT_EQ(page.resource_count, 0u);
  EXPECT_TRUE(page.page.users.empty());
}

TEST(ScimPage, NumbersMayComeAsStrings) {
  const ScimPage page =
      ParseScimPage(R"json({"totalResults":"12","startIndex":"4","Resources":[]})json");
  EXPECT_EQ(page.total_results, 12);
  EXPECT_EQ(page.start_index, 4);
  EXPECT_EQ(page.items_per_page, std::nullopt);
}

TEST(ScimPage, MalformedBodiesThrow) {
  for (const char* body :
       {"", "{", "[]", R"json({"Resources":[]})json", R"json({"totalResults":-1})json",
        R"json({"totalResults":"many"})json", R"json({"totalResults":1,"Resources":{}})json",
        R"json({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401"})json"}) {
    EXPECT_THROW((void)ParseScimPage(body), MalformedPage) << body;
  }
}

TEST(ScimPage, ResourcesMayBeMissingFromAnEmptyPageOfALongerList) {
  const ScimPage page = ParseScimPage(
      R"json({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
              "totalResults":250,"startIndex":251,"itemsPerPage":0})json");
  EXPECT_EQ(page.total_results, 250);
  EXPECT_EQ(page.resource_count, 0u);
}

TEST(ScimPage, ASuccessfulBodyInTheErrorSchemaSaysSo) {
  try {
    (void)ParseScimPage(R"json({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status":"400","scimType":"invalidFilter","detail":"filter not supported"})json");
    FAIL();
  } catch (const MalformedPage& error) {
    EXPECT_EQ(std::string(error.what()),
              "the body is a SCIM Error, not a ListResponse (status '400', scimType "
              "'invalidFilter'): filter not supported");
  }
}

TEST(ScimError, ReadsTheErrorSchema) {
  const auto error = ParseScimError(
      R"json({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409",
              "scimType":"uniqueness","detail":"userName is already in use"})json");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->status, "409");
  EXPECT_EQ(error->scim_type, "uniqueness");
  EXPECT_EQ(error->detail, "userName is already in use");

  const auto numeric = ParseScimError(R"json({"status":403,"detail":"sensitive"})json");
  ASSERT_TRUE(numeric.has_value()) << "status as a number, no schemas";
  EXPECT_EQ(numeric->status, "403");
  EXPECT_EQ(numeric->scim_type, "");

  const auto bare = ParseScimError(
      R"json({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500"})json");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->detail, "");
}

TEST(ScimError, AnythingElseIsNotOne) {
  for (const char* body : {"", "<html>Bad gateway</html>", "[]", R"json({"status":"500"})json",
                           R"json({"totalResults":0})json"}) {
    EXPECT_EQ(ParseScimError(body), std::nullopt) << body;
  }
}

TEST(ScimUrl, BuildsUsersQueryWithEncodedFilter) {
  EXPECT_EQ(ScimUsersUrl("https://portal.example/scim/v2", 1, 100, std::nullopt),
            "https://portal.example/scim/v2/Users?startIndex=1&count=100");
  EXPECT_EQ(ScimUsersUrl("http://127.0.0.1:9/scim/v2/", 201, 100, 1717976411999),
            "http://127.0.0.1:9/scim/v2/Users?startIndex=201&count=100&filter=meta.lastModified"
            "%20gt%20%222024-06-09T23:40:11Z%22");
}

}  // namespace
}  // namespace concord::connectors
