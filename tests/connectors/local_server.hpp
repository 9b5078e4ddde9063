#pragma once
// A tiny in-process HTTP/1.1 server (plain or TLS) on 127.0.0.1 for the HTTP client tests:
// runs on its own thread, answers through a handler, and records what it saw.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace concord::connectors::testing {

struct Reply {
  boost::beast::http::response<boost::beast::http::string_body> response;
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool drop_after = false;             // close the connection after answering, without saying so
};

struct SeenRequest {
  std::string method;  // "GET", "CONNECT", ...
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  int connection = 0;       // 1 for the first accepted connection, 2 for the next, ...
  std::string server_name;  // TLS SNI, empty for plain HTTP or when none was sent

  std::string Header(std::string_view name) const;
};

class LocalServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  // tls: serve HTTPS with this context (it must outlive the server); nullptr: plain HTTP.
  explicit LocalServer(Handler handler, boost::asio::ssl::context* tls = nullptr);
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  unsigned short Port() const { return port_; }
  std::vector<SeenRequest> Seen() const;
  int Connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
};

// A tiny forward proxy on 127.0.0.1, on its own thread, for the proxy tests. Whatever host a
// request names, it connects to 127.0.0.1:<origin_port>, so tests can use names that do not
// resolve (the client must leave resolving the origin to the proxy). CONNECT opens a tunnel
// (200, then bytes both ways); a request in absolute form is forwarded in origin form and its
// answer sent back. With required_authorization set, a request without that exact
// Proxy-Authorization gets 407 and the connection is closed.
class LocalProxy {
 public:
  explicit LocalProxy(unsigned short origin_port, std::string required_authorization = {});
  ~LocalProxy();
  LocalProxy(const LocalProxy&) = delete;
  LocalProxy& operator=(const LocalProxy&) = delete;

  unsigned short Port() const { return port_; }
  // Every request the proxy read: target is "host:port" for CONNECT, else the request target
  // as sent (absolute form from a well-behaved client); method is "CONNECT", "GET", ...
  std::vector<SeenRequest> Seen() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
};

// A self-signed certificate and its key, both PEM, valid for the given subjectAltName
// (e.g. "DNS:localhost,IP:127.0.0.1").
struct SelfSigned {
  std::string cert_pem;
  std::string key_pem;
};
SelfSigned MakeSelfSigned(const std::string& subject_alt_name);

// A server-side TLS context using the certificate.
boost::asio::ssl::context ServerTlsContext(const SelfSigned& identity);

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace concord::connectors::testing
