#include "tools/concord-fake/myob_api.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

namespace concord::fake {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

MyobCompanyFile File(std::string cftoken = "") {
  // Served in data-file order, not by UID or time.
  std::string data = R"({"myob":{"company_file_id":"cf-1","api_key":"key","access_token":"tok",)";
  if (!cftoken.empty()) data += R"("cftoken":")" + cftoken + R"(",)";
  data += R"("customers":[
      {"UID":"b","CompanyName":"B Ltd","LastModified":"2024-06-03T00:00:00"},
      {"UID":"a","CompanyName":"A Ltd","IsActive":false,"LastModified":"2024-06-01T00:00:00.5"},
      {"UID":"c","FirstName":"Cy","LastModified":"2024-06-02T00:00:00"}]}})";
  return ParseDataset(data).myob;
}

MyobRequestContext Context() {
  MyobRequestContext ctx;
  ctx.now_ms = 1767225600123;
  ctx.request_id = "req-1";
  return ctx;
}

HttpRequest Get(std::string target) {
  HttpRequest req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1:9999");
  req.set(http::field::authorization, "Bearer tok");
  req.set("x-myobapi-key", "key");
  req.set("x-myobapi-version", "v2");
  return req;
}

std::vector<std::string> Uids(const HttpResponse& res) {
  std::vector<std::string> uids;
  const json::value body = json::parse(res.body());
  for (const auto& item : body.at("Items").as_array()) {
    uids.emplace_back(item.at("UID").as_string());
  }
  return uids;
}

std::string ErrorName(const HttpResponse& res) {
  const json::value body = json::parse(res.body());
  EXPECT_TRUE(body.as_object().contains("Information"));
  return std::string(body.at("Errors").at(0).at("Name").as_string());
}

using Strings = std::vector<std::string>;

TEST(MyobApiTest, PagesWithTopSkipNextPageLinkAndCount) {
  const HttpResponse first =
      HandleMyobRequest(Get("/accountright/cf-1/Contact/Customer?$top=2"), File(), Context());
  ASSERT_EQ(first.result_int(), 200) << first.body();
  EXPECT_EQ(first[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(first["x-myobapi-requestid"], "req-1");
  EXPECT_EQ(Uids(first), (Strings{"b", "a"}));
  const json::value body = json::parse(first.body());
  EXPECT_EQ(body.at("Count"), 3);
  EXPECT_EQ(body.at("NextPageLink"),
            "http://127.0.0.1:9999/accountright/cf-1/Contact/Customer?$top=2&$skip=2");
  const HttpResponse last = HandleMyobRequest(
      Get("/accountright/cf-1/Contact/Customer?$top=2&$skip=2"), File(), Context());
  EXPECT_EQ(Uids(last), (Strings{"c"}));
  EXPECT_TRUE(json::parse(last.body()).at("NextPageLink").is_null());
  const HttpResponse all =
      HandleMyobRequest(Get("/accountright/cf-1/Contact/Customer"), File(), Context());
  EXPECT_EQ(Uids(all), (Strings{"b", "a", "c"})) << "default $top is 400";
}

TEST(MyobApiTest, FiltersOnLastModifiedAndIsActive) {
  const auto uids = [](std::string filter) {
    return Uids(HandleMyobRequest(Get("/accountright/cf-1/Contact/Customer?$filter=" + filter),
                                  File(), Context()));
  };
  EXPECT_EQ(uids("LastModified%20gt%20datetime'2024-06-01T00:00:00'"), (Strings{"b", "a", "c"}));
  EXPECT_EQ(uids("LastModified%20gt%20datetime'2024-06-01T00:00:00.5'"), (Strings{"b", "c"}));
  EXPECT_EQ(uids("LastModified%20ge%20datetime'2024-06-02T00:00:00'%20and%20IsActive%20eq%20true"),
            (Strings{"b", "c"}));
  EXPECT_EQ(uids("IsActive%20eq%20false"), (Strings{"a"}));
  // The filter travels in NextPageLink.
  const HttpResponse page = HandleMyobRequest(
      Get("/accountright/cf-1/Contact/Customer?$top=1&$filter=IsActive%20eq%20true"), File(),
      Context());
  EXPECT_EQ(json::parse(page.body()).at("NextPageLink"),
            "http://127.0.0.1:9999/accountright/cf-1/Contact/Customer?$top=1&$skip=1&"
            "$filter=IsActive%20eq%20true");
}

TEST(MyobApiTest, RefusesWhatMyobWouldRefuseWith400) {
  for (const char* query :
       {"$top=1001", "$top=0", "$top=x", "$skip=-1", "$top=1&$top=2", "$orderby=UID",
        "$filter=LastModified%20gt%20'2024-06-01T00:00:00'",
        "$filter=LastModified%20gt%20datetime'2024-06-01T00:00:00Z'",
        "$filter=LastModified%20gt%20datetime'2024-06-01'",
        "$filter=LastModified%20after%20datetime'2024-06-01T00:00:00'",
        "$filter=lastmodified%20gt%20datetime'2024-06-01T00:00:00'",
        "$filter=CompanyName%20eq%20'A'", "$filter=IsActive%20eq%201",
        "$filter=IsActive%20eq%20true%20or%20IsActive%20eq%20false", "returnBody=true"}) {
    const HttpResponse res = HandleMyobRequest(
        Get(std::string("/accountright/cf-1/Contact/Customer?") + query), File(), Context());
    EXPECT_EQ(res.result_int(), 400) << query << ": " << res.body();
    EXPECT_EQ(ErrorName(res), "ODataError") << query;
  }
}

TEST(MyobApiTest, ChecksKeyVersionTokenFileAndCftoken) {
  const std::string target = "/accountright/cf-1/Contact/Customer";
  HttpRequest no_key = Get(target);
  no_key.erase("x-myobapi-key");
  HttpResponse res = HandleMyobRequest(no_key, File(), Context());
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_EQ(ErrorName(res), "DeveloperInactive");

  HttpRequest old_version = Get(target);
  old_version.set("x-myobapi-version", "v1");
  EXPECT_EQ(HandleMyobRequest(old_version, File(), Context()).result_int(), 400);

  HttpRequest no_token = Get(target);
  no_token.erase(http::field::authorization);
  res = HandleMyobRequest(no_token, File(), Context());
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_EQ(ErrorName(res), "OAuthTokenIsInvalid");

  res = HandleMyobRequest(Get("/accountright/cf-2/Contact/Customer"), File(), Context());
  EXPECT_EQ(res.result_int(), 403);

  res = HandleMyobRequest(Get(target), File("QWRtaW46"), Context());
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_EQ(ErrorName(res), "InvalidCompanyFileCredentials");
  HttpRequest with_cftoken = Get(target);
  with_cftoken.set("x-myobapi-cftoken", "QWRtaW46");
  EXPECT_EQ(HandleMyobRequest(with_cftoken, File("QWRtaW46"), Context()).result_int(), 200);

  EXPECT_EQ(
      HandleMyobRequest(Get("/accountright/cf-1/Contact/Supplier"), File(), Context()).result_int(),
      404);
  HttpRequest put = Get(target);
  put.method(http::verb::put);
  EXPECT_EQ(HandleMyobRequest(put, File(), Context()).result_int(), 405);
}

TEST(MyobApiTest, CompanyFileListPointsBackHere) {
  const HttpResponse res = HandleMyobRequest(Get("/accountright/"), File(), Context());
  ASSERT_EQ(res.result_int(), 200);
  const json::value body = json::parse(res.body());
  EXPECT_EQ(body.at(0).at("Id"), "cf-1");
  EXPECT_EQ(body.at(0).at("Uri"), "http://127.0.0.1:9999/accountright/cf-1");
}

TEST(MyobApiTest, ETagAndIfNoneMatch) {
  const std::string target = "/accountright/cf-1/Contact/Customer";
  const HttpResponse first = HandleMyobRequest(Get(target), File(), Context());
  const std::string etag(first[http::field::etag]);
  ASSERT_FALSE(etag.empty());
  HttpRequest again = Get(target);
  again.set(http::field::if_none_match, etag);
  const HttpResponse not_modified = HandleMyobRequest(again, File(), Context());
  EXPECT_EQ(not_modified.result_int(), 304);
  EXPECT_TRUE(not_modified.body().empty());
}

TEST(MyobApiTest, InjectedFailures) {
  MyobRequestContext ctx = Context();
  for (const auto& [status, name] :
       std::vector<std::pair<unsigned, std::string>>{{401, "OAuthTokenIsInvalid"},
                                                     {403, "RateLimitError"},
                                                     {500, "InternalError"},
                                                     {504, "GatewayTimeout"}}) {
    ctx.fail_status = status;
    const HttpResponse res =
        HandleMyobRequest(Get("/accountright/cf-1/Contact/Customer"), File(), ctx);
    EXPECT_EQ(res.result_int(), status);
    EXPECT_EQ(ErrorName(res), name);
  }
}

}  // namespace
}  // namespace concord::fake
