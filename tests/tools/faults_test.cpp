// concord-fake's fault injection, the pure parts (tools/concord-fake/faults.hpp): reading a
// fault, which requests a plan hands a fault to, the admin endpoint, and the answers status
// and body faults give. Delay, reset and truncation are acted out by the server: see
// concord_fake_test and tests/e2e/fault_e2e_test.

#include "tools/concord-fake/faults.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr reconcile::Millis kNow = 1767225600123;

HttpRequest Request(http::verb verb, std::string target, std::string body = "") {
  HttpRequest req{verb, target, 11};
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

std::string ErrorOf(std::string_view text) {
  try {
    (void)ParseFaults(text);
  } catch (const FaultError& error) {
    return error.what();
  }
  return "";
}

TEST(Faults, ParsesEveryFieldWithDefaults) {
  const std::vector<Fault> faults = ParseFaults(
      R"([{"fault":"reset"},
          {"server":"xero","path":"/api.xro","fault":"status","status":429,"retry_after":2,
           "rate_limit_problem":"day","count":-1,"after":3},
          {"server":"scim","fault":"slow","delay_ms":1500}])");
  ASSERT_EQ(faults.size(), 3u);
  EXPECT_EQ(faults[0].server, "*");
  EXPECT_EQ(faults[0].path, "");
  EXPECT_EQ(faults[0].kind, FaultKind::kReset);
  EXPECT_EQ(faults[0].count, 1);
  EXPECT_EQ(faults[0].after, 0);
  EXPECT_EQ(faults[1].kind, FaultKind::kStatus);
  EXPECT_EQ(faults[1].status, 429u);
  EXPECT_EQ(faults[1].retry_after, 2);
  EXPECT_EQ(faults[1].rate_limit_problem, "day");
  EXPECT_EQ(faults[1].count, -1);
  EXPECT_EQ(faults[1].after, 3);
  EXPECT_EQ(faults[2].delay_ms, 1500);
}

TEST(Faults, BadFaultsNameTheField) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"fault":"explode"})", "'fault'"},
      {R"({"fault":"status"})", "'status'"},
      {R"({"fault":"status","status":200})", "'status'"},
      {R"({"fault":"reset","status":500})", "'status'"},
      {R"({"fault":"slow"})", "'delay_ms'"},
      {R"({"fault":"reset","retry_after":1})", "'retry_after'"},
      {R"({"fault":"reset","count":0})", "'count'"},
      {R"({"fault":"reset","after":-1})", "'after'"},
      {R"({"fault":"reset","server":"sage"})", "'server'"},
      {R"({"fault":"reset","colour":"red"})", "'colour'"},
      {R"(["reset"])", "JSON object"},
      {R"({"fault":)", "must be JSON"},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_NE(ErrorOf(text).find(expected), std::string::npos)
        << text << " -> " << ErrorOf(text) << "\nshould name " << expected;
  }
}

TEST(Faults, APlanFiresAfterCountAndOnlyWhereItMatches) {
  FaultPlan plan;
  plan.Add(
      ParseFaults(R"({"server":"qbo","path":"/v3/","fault":"reset","count":2,"after":1})").front());
  EXPECT_FALSE(plan.Take("qbo", "/v3/company/1/query?x")) << "the first is let through";
  EXPECT_FALSE(plan.Take("xero", "/v3/company/1/query?x")) << "another server";
  EXPECT_FALSE(plan.Take("qbo", "/other")) << "another path";
  EXPECT_TRUE(plan.Take("qbo", "/v3/company/1/query?y"));
  EXPECT_TRUE(plan.Take("qbo", "/v3/company/1/query?z"));
  EXPECT_FALSE(plan.Take("qbo", "/v3/company/1/query?w")) << "count spent";

  const json::array described = plan.Describe();
  ASSERT_EQ(described.size(), 1u);
  EXPECT_EQ(described[0].at("seen"), 4);
  EXPECT_EQ(described[0].at("fired"), 2);

  plan.Clear();
  plan.Add(ParseFaults(R"({"fault":"truncate","count":-1})").front());
  plan.Add(ParseFaults(R"({"fault":"reset"})").front());
  for (int i = 0; i < 3; ++i) {
    const auto fault = plan.Take("scim", "/scim/v2/Users");
    ASSERT_TRUE(fault);
    EXPECT_EQ(fault->kind, FaultKind::kTruncate) << "the first due fault wins, for ever";
  }
}

TEST(Faults, TheAdminEndpointArmsListsAndClears) {
  FaultPlan plan;
  HttpResponse res = HandleFaultAdmin(
      Request(http::verb::post, "/_fake/faults", R"({"fault":"status","status":503})"), plan, kNow);
  EXPECT_EQ(res.result_int(), 201u);
  EXPECT_EQ(json::parse(res.body()).at("faults").as_array().size(), 1u);

  res = HandleFaultAdmin(Request(http::verb::post, "/_fake/faults", R"({"fault":"nope"})"), plan,
                         kNow);
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("'fault'"), std::string::npos) << res.body();

  res = HandleFaultAdmin(Request(http::verb::get, "/_fake/faults"), plan, kNow);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(json::parse(res.body()).at("faults").as_array().size(), 1u);

  res = HandleFaultAdmin(Request(http::verb::delete_, "/_fake/faults"), plan, kNow);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_TRUE(plan.Describe().empty());

  res = HandleFaultAdmin(Request(http::verb::put, "/_fake/faults"), plan, kNow);
  EXPECT_EQ(res.result_int(), 405u);
}

TEST(Faults, StatusFaultsSpeakEachVendorsDialect) {
  const HttpRequest req = Request(http::verb::get, "/x");
  Fault limited = ParseFaults(R"({"fault":"status","status":429,"retry_after":2})").front();

  HttpResponse xero = StatusFaultResponse("xero", req, limited, kNow);
  EXPECT_EQ(xero.result_int(), 429u);
  EXPECT_EQ(xero[http::field::retry_after], "2");
  EXPECT_EQ(xero["X-Rate-Limit-Problem"], "minute");
  EXPECT_EQ(json::parse(xero.body()).at("Status"), 429);

  HttpResponse qbo = StatusFaultResponse("qbo", req, limited, kNow);
  EXPECT_EQ(json::parse(qbo.body()).at("Fault").at("Error").at(0).at("code"), "3001");

  Fault forbidden = ParseFaults(R"({"fault":"status","status":403})").front();
  HttpResponse myob = StatusFaultResponse("myob", req, forbidden, kNow);
  EXPECT_EQ(json::parse(myob.body()).at("Errors").at(0).at("Name"), "RateLimitError");
  EXPECT_EQ(myob.find(http::field::retry_after), myob.end()) << "only when the fault sets one";

  Fault unavailable = ParseFaults(R"({"fault":"status","status":503})").front();
  HttpResponse scim = StatusFaultResponse("scim", req, unavailable, kNow);
  EXPECT_EQ(scim[http::field::content_type], "application/scim+json");
  EXPECT_EQ(json::parse(scim.body()).at("status"), "503");
}

TEST(Faults, BodyFaultsKeepTheFramingButNotTheJson) {
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = R"({"Contacts":[{"ContactID":"c-1"}]})";
  res.prepare_payload();

  HttpResponse malformed = res;
  CorruptBody(ParseFaults(R"({"fault":"malformed_json"})").front(), malformed);
  EXPECT_EQ(malformed.result_int(), 200u);
  EXPECT_EQ(malformed.body(), res.body().substr(0, res.body().size() / 2));
  EXPECT_EQ(malformed[http::field::content_length], std::to_string(malformed.body().size()));
  boost::system::error_code error;
  (void)json::parse(malformed.body(), error);
  EXPECT_TRUE(error);

  HttpResponse xml = res;
  CorruptBody(ParseFaults(R"({"fault":"xml_body"})").front(), xml);
  EXPECT_EQ(xml.result_int(), 200u);
  EXPECT_EQ(xml[http::field::content_type], "application/xml");
  EXPECT_TRUE(xml.body().starts_with("<?xml"));

  HttpResponse untouched = res;
  CorruptBody(ParseFaults(R"({"fault":"reset"})").front(), untouched);
  EXPECT_EQ(untouched.body(), res.body());
}

TEST(Faults, AChangeInsertsARecordAtTheFrontOfThatServerOnly) {
  const auto data = std::make_shared<const Dataset>(ParseDataset(R"({
      "xero":{"tenant_id":"t","access_token":"a","contacts":[
        {"ContactID":"c-2","UpdatedDateUTC":"/Date(2000+0000)/","EmailAddress":"b@x.example"},
        {"ContactID":"c-1","UpdatedDateUTC":"/Date(1000+0000)/","EmailAddress":"a@x.example",
         "ContactStatus":"ARCHIVED"}]},
      "qbo":{"realm_id":"1","access_token":"a","customers":[
        {"Id":"7","MetaData":{"LastUpdatedTime":"2024-06-01T00:00:00-07:00"},
         "PrimaryEmailAddr":{"Address":"q@x.example"}}]},
      "myob":{"company_file_id":"cf","api_key":"k","access_token":"a","customers":[
        {"UID":"m-1","LastModified":"2024-06-01T00:00:00"}]},
      "scim":{"token":"a","users":[
        {"id":"u-1","userName":"u@x.example","meta":{"lastModified":"2024-06-01T00:00:00Z"}}]}})"));
  FaultPlan plan;
  EXPECT_EQ(plan.Data("xero", data), data) << "nothing changed yet";
  plan.MarkChanged("xero");
  const auto changed = plan.Data("xero", data);
  ASSERT_EQ(changed->xero.contacts.size(), 3u);
  const XeroContact& inserted = changed->xero.contacts.front();
  EXPECT_EQ(inserted.contact_id, "00000000-fa17-4000-8000-000000000000");
  EXPECT_EQ(inserted.updated_ms, 1000) << "the first contact's time, so it sorts first";
  EXPECT_TRUE(inserted.archived);
  EXPECT_NE(inserted.json.find("inserted@concord-fake.invalid"), std::string::npos);
  EXPECT_EQ(inserted.json.find("a@x.example"), std::string::npos);
  EXPECT_EQ(changed->xero.active_before, (std::vector<std::uint32_t>{0, 0, 0, 1}));
  EXPECT_EQ(plan.Data("xero", data), changed) << "made once per version of the data";
  EXPECT_EQ(plan.Data("qbo", data), data) << "another server";

  EXPECT_EQ(WithRecordInserted(*data, "qbo").qbo.customers.front().id, "0");
  EXPECT_EQ(WithRecordInserted(*data, "myob").myob.customers.front().uid,
            "00000000-fa17-4000-8000-000000000000");
  EXPECT_EQ(WithRecordInserted(*data, "scim").scim.users.size(), 2u);

  plan.Clear();
  EXPECT_EQ(plan.Data("xero", data), data) << "cleared with the faults";
}

}  // namespace
}  // namespace concord::fake
