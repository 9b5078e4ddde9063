#pragma once
// Outbound HTTP/1.1 for the connectors: a blocking GET for the sync job, asynchronous inside
// (Beast over Asio) so that every request has a deadline that covers connect, TLS handshake,
// write and read. https:// verifies the server's certificate chain and host name.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/source.hpp"

namespace concord::connectors {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string url;      // absolute http:// or https:// URL, already percent-encoded
  HttpHeaders headers;  // sent as given, after Host and User-Agent
  std::chrono::milliseconds timeout{30'000};       // connect to last byte
  std::size_t max_body_bytes = 256 * 1024 * 1024;  // a larger body is a FetchError
  // Present: the request is a POST with this body (the caller sets Content-Type), e.g. an
  // OAuth2 token request. Absent: a GET.
  std::optional<std::string> body;
};

struct HttpResponse {
  int status = 0;
  std::string reason;   // the reason phrase as the server sent it
  HttpHeaders headers;  // every response header, in order received
  std::string body;

  // The first header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  bool Ok() const { return status >= 200 && status < 300; }
};

// A transport failure (the FetchError HttpTransport::Get throws). transient() is true for what
// a retry may cure: a timeout, a connection reset or closed mid-exchange (a body cut short
// included). It is false for a bad URL, DNS failure, refused connection, TLS failure, malformed
// or oversized reply.
class TransportError : public FetchError {
 public:
  TransportError(const std::string& message, bool transient)
      : FetchError(message), transient_(transient) {}
  bool transient() const noexcept { return transient_; }

 private:
  bool transient_;
};

// The one thing a connector needs from HTTP. HttpClient is the real one; tests substitute a
// scripted fake to check paging and headers without a network.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any status is a response, not an error. Throws TransportError naming the URL and the
  // cause on transport failures: bad URL, DNS, connect, timeout, TLS, malformed or oversized
  // reply.
  virtual HttpResponse Get(const HttpRequest& request) = 0;
};

// How a source waits before a retry. Empty: std::this_thread::sleep_for. Tests pass one
// that records the waits instead.
using SleepFunction = std::function<void(std::chrono::milliseconds)>;

// Keeps one connection alive and reuses it while requests go to the same scheme, host and
// port (the pages of one fetch); a kept connection the server closed meanwhile is replaced
// and the GET sent again once. Not thread-safe: one client per fetching thread.
//
// Proxies (settings.proxy, connectors/http_proxy.hpp): an https:// request goes through an
// HTTP CONNECT tunnel, then TLS to the origin (SNI and certificate checked against the origin,
// never the proxy); an http:// request is sent to the proxy in absolute form. Credentials in
// the proxy URL are sent as Proxy-Authorization and never appear in errors. A proxy refusing
// CONNECT is a TransportError naming the proxy and its status (transient for 502/503/504).
//
// Limits: the request timeout covers connect, CONNECT, TLS handshake, write and read; name
// resolution is bounded only by the system resolver's own timeouts. No compression, no
// redirects (a 3xx is returned as a response).
class HttpClient final : public HttpTransport {
 public:
  // Throws std::invalid_argument (ParseProxyUrl's message) when a proxy URL is unusable.
  explicit HttpClient(HttpSettings settings);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse Get(const HttpRequest& request) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "concord/<version>", sent as User-Agent on every request.
std::string_view UserAgent();

}  // namespace concord::connectors
