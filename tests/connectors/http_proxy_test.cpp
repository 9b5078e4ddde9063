// Proxy choice as pure functions: proxy URLs, NO_PROXY lists, and which proxy a request takes.

#include "connectors/http_proxy.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace concord::connectors {
namespace {

TEST(ParseProxyUrl, ReadsHostPortAndCredentials) {
  const Proxy proxy = ParseProxyUrl("http://svc%40corp:p%3Ass@proxy.corp.example:3128/");
  EXPECT_EQ(proxy.host, "proxy.corp.example");
  EXPECT_EQ(proxy.port, "3128");
  EXPECT_EQ(proxy.authorization, "Basic c3ZjQGNvcnA6cDpzcw==");  // base64("svc@corp:p:ss")
  EXPECT_EQ(proxy.display, "http://proxy.corp.example:3128");
}

TEST(ParseProxyUrl, DefaultsSchemeAndPort) {
  EXPECT_EQ(ParseProxyUrl("proxy.example:8080").display, "http://proxy.example:8080");
  const Proxy proxy = ParseProxyUrl(" http://proxy.example ");
  EXPECT_EQ(proxy.port, "80");
  EXPECT_EQ(proxy.authorization, "");
  EXPECT_EQ(ParseProxyUrl("http://[::1]:3128").host, "::1");
  EXPECT_EQ(ParseProxyUrl("http://user@proxy.example").authorization, "Basic dXNlcjo=");
}

TEST(ParseProxyUrl, RejectsWhatItCannotUseWithoutShowingCredentials) {
  for (const char* url : {"https://u:secret@proxy.example", "socks5://u:secret@proxy.example",
                          "http://u:secret@proxy.example/path", "http://u:secret@:3128",
                          "http://u:secret@proxy.example?x=1", "http://u:secret@proxy.example:0"}) {
    try {
      (void)ParseProxyUrl(url);
      ADD_FAILURE() << "accepted " << url;
    } catch (const std::invalid_argument& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("proxy URL"), std::string::npos) << message;
      EXPECT_EQ(message.find("secret"), std::string::npos) << message;
    }
  }
}

struct NoProxyCase {
  const char* no_proxy;
  const char* host;
  const char* port;
  bool exempt;
};

TEST(NoProxyExempts, FollowsCurlAndGo) {
  const NoProxyCase cases[] = {
      {"", "api.xero.com", "443", false},
      {"*", "api.xero.com", "443", true},
      {"xero.com", "api.xero.com", "443", true},
      {"xero.com", "xero.com", "443", true},
      {"xero.com", "notxero.com", "443", false},
      {".xero.com", "api.xero.com", "443", true},
      {".xero.com", "xero.com", "443", true},
      {"*.xero.com", "api.xero.com", "443", true},
      {"XERO.com", "Api.Xero.COM.", "443", true},
      {"intuit.com, xero.com:8443", "api.xero.com", "443", false},
      {"intuit.com, xero.com:8443", "api.xero.com", "8443", true},
      {" intuit.com ,, portal.example ", "portal.example", "443", true},
      {"10.0.0.1", "10.0.0.1", "80", true},
      {"0.0.1", "10.0.0.1", "80", false},
      {"10.0.0.1:8080", "10.0.0.1", "80", false},
      {"::1", "::1", "443", true},
      {"[fd00::7]", "fd00::7", "443", true},
      {"[fd00::7]:8443", "fd00::7", "443", false},
      {"[fd00::7]:8443", "fd00::7", "8443", true},
  };
  for (const NoProxyCase& c : cases) {
    EXPECT_EQ(NoProxyExempts(c.no_proxy, c.host, c.port), c.exempt)
        << "NO_PROXY=\"" << c.no_proxy << "\" host " << c.host << " port " << c.port;
  }
}

TEST(ProxyFor, PicksTheProxyOfTheSchemeUnlessExempted) {
  ProxySettings settings;
  settings.https_proxy = "http://secure-proxy:3128";
  settings.http_proxy = "http://plain-proxy:3128";
  settings.no_proxy = "internal.example";
  EXPECT_EQ(ProxyFor(settings, true, "api.xero.com", "443")->host, "secure-proxy");
  EXPECT_EQ(ProxyFor(settings, false, "api.xero.com", "80")->host, "plain-proxy");
  EXPECT_EQ(ProxyFor(settings, true, "scim.internal.example", "443"), std::nullopt);
  for (const char* loopback : {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1"}) {
    EXPECT_EQ(ProxyFor(settings, true, loopback, "443"), std::nullopt) << loopback;
  }
  settings.https_proxy.clear();
  EXPECT_EQ(ProxyFor(settings, true, "api.xero.com", "443"), std::nullopt);
}

}  // namespace
}  // namespace concord::connectors
