#include "tools/concord-fake/xero_api.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

namespace concord::fake {
namespace {

namespace http = boost::beast::http;

XeroTenant Tenant() {
  return ParseDataset(R"({"xero":{"tenant_id":"T-1","access_token":"tok","contacts":[
      {"ContactID":"c2","ContactStatus":"ACTIVE","Name":"Two","UpdatedDateUTC":"/Date(2000+0000)/",
       "ContactPersons":[{"FirstName":"Ari"}]},
      {"ContactID":"c1","ContactStatus":"ACTIVE","Name":"One","UpdatedDateUTC":"/Date(1000+0000)/"},
      {"ContactID":"c0","ContactStatus":"ARCHIVED","Name":"Zero","UpdatedDateUTC":"/Date(1500+0000)/"}
    ]}})")
      .xero;
}

XeroRequestContext Context() {
  XeroRequestContext ctx;
  ctx.now_ms = 1767225600000;
  ctx.request_id = "req-1";
  ctx.correlation_id = "corr-1";
  ctx.remaining = {4990, 55, 9990};
  return ctx;
}

HttpRequest Get(const std::string& target) {
  HttpRequest req{http::verb::get, target, 11};
  req.set(http::field::authorization, "Bearer tok");
  req.set("xero-tenant-id", "t-1");  // tenant ids compare case-insensitively
  req.set(http::field::accept, "application/json");
  return req;
}

TEST(XeroApiTest, ListsAPageExactlyAsXeroWritesIt) {
  const HttpResponse res =
      HandleXeroRequest(Get("/api.xro/2.0/Contacts?page=1&pageSize=1"), Tenant(), Context());
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"Id":"req-1","Status":"OK","ProviderName":"concord-fake",)"
                        R"("DateTimeUTC":"\/Date(1767225600000)\/",)"
                        R"("pagination":{"page":1,"pageSize":1,"pageCount":2,"itemCount":2},)"
                        R"("Contacts":[{"ContactID":"c1","ContactStatus":"ACTIVE","Name":"One",)"
                        R"("UpdatedDateUTC":"\/Date(1000+0000)\/"}]})");
  EXPECT_EQ(res[http::field::date], "Thu, 01 Jan 2026 00:00:00 GMT");
  EXPECT_EQ(res["Xero-Correlation-Id"], "corr-1");
  EXPECT_EQ(res["X-DayLimit-Remaining"], "4990");
  EXPECT_EQ(res["X-MinLimit-Remaining"], "55");
  EXPECT_EQ(res["X-AppMinLimit-Remaining"], "9990");
  EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
}

TEST(XeroApiTest, ChecksTokenThenTenantThenAccept) {
  HttpRequest req = Get("/api.xro/2.0/Contacts?page=1");
  req.set(http::field::authorization, "Basic dG9rOg==");
  req.erase("xero-tenant-id");
  req.erase(http::field::accept);
  EXPECT_EQ(HandleXeroRequest(req, Tenant(), Context()).result_int(), 401);
  req.set(http::field::authorization, "bearer tok");
  const HttpResponse forbidden = HandleXeroRequest(req, Tenant(), Context());
  EXPECT_EQ(forbidden.result_int(), 403);
  EXPECT_EQ(
      forbidden.body(),
      R"({"Type":null,"Title":"Forbidden","Status":403,"Detail":"AuthenticationUnsuccessful",)"
      R"("Instance":"req-1","Extensions":{}})");
  req.set("xero-tenant-id", "T-1");
  EXPECT_EQ(HandleXeroRequest(req, Tenant(), Context()).result_int(), 406);
  req.set(http::field::accept, "application/json");
  EXPECT_EQ(HandleXeroRequest(req, Tenant(), Context()).result_int(), 200);
}

TEST(XeroApiTest, PagesSkipArchivedContactsConsistently) {
  const auto page = [](const std::string& query) {
    return HandleXeroRequest(Get("/api.xro/2.0/Contacts" + query), Tenant(), Context()).body();
  };
  EXPECT_NE(page("?page=2&pageSize=1").find(R"("ContactID":"c2")"), std::string::npos);
  EXPECT_NE(page("?page=2&pageSize=1&includeArchived=true").find(R"("ContactID":"c0")"),
            std::string::npos);
  EXPECT_NE(page("?page=1&includeArchived=TRUE").find(R"("itemCount":3)"), std::string::npos);
  EXPECT_NE(page("?page=0&pageSize=0").find(R"("page":1,"pageSize":100)"), std::string::npos);
}

TEST(XeroApiTest, UnpagedListingDropsContactPersonsAndPagination) {
  const std::string body =
      HandleXeroRequest(Get("/api.xro/2.0/contacts"), Tenant(), Context()).body();
  EXPECT_EQ(body.find("pagination"), std::string::npos);
  EXPECT_NE(body.find(R"("ContactPersons":[])"), std::string::npos) << body;
}

TEST(XeroApiTest, IfModifiedSinceIsAccurateToTheSecond) {
  HttpRequest req = Get("/api.xro/2.0/Contacts?page=1");
  req.set(http::field::if_modified_since, "1970-01-01T00:00:01.999");
  const std::string body = HandleXeroRequest(req, Tenant(), Context()).body();
  EXPECT_NE(body.find(R"("itemCount":2)"), std::string::npos) << body;
  req.set(http::field::if_modified_since, "1970-01-01T00:00:02Z");
  EXPECT_NE(HandleXeroRequest(req, Tenant(), Context()).body().find(R"("itemCount":1)"),
            std::string::npos);
  req.set(http::field::if_modified_since, "Thu, 01 Jan 1970 00:00:02 GMT");
  EXPECT_EQ(HandleXeroRequest(req, Tenant(), Context()).result_int(), 400);
}

TEST(XeroApiTest, InjectedFailures) {
  XeroRequestContext ctx = Context();
  ctx.fail_status = 429;
  const HttpResponse res = HandleXeroRequest(Get("/api.xro/2.0/Contacts?page=1"), Tenant(), ctx);
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(res[http::field::retry_after], "60");
  EXPECT_EQ(res["X-Rate-Limit-Problem"], "minute");
  EXPECT_EQ(res["X-MinLimit-Remaining"], "0");
  ctx.fail_status = 500;
  EXPECT_NE(HandleXeroRequest(Get("/"), Tenant(), ctx).body().find(R"("Status":500)"),
            std::string::npos);
}

TEST(XeroApiTest, OnlyGetOnContacts) {
  HttpRequest post = Get("/api.xro/2.0/Contacts");
  post.method(http::verb::post);
  const HttpResponse res = HandleXeroRequest(post, Tenant(), Context());
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[http::field::allow], "GET");
  EXPECT_EQ(HandleXeroRequest(Get("/api.xro/2.0/Contacts/c1"), Tenant(), Context()).result_int(),
            404);
}

}  // namespace
}  // namespace concord::fake
