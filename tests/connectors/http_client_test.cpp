// HttpClient against in-process servers on 127.0.0.1: headers, keep-alive, timeouts,
// transport errors and TLS verification. Loopback only; no outside network.

#include "connectors/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/field.hpp>
#include <chrono>
#include <stdexcept>

#include "local_server.hpp"

namespace concord::connectors {
namespace {

namespace http = boost::beast::http;
using testing::LocalServer;
using testing::Reply;
using testing::SeenRequest;

Reply Text(http::status status, std::string body) {
  Reply reply;
  reply.response.result(status);
  reply.response.set(http::field::content_type, "text/plain");
  reply.response.body() = std::move(body);
  return reply;
}

LocalServer::Handler Echo() {
  return [](const SeenRequest& seen) {
    Reply reply = Text(http::status::ok, "hello " + seen.target);
    reply.response.set("X-Request-Target", seen.target);
    return reply;
  };
}

HttpRequest To(const std::string& url,
               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  HttpRequest request;
  request.url = url;
  request.timeout = timeout;
  return request;
}

std::string ExpectFetchError(HttpClient& client, const HttpRequest& request,
                             std::optional<bool> transient = std::nullopt) {
  try {
    (void)client.Get(request);
  } catch (const TransportError& error) {
    if (transient) {
      EXPECT_EQ(error.transient(), *transient) << error.what();
    }
    return error.what();
  }
  ADD_FAILURE() << "expected a FetchError for " << request.url;
  return {};
}

// A port on 127.0.0.1 that nothing listens on (bound, then released).
unsigned short ClosedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(HttpClient, SendsHostUserAgentAndHeadersAndReturnsTheResponse) {
  LocalServer server(Echo());
  HttpClient client(HttpSettings{});
  const std::string base = "http://127.0.0.1:" + std::to_string(server.Port());
  HttpRequest request = To(base + "/a/b?x=%20y");
  request.headers = {{"Authorization", "Bearer t"}, {"Accept", "application/json"}};
  const HttpResponse response = client.Get(request);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.reason, "OK");
  EXPECT_TRUE(response.Ok());
  EXPECT_EQ(response.body, "hello /a/b?x=%20y");
  EXPECT_EQ(response.Header("x-request-target"), "/a/b?x=%20y") << "case-insensitive lookup";
  EXPECT_EQ(response.Header("Content-Type"), "text/plain");
  EXPECT_EQ(response.Header("X-Missing"), std::nullopt);

  const auto seen = server.Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("Host"), "127.0.0.1:" + std::to_string(server.Port()));
  EXPECT_EQ(seen[0].Header("User-Agent"), std::string("concord/") + CONCORD_VERSION);
  EXPECT_EQ(std::string(UserAgent()), std::string("concord/") + CONCORD_VERSION);
  EXPECT_EQ(seen[0].Header("Authorization"), "Bearer t");
  EXPECT_EQ(seen[0].Header("Accept"), "application/json");
}

TEST(HttpClient, ErrorStatusesAreResponsesNotExceptions) {
  LocalServer server([](const SeenRequest&) { return Text(http::status::unauthorized, "no"); });
  HttpClient client(HttpSettings{});
  const HttpResponse response =
      client.Get(To("http://127.0.0.1:" + std::to_string(server.Port()) + "/"));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.reason, "Unauthorized");
  EXPECT_FALSE(response.Ok());
}

TEST(HttpClient, KeepsTheConnectionAliveAcrossRequests) {
  LocalServer server(Echo());
  HttpClient client(HttpSettings{});
  const std::string base = "http://127.0.0.1:" + std::to_string(server.Port());
  for (int page = 1; page <= 4; ++page) {
    EXPECT_EQ(client.Get(To(base + "/p" + std::to_string(page))).body,
              "hello /p" + std::to_string(page));
  }
  EXPECT_EQ(server.Connections(), 1);
}

TEST(HttpClient, ReconnectsWhenTheServerClosed) {
  int count = 0;
  LocalServer server([&count](const SeenRequest& seen) {
    Reply reply = Text(http::status::ok, seen.target);
    // First: says "close". Second: closes silently after answering (an idle keep-alive
    // connection dropped by the server); the third request must still succeed.
    if (++count == 1) reply.response.keep_alive(false);
    if (count == 2) reply.drop_after = true;
    return reply;
  });
  HttpClient client(HttpSettings{});
  const std::string base = "http://127.0.0.1:" + std::to_string(server.Port());
  EXPECT_EQ(client.Get(To(base + "/1")).body, "/1");
  EXPECT_EQ(client.Get(To(base + "/2")).body, "/2");
  EXPECT_EQ(client.Get(To(base + "/3")).body, "/3");
  EXPECT_EQ(server.Connections(), 3);
}

TEST(HttpClient, TimeoutIsAFetchErrorNamingTheUrl) {
  LocalServer server([](const SeenRequest&) {
    Reply reply = Text(http::status::ok, "late");
    reply.delay = std::chrono::milliseconds(3000);
    return reply;
  });
  HttpClient client(HttpSettings{});
  const std::string url = "http://127.0.0.1:" + std::to_string(server.Port()) + "/slow";
  const auto started = std::chrono::steady_clock::now();
  const std::string message =
      ExpectFetchError(client, To(url, std::chrono::milliseconds(300)), /*transient=*/true);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_NE(message.find(url), std::string::npos) << message;
  EXPECT_NE(message.find("timed out after 300 ms"), std::string::npos) << message;
}

TEST(HttpClient, ConnectionRefusedIsAFetchError) {
  HttpClient client(HttpSettings{});
  const std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x";
  const std::string message = ExpectFetchError(client, To(url), /*transient=*/false);
  EXPECT_NE(message.find("GET " + url), std::string::npos) << message;
  EXPECT_NE(message.find("connect"), std::string::npos) << message;
  EXPECT_NE(message.find("refused"), std::string::npos) << message;
}

TEST(HttpClient, UnknownHostIsAFetchError) {
  HttpClient client(HttpSettings{});
  // .invalid never resolves (RFC 2606).
  const std::string message = ExpectFetchError(client, To("http://concord-test.invalid/"));
  EXPECT_NE(message.find("resolve concord-test.invalid"), std::string::npos) << message;
}

TEST(HttpClient, BadUrlsAreFetchErrors) {
  HttpClient client(HttpSettings{});
  EXPECT_NE(ExpectFetchError(client, To("not a url")).find("invalid URL"), std::string::npos);
  EXPECT_NE(ExpectFetchError(client, To("ftp://127.0.0.1/x")).find("unsupported URL scheme"),
            std::string::npos);
}

TEST(HttpClient, OversizedBodyIsAFetchError) {
  LocalServer server(
      [](const SeenRequest&) { return Text(http::status::ok, std::string(5000, 'x')); });
  HttpClient client(HttpSettings{});
  HttpRequest request = To("http://127.0.0.1:" + std::to_string(server.Port()) + "/big");
  request.max_body_bytes = 1000;
  EXPECT_NE(ExpectFetchError(client, request).find("read"), std::string::npos);
}

TEST(HttpClientTls, MissingCaFileIsAFetchErrorNamingIt) {
  HttpClient client(HttpSettings{.ca_file = "/nonexistent/concord-ca.pem"});
  const std::string message = ExpectFetchError(client, To("https://127.0.0.1:1/x"));
  EXPECT_NE(message.find("https://127.0.0.1:1/x"), std::string::npos) << message;
  EXPECT_NE(message.find("/nonexistent/concord-ca.pem"), std::string::npos) << message;
}

class HttpClientTlsServer : public ::testing::Test {
 protected:
  testing::ScratchDir dir_;
  testing::SelfSigned identity_ = testing::MakeSelfSigned("DNS:localhost,IP:127.0.0.1");
  boost::asio::ssl::context tls_ = testing::ServerTlsContext(identity_);
  LocalServer server_{Echo(), &tls_};
  std::string ca_file_ = dir_.Write("ca.pem", identity_.cert_pem);

  std::string Url(const std::string& host) const {
    return "https://" + host + ":" + std::to_string(server_.Port()) + "/secure";
  }
};

TEST_F(HttpClientTlsServer, VerifiesAgainstTheCaFileAndSendsSni) {
  HttpClient client(HttpSettings{.ca_file = ca_file_});
  const HttpResponse first = client.Get(To(Url("localhost")));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "hello /secure");
  EXPECT_EQ(client.Get(To(Url("localhost"))).body, "hello /secure");
  const auto seen = server_.Seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].server_name, "localhost");
  EXPECT_EQ(server_.Connections(), 1) << "the TLS connection is reused";
}

TEST_F(HttpClientTlsServer, VerifiesIpAddressesWithoutSni) {
  HttpClient client(HttpSettings{.ca_file = ca_file_});
  EXPECT_EQ(client.Get(To(Url("127.0.0.1"))).status, 200);
  EXPECT_EQ(server_.Seen().at(0).server_name, "");
}

TEST_F(HttpClientTlsServer, RejectsAnUntrustedCertificate) {
  HttpClient client(HttpSettings{});  // the system store does not know our self-signed CA
  const std::string message = ExpectFetchError(client, To(Url("localhost")));
  EXPECT_NE(message.find("TLS handshake with localhost"), std::string::npos) << message;
  EXPECT_NE(message.find("certificate"), std::string::npos) << message;
}

TEST(HttpClientTls, RejectsACertificateForAnotherHost) {
  testing::ScratchDir dir;
  const testing::SelfSigned identity = testing::MakeSelfSigned("DNS:other.example");
  boost::asio::ssl::context tls = testing::ServerTlsContext(identity);
  LocalServer server(Echo(), &tls);
  HttpClient client(HttpSettings{.ca_file = dir.Write("ca.pem", identity.cert_pem)});
  const std::string message =
      ExpectFetchError(client, To("https://localhost:" + std::to_string(server.Port()) + "/"));
  EXPECT_NE(message.find("TLS handshake"), std::string::npos) << message;
  EXPECT_NE(message.find("hostname mismatch"), std::string::npos) << message;
}

// The proxy tests name the origin "origin.invalid", which never resolves (RFC 6761): only the
// proxy, which maps every name to its origin port, can reach it.
constexpr const char* kOriginName = "origin.invalid";

HttpSettings ThroughProxy(const testing::LocalProxy& proxy, std::string userinfo = {}) {
  HttpSettings settings;
  const std::string url = "http://" + userinfo + "127.0.0.1:" + std::to_string(proxy.Port());
  settings.proxy.https_proxy = url;
  settings.proxy.http_proxy = url;
  return settings;
}

TEST(HttpClientProxy, HttpGoesToTheProxyInAbsoluteFormWithItsCredentials) {
  LocalServer origin(Echo());
  testing::LocalProxy proxy(origin.Port(), "Basic dXNlcjpwQHNz");  // user:p@ss
  HttpClient client(ThroughProxy(proxy, "user:p%40ss@"));
  const std::string base = "http://" + std::string(kOriginName) + ":8080";
  EXPECT_EQ(client.Get(To(base + "/a/b?x=1")).body, "hello /a/b?x=1");
  EXPECT_EQ(client.Get(To(base + "/c")).body, "hello /c");

  const auto via = proxy.Seen();
  ASSERT_EQ(via.size(), 2u);
  EXPECT_EQ(via[0].method, "GET");
  EXPECT_EQ(via[0].target, base + "/a/b?x=1") << "absolute form";
  EXPECT_EQ(via[0].Header("Host"), std::string(kOriginName) + ":8080");
  EXPECT_EQ(via[0].Header("Proxy-Authorization"), "Basic dXNlcjpwQHNz");
  const auto seen = origin.Seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/a/b?x=1");
  EXPECT_EQ(seen[0].Header("User-Agent"), std::string("concord/") + CONCORD_VERSION);
}

TEST(HttpClientProxy, LoopbackAndNoProxyHostsAreReachedDirectly) {
  LocalServer origin(Echo());
  testing::LocalProxy proxy(origin.Port());
  HttpSettings settings = ThroughProxy(proxy);
  settings.proxy.no_proxy = "example.com, ." + std::string(kOriginName);
  HttpClient client(settings);
  const std::string loopback = "http://127.0.0.1:" + std::to_string(origin.Port()) + "/direct";
  EXPECT_EQ(client.Get(To(loopback)).body, "hello /direct");
  // Exempted: the client resolves the name itself, which fails, instead of asking the proxy.
  const std::string message =
      ExpectFetchError(client, To("http://" + std::string(kOriginName) + "/x"));
  EXPECT_NE(message.find(std::string("resolve ") + kOriginName), std::string::npos) << message;
  EXPECT_TRUE(proxy.Seen().empty());
}

TEST(HttpClientProxy, ARefusedConnectNamesTheProxyAndStatusButNoCredentials) {
  LocalServer origin(Echo());
  testing::LocalProxy proxy(origin.Port(), "Basic dXNlcjpwQHNz");
  HttpClient client(ThroughProxy(proxy, "user:wrong-secret@"));
  const std::string url = "https://" + std::string(kOriginName) + "/x";
  const std::string message = ExpectFetchError(client, To(url), /*transient=*/false);
  const std::string named = "http://127.0.0.1:" + std::to_string(proxy.Port());
  EXPECT_NE(message.find("GET " + url + " failed: proxy " + named + " refused CONNECT " +
                         kOriginName + ":443: 407 Proxy Authentication Required"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("wrong-secret"), std::string::npos) << message;
  const auto via = proxy.Seen();
  ASSERT_EQ(via.size(), 1u);
  EXPECT_EQ(via[0].method, "CONNECT");
  EXPECT_EQ(via[0].target, std::string(kOriginName) + ":443");
  EXPECT_EQ(via[0].Header("User-Agent"), std::string("concord/") + CONCORD_VERSION);
  EXPECT_TRUE(origin.Seen().empty());
}

TEST(HttpClientProxy, AnUnreachableProxyIsNamed) {
  HttpSettings settings;
  settings.proxy.https_proxy = "http://u:secret@127.0.0.1:" + std::to_string(ClosedPort());
  HttpClient client(settings);
  const std::string message = ExpectFetchError(client, To("https://origin.invalid/x"));
  EXPECT_NE(message.find("connect to proxy http://127.0.0.1:"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

TEST(HttpClientProxy, AnUnusableProxyUrlFailsConstructionWithoutItsCredentials) {
  HttpSettings settings;
  settings.proxy.https_proxy = "socks5://u:secret@proxy.example:1080";
  try {
    HttpClient client(settings);
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("socks5"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  }
}

class HttpClientProxyTls : public ::testing::Test {
 protected:
  testing::ScratchDir dir_;
  testing::SelfSigned identity_ = testing::MakeSelfSigned(std::string("DNS:") + kOriginName);
  boost::asio::ssl::context tls_ = testing::ServerTlsContext(identity_);
  LocalServer origin_{Echo(), &tls_};
  std::string ca_file_ = dir_.Write("ca.pem", identity_.cert_pem);
};

TEST_F(HttpClientProxyTls, HttpsTunnelsThroughConnectAndVerifiesTheOrigin) {
  testing::LocalProxy proxy(origin_.Port(), "Basic dXNlcjpwQHNz");
  HttpSettings settings = ThroughProxy(proxy, "user:p%40ss@");
  settings.ca_file = ca_file_;
  HttpClient client(settings);
  const std::string url = "https://" + std::string(kOriginName) + "/secure?page=1";
  const HttpResponse response = client.Get(To(url));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello /secure?page=1");
  EXPECT_EQ(client.Get(To(url)).body, "hello /secure?page=1");

  const auto via = proxy.Seen();
  ASSERT_EQ(via.size(), 1u) << "one tunnel, kept alive for the second request";
  EXPECT_EQ(via[0].method, "CONNECT");
  EXPECT_EQ(via[0].target, std::string(kOriginName) + ":443");
  EXPECT_EQ(via[0].Header("Host"), std::string(kOriginName) + ":443");
  EXPECT_EQ(via[0].Header("Proxy-Authorization"), "Basic dXNlcjpwQHNz");
  const auto seen = origin_.Seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].server_name, kOriginName) << "SNI names the origin";
  EXPECT_EQ(seen[0].target, "/secure?page=1") << "origin form inside the tunnel";
  EXPECT_EQ(seen[0].Header("Proxy-Authorization"), "") << "credentials stay with the proxy";
}

TEST(HttpClientProxyTlsMismatch, TheOriginsCertificateMustNameTheOrigin) {
  testing::ScratchDir dir;
  // Valid for the proxy's address, not for the origin's name.
  const testing::SelfSigned identity = testing::MakeSelfSigned("DNS:localhost,IP:127.0.0.1");
  boost::asio::ssl::context tls = testing::ServerTlsContext(identity);
  LocalServer origin(Echo(), &tls);
  testing::LocalProxy proxy(origin.Port());
  HttpSettings settings = ThroughProxy(proxy);
  settings.ca_file = dir.Write("ca.pem", identity.cert_pem);
  HttpClient client(settings);
  const std::string message =
      ExpectFetchError(client, To("https://" + std::string(kOriginName) + "/"));
  EXPECT_NE(message.find(std::string("TLS handshake with ") + kOriginName), std::string::npos)
      << message;
  EXPECT_NE(message.find("hostname mismatch"), std::string::npos) << message;
}

}  // namespace
}  // namespace concord::connectors
