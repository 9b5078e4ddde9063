#include "tools/concord-fake/qbo_api.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <cstdio>

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

QboCompany Company() {
  // Ids out of order on purpose: the fake orders by Id, numerically.
  return ParseDataset(R"({"qbo":{"realm_id":"9130","access_token":"tok","customers":[
      {"Id":"10","DisplayName":"Ten Ltd","GivenName":"Tia","Active":true,
       "MetaData":{"CreateTime":"2024-01-01T00:00:00-08:00","LastUpdatedTime":"2024-06-01T00:00:00-07:00"}},
      {"Id":"9","DisplayName":"Nine Ltd","Active":false,
       "MetaData":{"LastUpdatedTime":"2024-06-02T00:00:00-07:00"}},
      {"Id":"2","DisplayName":"Two Ltd","GivenName":"Tama","Active":true,
       "MetaData":{"LastUpdatedTime":"2024-06-03T00:00:00Z"}},
      {"Id":"11","DisplayName":"Two Ltd:Kitchen","Job":true,"ParentRef":{"value":"2"},
       "MetaData":{"LastUpdatedTime":"2024-05-01T00:00:00Z"}}
    ]}})")
      .qbo;
}

QboRequestContext Context() {
  QboRequestContext ctx;
  ctx.now_ms = 1767225600123;  // 2026-01-01T00:00:00.123Z
  ctx.intuit_tid = "1-tid";
  return ctx;
}

std::string Encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_') {
      out.push_back(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", static_cast<unsigned char>(c));
      out += buffer;
    }
  }
  return out;
}

HttpRequest Query(std::string_view statement, std::string_view realm = "9130") {
  HttpRequest req{http::verb::get,
                  "/v3/company/" + std::string(realm) + "/query?query=" + Encode(statement) +
                      "&minorversion=75",
                  11};
  req.set(http::field::authorization, "Bearer tok");
  req.set(http::field::accept, "application/json");
  return req;
}

std::vector<std::string> Ids(const HttpResponse& res) {
  std::vector<std::string> ids;
  const json::value body = json::parse(res.body());
  const json::value* customers = body.at("QueryResponse").as_object().if_contains("Customer");
  if (customers == nullptr) return ids;
  for (const auto& c : customers->as_array()) ids.emplace_back(c.at("Id").as_string());
  return ids;
}

using Strings = std::vector<std::string>;

TEST(QboApiTest, AnswersTheQueryEnvelope) {
  const HttpResponse res = HandleQboRequest(
      Query("select * from Customer startposition 1 maxresults 1"), Company(), Context());
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(),
            R"({"QueryResponse":{"Customer":[{"Id":"2","DisplayName":"Two Ltd","GivenName":"Tama",)"
            R"("Active":true,"MetaData":{"LastUpdatedTime":"2024-06-03T00:00:00Z"}}],)"
            R"("startPosition":1,"maxResults":1},"time":"2025-12-31T17:00:00.123-07:00"})");
  EXPECT_EQ(res["intuit_tid"], "1-tid");
  EXPECT_EQ(res[http::field::date], "Thu, 01 Jan 2026 00:00:00 GMT");
  EXPECT_EQ(res[http::field::content_type], "application/json;charset=UTF-8");
}

TEST(QboApiTest, HidesInactiveUnlessAskedAndOrdersByIdNumerically) {
  const auto ids = [](std::string_view statement) {
    return Ids(HandleQboRequest(Query(statement), Company(), Context()));
  };
  EXPECT_EQ(ids("select * from Customer"), (Strings{"2", "10", "11"}));
  EXPECT_EQ(ids("SELECT * FROM Customer WHERE Active IN (true,false)"),
            (Strings{"2", "9", "10", "11"}));
  EXPECT_EQ(ids("select * from Customer where Active = false"), (Strings{"9"}));
  EXPECT_EQ(ids("select * from Customer where active in (true, false) orderby Id desc"),
            (Strings{"11", "10", "9", "2"}));
  EXPECT_EQ(ids("select * from Customer where Active IN (true,false) "
                "orderby Metadata.LastUpdatedTime"),
            (Strings{"11", "10", "9", "2"}));
  EXPECT_EQ(ids("select * from Customer where Job = true"), (Strings{"11"}));
}

TEST(QboApiTest, PagesOneBasedAndCapsMaxResults) {
  const auto ids = [](std::string_view statement) {
    return Ids(HandleQboRequest(Query(statement), Company(), Context()));
  };
  const std::string all = "select * from Customer where Active IN (true,false) orderby Id";
  EXPECT_EQ(ids(all + " startposition 1 maxresults 2"), (Strings{"2", "9"}));
  EXPECT_EQ(ids(all + " STARTPOSITION 3 MAXRESULTS 2"), (Strings{"10", "11"}));
  EXPECT_EQ(ids(all + " maxresults 2 startposition 4"), (Strings{"11"}));
  EXPECT_EQ(ids(all + " startposition 2 maxresults 5000"), (Strings{"9", "10", "11"}));
  const HttpResponse past_end =
      HandleQboRequest(Query(all + " startposition 5 maxresults 2"), Company(), Context());
  EXPECT_EQ(past_end.body(), R"({"QueryResponse":{},"time":"2025-12-31T17:00:00.123-07:00"})")
      << "no Customer key when empty";
  const HttpResponse count =
      HandleQboRequest(Query("select count(*) from Customer"), Company(), Context());
  EXPECT_EQ(json::parse(count.body()).at("QueryResponse").at("totalCount"), 3);
}

TEST(QboApiTest, FiltersOnTimesIdsAndText) {
  const auto ids = [](std::string_view statement) {
    return Ids(HandleQboRequest(Query(statement), Company(), Context()));
  };
  const std::string base = "select * from Customer where Active IN (true,false) and ";
  EXPECT_EQ(ids(base + "Metadata.LastUpdatedTime >= '2024-06-02T07:00:00+00:00'"),
            (Strings{"2", "9"}));
  EXPECT_EQ(ids(base + "MetaData.LastUpdatedTime > '2024-06-02T00:00:00-07:00'"), (Strings{"2"}));
  EXPECT_EQ(ids(base + "Metadata.LastUpdatedTime < '2024-06-01'"), (Strings{"11"}));
  EXPECT_EQ(ids(base + "Metadata.CreateTime >= '2024-01-01T08:00:00Z'"), (Strings{"10"}));
  EXPECT_EQ(ids(base + "Id IN ('10', '11', '99')"), (Strings{"10", "11"}));
  EXPECT_EQ(ids(base + "Id = '9'"), (Strings{"9"}));
  EXPECT_EQ(ids(base + "DisplayName LIKE 'two%'"), (Strings{"2", "11"}));
  EXPECT_EQ(ids(base + "DisplayName LIKE '%kitchen'"), (Strings{"11"}));
  EXPECT_EQ(ids(base + "GivenName = 'Tia'"), (Strings{"10"}));
  EXPECT_EQ(ids(base + "DisplayName = 'It\\'s'"), (Strings{}));
}

TEST(QboApiTest, MalformedQueriesAre400ValidationFaults) {
  const char* const bad[] = {
      "",
      "select from Customer",
      "select Id from Customer",
      "select * from customer",
      "select * from Invoice",
      "select * from Customer where",
      "select * from Customer where Active IN (true,false) or Id = '1'",
      "select * from Customer where Active = 'yes'",
      "select * from Customer where Active IN true,false",
      "select * from Customer where Colour = 'red'",
      "select * from Customer where Metadata.LastUpdatedTime >= 'yesterday'",
      "select * from Customer where Metadata.LastUpdatedTime >= 2024",
      "select * from Customer where Id > '5'",
      "select * from Customer where DisplayName = 'unterminated",
      "select * from Customer startposition 0",
      "select * from Customer maxresults 0",
      "select * from Customer startposition 1 startposition 2",
      "select * from Customer maxresults 10 limit 5",
      "select * from Customer where Active IN (true,false) and Metadata.LastUpdatedTime >= "
      "'2024-06-01T00:00:00 00:00'",
      "select * from Customer; drop table",
  };
  for (const char* statement : bad) {
    const HttpResponse res = HandleQboRequest(Query(statement), Company(), Context());
    EXPECT_EQ(res.result_int(), 400) << statement;
    const json::value body = json::parse(res.body());
    const json::value& error = body.at("Fault").at("Error").at(0);
    EXPECT_EQ(body.at("Fault").at("type"), "ValidationFault") << statement;
    EXPECT_EQ(error.at("code"), "4000");
    EXPECT_EQ(error.at("Message"), "Error parsing query");
    EXPECT_TRUE(error.at("Detail").as_string().starts_with("QueryParserError: ")) << statement;
  }
  HttpRequest no_query{http::verb::get, "/v3/company/9130/query?minorversion=75", 11};
  no_query.set(http::field::authorization, "Bearer tok");
  no_query.set(http::field::accept, "application/json");
  EXPECT_EQ(HandleQboRequest(no_query, Company(), Context()).result_int(), 400);
  HttpRequest bad_minor = Query("select * from Customer");
  bad_minor.target(std::string(bad_minor.target()) + "&minorversion=latest");
  EXPECT_EQ(HandleQboRequest(bad_minor, Company(), Context()).result_int(), 400);
}

TEST(QboApiTest, AuthRealmPathAndMethod) {
  HttpRequest req = Query("select * from Customer");
  req.set(http::field::authorization, "Bearer wrong");
  const HttpResponse unauthorized = HandleQboRequest(req, Company(), Context());
  EXPECT_EQ(unauthorized.result_int(), 401);
  const json::value fault = json::parse(unauthorized.body());
  EXPECT_EQ(fault.at("fault").at("error").at(0).at("code"), "3200") << "the gateway's camelCase";
  EXPECT_EQ(fault.at("fault").at("type"), "AUTHENTICATION");
  EXPECT_TRUE(fault.at("queryResponse").is_null());
  req.erase(http::field::authorization);
  EXPECT_EQ(HandleQboRequest(req, Company(), Context()).result_int(), 401);

  const HttpResponse other_realm =
      HandleQboRequest(Query("select * from Customer", "4620"), Company(), Context());
  EXPECT_EQ(other_realm.result_int(), 403);
  EXPECT_EQ(json::parse(other_realm.body()).at("fault").at("error").at(0).at("code"), "3100");

  HttpRequest cdc = Query("select * from Customer");
  cdc.target("/v3/company/9130/cdc?entities=Customer&changedSince=2024-06-01");
  EXPECT_EQ(HandleQboRequest(cdc, Company(), Context()).result_int(), 404);
  HttpRequest post = Query("select * from Customer");
  post.method(http::verb::post);
  const HttpResponse not_allowed = HandleQboRequest(post, Company(), Context());
  EXPECT_EQ(not_allowed.result_int(), 405);
  EXPECT_EQ(not_allowed[http::field::allow], "GET");
}

TEST(QboApiTest, WithoutAcceptJsonTheAnswerIsXml) {
  HttpRequest req = Query("select * from Customer");
  req.erase(http::field::accept);
  const HttpResponse res = HandleQboRequest(req, Company(), Context());
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/xml;charset=UTF-8");
  EXPECT_NE(res.body().find("<IntuitResponse"), std::string::npos);
}

TEST(QboApiTest, InjectedFailuresSpeakEachFaultForm) {
  QboRequestContext ctx = Context();
  const HttpRequest req = Query("select * from Customer");
  ctx.fail_status = 429;
  const HttpResponse throttled = HandleQboRequest(req, Company(), ctx);
  EXPECT_EQ(throttled.result_int(), 429);
  EXPECT_EQ(throttled[http::field::content_type], "application/xml;charset=UTF-8");
  EXPECT_NE(throttled.body().find(R"(<Error code="3001">)"), std::string::npos);
  ctx.fail_status = 401;
  EXPECT_EQ(json::parse(HandleQboRequest(req, Company(), ctx).body())
                .at("fault")
                .at("error")
                .at(0)
                .at("code"),
            "3200");
  ctx.fail_status = 500;
  const HttpResponse failed = HandleQboRequest(req, Company(), ctx);
  EXPECT_EQ(failed.result_int(), 500);
  EXPECT_EQ(json::parse(failed.body()).at("Fault").at("type"), "SystemFault");
  EXPECT_EQ(failed["intuit_tid"], "1-tid");

  QboCompany failing = Company();
  failing.fail_status = 503;
  EXPECT_EQ(HandleQboRequest(req, failing, Context()).result_int(), 503);
}

TEST(QboApiTest, TimeIsWrittenInPacificDaylightTime) {
  EXPECT_EQ(QboTime(1718036102118), "2024-06-10T09:15:02.118-07:00");
  EXPECT_EQ(QboTime(1718036102000), "2024-06-10T09:15:02.000-07:00");
}

TEST(QboApiTest, ParsesTheSubsetIntoConditions) {
  const auto parsed = ParseQboQuery(
      "select * from Customer where Active IN (true,false) and Metadata.LastUpdatedTime >= "
      "'2024-06-09T23:40:11+00:00' orderby Id startposition 3 maxresults 2");
  ASSERT_TRUE(std::holds_alternative<QboQuery>(parsed)) << std::get<std::string>(parsed);
  const QboQuery& q = std::get<QboQuery>(parsed);
  ASSERT_EQ(q.where.size(), 2u);
  EXPECT_EQ(q.where[0].field, QboField::kActive);
  EXPECT_EQ(q.where[0].op, QboOp::kIn);
  EXPECT_EQ(q.where[0].values, (Strings{"true", "false"}));
  EXPECT_EQ(q.where[1].field, QboField::kLastUpdatedTime);
  EXPECT_EQ(q.where[1].op, QboOp::kGe);
  EXPECT_EQ(q.where[1].times, (std::vector<reconcile::Millis>{1717976411000}));
  ASSERT_EQ(q.order.size(), 1u);
  EXPECT_EQ(q.order[0].field, QboField::kId);
  EXPECT_EQ(q.start_position, 3);
  EXPECT_EQ(q.max_results, 2);
}

}  // namespace
}  // namespace concord::fake
