#include "tools/concord-fake/scim_api.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

namespace concord::fake {
namespace {

namespace http = boost::beast::http;

ScimDirectory Directory() {
  return ParseDataset(R"({"scim":{"token":"tok","users":[
      {"id":"u2","meta":{"lastModified":"2026-01-02T00:00:00Z"}},
      {"id":"u1","meta":{"lastModified":"2026-01-01T00:00:00Z"}},
      {"id":"u3","meta":{"lastModified":"2026-01-02T00:00:00Z"}}]}})")
      .scim;
}

ScimRequestContext Context() {
  ScimRequestContext ctx;
  ctx.now_ms = 1767225600000;
  return ctx;
}

HttpRequest Get(const std::string& target) {
  HttpRequest req{http::verb::get, target, 11};
  req.set(http::field::authorization, "Bearer tok");
  return req;
}

TEST(ScimApiTest, ListsAPage) {
  const HttpResponse res =
      HandleScimRequest(Get("/scim/v2/Users?startIndex=2&count=1"), Directory(), Context());
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/scim+json");
  EXPECT_EQ(res[http::field::date], "Thu, 01 Jan 2026 00:00:00 GMT");
  EXPECT_EQ(res.body(), R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)"
                        R"("totalResults":3,"startIndex":2,"itemsPerPage":1,"Resources":[)"
                        R"({"id":"u2","meta":{"lastModified":"2026-01-02T00:00:00Z"}}]})");
}

TEST(ScimApiTest, UnauthorizedIsAScimError) {
  HttpRequest req = Get("/scim/v2/Users");
  req.erase(http::field::authorization);
  const HttpResponse res = HandleScimRequest(req, Directory(), Context());
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_EQ(res.body(),
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401",)"
            R"("detail":"Authorization failure: bearer token missing or invalid"})");
  EXPECT_FALSE(res[http::field::www_authenticate].empty());
}

TEST(ScimApiTest, FiltersGtAndGe) {
  const auto total = [](const std::string& filter) {
    const std::string body =
        HandleScimRequest(Get("/scim/v2/Users?filter=" + filter), Directory(), Context()).body();
    const auto at = body.find("\"totalResults\":");
    return body.substr(at + 15, 1);
  };
  EXPECT_EQ(total("meta.lastModified%20gt%20%222026-01-01T00:00:00Z%22"), "2");
  EXPECT_EQ(total("meta.lastModified%20ge%20%222026-01-01T00:00:00Z%22"), "3");
  EXPECT_EQ(total("META.LASTMODIFIED+Gt+%222026-01-02T01:00:00%2B02:00%22"), "2");
  EXPECT_EQ(total("meta.lastModified%20gt%20%222026-01-02T00:00:00Z%22"), "0");
}

TEST(ScimApiTest, BadParametersAre400) {
  const auto scim_type = [](const std::string& query) {
    const HttpResponse res =
        HandleScimRequest(Get("/scim/v2/Users" + query), Directory(), Context());
    EXPECT_EQ(res.result_int(), 400) << query;
    const auto at = res.body().find("\"scimType\":\"");
    return at == std::string::npos ? std::string() : res.body().substr(at + 12, 12);
  };
  EXPECT_EQ(scim_type("?filter=userName%20eq%20%22a%22"), "invalidFilte");
  EXPECT_EQ(scim_type("?filter=meta.lastModified%20gt%202026"), "invalidFilte");
  EXPECT_EQ(scim_type("?count=many"), "invalidValue");
  EXPECT_EQ(scim_type("?startIndex=1.5"), "invalidValue");
}

TEST(ScimApiTest, CountIsClampedAndStartIndexFloored) {
  const std::string body =
      HandleScimRequest(Get("/scim/v2/Users?count=100000&startIndex=-4"), Directory(), Context())
          .body();
  EXPECT_NE(body.find(R"("startIndex":1,"itemsPerPage":3)"), std::string::npos) << body;
  const std::string none =
      HandleScimRequest(Get("/scim/v2/Users?count=-1"), Directory(), Context()).body();
  EXPECT_NE(none.find(R"("itemsPerPage":0,"Resources":[])"), std::string::npos) << none;
}

TEST(ScimApiTest, InjectedFailureAndUnknownPath) {
  ScimRequestContext ctx = Context();
  ctx.fail_status = 503;
  const HttpResponse res = HandleScimRequest(Get("/scim/v2/Users"), Directory(), ctx);
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_NE(res.body().find(R"("status":"503")"), std::string::npos);
  EXPECT_EQ(HandleScimRequest(Get("/scim/v2/Groups"), Directory(), Context()).result_int(), 404);
}

// The users of Directory() with booleans, served with the given quirks.
ScimDirectory Quirky(const std::string& quirks) {
  return ParseDataset(R"({"scim":{"token":"tok","quirks":)" + quirks + R"(,"users":[
      {"id":"u1","active":false,"emails":[{"value":"a@x.example","primary":true}],
       "meta":{"lastModified":"2026-01-01T00:00:00Z"}},
      {"id":"u2","active":true,"meta":{"lastModified":"2026-01-02T00:00:00Z"}},
      {"id":"u3","meta":{"lastModified":"2026-01-02T00:00:00Z"}}]}})")
      .scim;
}

TEST(ScimApiQuirks, StringBooleans) {
  const HttpResponse res = HandleScimRequest(Get("/scim/v2/Users?count=2"),
                                             Quirky(R"({"string_booleans":true})"), Context());
  EXPECT_NE(res.body().find(R"("id":"u1","active":"False","emails":[{"value":"a@x.example",)"
                            R"("primary":"True"}])"),
            std::string::npos)
      << res.body();
  EXPECT_NE(res.body().find(R"("id":"u2","active":"True")"), std::string::npos) << res.body();
}

TEST(ScimApiQuirks, NoResourcesOnAnEmptyPage) {
  const ScimDirectory directory = Quirky(R"({"omit_empty_resources":true})");
  EXPECT_EQ(HandleScimRequest(Get("/scim/v2/Users?startIndex=4"), directory, Context()).body(),
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)"
            R"("totalResults":3,"startIndex":4,"itemsPerPage":0})");
  EXPECT_NE(HandleScimRequest(Get("/scim/v2/Users"), directory, Context()).body().find("Resources"),
            std::string::npos);
}

TEST(ScimApiQuirks, ACountCapClampsOrRefuses) {
  const HttpResponse clamped =
      HandleScimRequest(Get("/scim/v2/Users?count=100"), Quirky(R"({"max_count":2})"), Context());
  EXPECT_NE(clamped.body().find(R"("totalResults":3,"startIndex":1,"itemsPerPage":2,)"),
            std::string::npos)
      << clamped.body();

  const HttpResponse refused =
      HandleScimRequest(Get("/scim/v2/Users?count=100"),
                        Quirky(R"({"max_count":2,"reject_over_max_count":true})"), Context());
  EXPECT_EQ(refused.result_int(), 400);
  EXPECT_EQ(
      refused.body(),
      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400",)"
      R"("scimType":"tooMany","detail":"count 100 exceeds the maximum of 2 results per page"})");
}

TEST(ScimApiQuirks, AnOverstatedTotalLeavesEmptyPagesPastTheEnd) {
  const HttpResponse res = HandleScimRequest(Get("/scim/v2/Users?startIndex=4"),
                                             Quirky(R"({"overstate_total":2})"), Context());
  EXPECT_EQ(res.body(), R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)"
                        R"("totalResults":5,"startIndex":4,"itemsPerPage":0,"Resources":[]})");
}

TEST(ScimApiQuirks, BadQuirksAreDatasetErrorsNamingTheKey) {
  for (const char* quirks :
       {R"({"max_count":0})", R"({"string_booleans":"yes"})", R"({"count_cap":2})", R"([])"}) {
    try {
      (void)Quirky(quirks);
      ADD_FAILURE() << "accepted " << quirks;
    } catch (const DatasetError& error) {
      EXPECT_NE(std::string(error.what()).find("scim.quirks"), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace concord::fake
