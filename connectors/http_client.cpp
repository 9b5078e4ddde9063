#include "connectors/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <exception>
#include <utility>

#include "connectors/http_proxy.hpp"

#ifndef CONCORD_VERSION
#error "CONCORD_VERSION must be defined by the build (PROJECT_VERSION)"
#endif

namespace concord::connectors {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::uint32_t kHeaderLimitBytes = 64 * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// A failure no retry will cure: a bad URL, a TLS set-up problem.
TransportError Permanent(const std::string& message) { return TransportError(message, false); }

// Where a URL says to connect, and what to ask for once connected.
struct Endpoint {
  bool tls = false;
  bool ip_literal = false;
  std::string host;            // DNS name or IP address, without IPv6 brackets
  std::string port;            // explicit or the scheme's default
  std::string host_header;     // host[:port] as written in the URL
  std::string target;          // origin-form: path and query
  std::optional<Proxy> proxy;  // set by HttpClient from its ProxySettings

  // What a kept connection must match to be reused: the origin, and the proxy in between.
  std::string Key() const {
    return (tls ? "https://" : "http://") + host_header + (proxy ? " via " + proxy->display : "");
  }
  // host:port as CONNECT names it (RFC 9110 §9.3.6), IPv6 in brackets.
  std::string Authority() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  }
  // What the request line asks for: origin-form, or absolute-form to a plain-HTTP proxy.
  std::string RequestTarget() const {
    return proxy && !tls ? "http://" + host_header + target : target;
  }
};

Endpoint ParseEndpoint(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw Permanent("GET " + url + " failed: invalid URL: " + parsed.error().message());
  const boost::urls::url_view view = *parsed;
  Endpoint endpoint;
  if (view.scheme_id() == boost::urls::scheme::https) {
    endpoint.tls = true;
  } else if (view.scheme_id() != boost::urls::scheme::http) {
    throw Permanent("GET " + url + " failed: unsupported URL scheme '" +
                    std::string(view.scheme()) + "' (http and https only)");
  }
  endpoint.host = view.host_address();
  if (endpoint.host.empty()) throw Permanent("GET " + url + " failed: the URL has no host");
  endpoint.ip_literal = view.host_type() == boost::urls::host_type::ipv4 ||
                        view.host_type() == boost::urls::host_type::ipv6;
  endpoint.port = view.has_port() ? std::string(view.port()) : (endpoint.tls ? "443" : "80");
  endpoint.host_header = view.encoded_host_and_port();
  endpoint.target = view.encoded_target();
  if (endpoint.target.empty() || endpoint.target.front() != '/') {
    endpoint.target.insert(0, "/");
  }
  return endpoint;
}

// A transport failure inside the exchange, turned into a TransportError naming the URL by Get.
struct TransportFailure {
  std::string step;  // "resolve", "connect", "TLS handshake", "write", "read"
  beast::error_code error;
  std::string detail;       // extra words, e.g. the certificate verification result
  bool exchanging = false;  // failed while writing the request or reading the response

  // Worth another try: the network or the server hiccupped, nothing says it will again.
  bool Transient() const {
    return error == beast::error::timeout ||
           (exchanging &&
            (error == http::error::end_of_stream || error == http::error::partial_message ||
             error == asio::error::eof || error == asio::error::connection_reset ||
             error == asio::error::connection_aborted || error == asio::error::broken_pipe ||
             error == ssl::error::stream_truncated));
  }
};

// A kept-alive connection the server closed before answering: safe to redo the GET once.
struct StaleConnection {};

struct Connection {
  std::string key;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

bool IsPeerClose(const beast::error_code& error) {
  return error == http::error::end_of_stream || error == asio::error::eof ||
         error == asio::error::connection_reset || error == asio::error::broken_pipe ||
         error == ssl::error::stream_truncated;
}

std::string VerifyDetail(TlsStream& stream) {
  const long result = SSL_get_verify_result(stream.native_handle());
  if (result == X509_V_OK) return {};
  return std::string("certificate verification: ") + X509_verify_cert_error_string(result);
}

template <class Stream>
asio::awaitable<void> WriteAndRead(Stream& stream, beast::tcp_stream& lowest,
                                   Clock::time_point deadline, beast::flat_buffer& buffer,
                                   http::request<http::string_body>& message,
                                   http::response_parser<http::string_body>& parser, bool reused) {
  beast::error_code error;
  lowest.expires_at(deadline);
  co_await http::async_write(stream, message, asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    if (reused && IsPeerClose(error)) throw StaleConnection{};
    throw TransportFailure{"write", error, {}, true};
  }
  lowest.expires_at(deadline);
  co_await http::async_read(stream, buffer, parser,
                            asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    if (reused && !parser.got_some() && IsPeerClose(error)) throw StaleConnection{};
    throw TransportFailure{"read", error, {}, true};
  }
}

}  // namespace

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view UserAgent() { return "concord/" CONCORD_VERSION; }

class HttpClient::Impl {
 public:
  explicit Impl(HttpSettings settings) : settings_(std::move(settings)) {
    // Unusable proxy URLs fail construction (naming the URL without credentials), not the
    // first request.
    for (const std::string* url : {&settings_.proxy.https_proxy, &settings_.proxy.http_proxy}) {
      if (!url->empty()) (void)ParseProxyUrl(*url);
    }
  }

  HttpResponse Get(const HttpRequest& request) {
    Endpoint endpoint = ParseEndpoint(request.url);
    endpoint.proxy = ProxyFor(settings_.proxy, endpoint.tls, endpoint.host, endpoint.port);
    const Clock::time_point deadline = Clock::now() + request.timeout;
    const bool reuse = connection_ && connection_->key == endpoint.Key();
    if (!reuse) connection_.reset();
    try {
      try {
        return Run(request, endpoint, deadline, reuse);
      } catch (const StaleConnection&) {
        connection_.reset();
        return Run(request, endpoint, deadline, false);
      }
    } catch (const TransportFailure& failure) {
      connection_.reset();
      std::string message = (request.body ? "POST " : "GET ") + request.url + " failed: ";
      if (failure.error == beast::error::timeout) {
        message += "timed out after " + std::to_string(request.timeout.count()) + " ms (during " +
                   failure.step + ")";
      } else {
        message += failure.step + ": " + failure.error.message();
      }
      if (!failure.detail.empty()) message += " (" + failure.detail + ")";
      throw TransportError(message, failure.Transient());
    } catch (...) {
      connection_.reset();
      throw;
    }
  }

 private:
  HttpResponse Run(const HttpRequest& request, const Endpoint& endpoint, Clock::time_point deadline,
                   bool reuse) {
    std::exception_ptr failure;
    HttpResponse response;
    asio::co_spawn(io_, Exchange(request, endpoint, deadline, reuse),
                   [&](std::exception_ptr error, HttpResponse result) {
                     failure = error;
                     response = std::move(result);
                   });
    io_.restart();
    io_.run();
    if (failure) std::rethrow_exception(failure);
    return response;
  }

  // Runs to completion inside Run's io_.run(), so the references stay valid throughout.
  asio::awaitable<HttpResponse> Exchange(const HttpRequest& request, const Endpoint& endpoint,
                                         Clock::time_point deadline, bool reuse) {
    if (!reuse) co_await Connect(request, endpoint, deadline);
    Connection& connection = *connection_;

    http::request<http::string_body> message{request.body ? http::verb::post : http::verb::get,
                                             endpoint.RequestTarget(), 11};
    message.set(http::field::host, endpoint.host_header);
    message.set(http::field::user_agent, UserAgent());
    if (endpoint.proxy && !endpoint.tls && !endpoint.proxy->authorization.empty()) {
      message.set(http::field::proxy_authorization, endpoint.proxy->authorization);
    }
    for (const auto& [name, value] : request.headers) message.set(name, value);
    if (request.body) {
      message.body() = *request.body;
      message.prepare_payload();
    }
    message.keep_alive(true);

    http::response_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimitBytes);
    parser.body_limit(request.max_body_bytes);
    if (connection.tls) {
      co_await WriteAndRead(*connection.tls, connection.Lowest(), deadline, connection.buffer,
                            message, parser, reuse);
    } else {
      co_await WriteAndRead(*connection.plain, connection.Lowest(), deadline, connection.buffer,
                            message, parser, reuse);
    }

    auto reply = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(reply.result_int());
    response.reason = std::string(reply.reason());
    if (response.reason.empty())
      response.reason = std::string(http::obsolete_reason(reply.result()));
    for (const auto& field : reply) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (!reply.keep_alive()) connection_.reset();
    response.body = std::move(reply.body());  // pages run to megabytes: no copy
    co_return response;
  }

  asio::awaitable<void> Connect(const HttpRequest& request, const Endpoint& endpoint,
                                Clock::time_point deadline) {
    const auto executor = co_await asio::this_coro::executor;
    beast::error_code error;
    // Through a proxy, only the proxy's name is resolved here; the proxy resolves the origin.
    const Proxy* proxy = endpoint.proxy ? &*endpoint.proxy : nullptr;
    const std::string& peer_host = proxy ? proxy->host : endpoint.host;
    const std::string& peer_port = proxy ? proxy->port : endpoint.port;
    const std::string peer_name =
        proxy ? "proxy " + proxy->display : endpoint.host + ":" + peer_port;
    // The system resolver cannot be interrupted; its own timeouts bound this step.
    tcp::resolver resolver(executor);
    const auto addresses = co_await resolver.async_resolve(
        peer_host, peer_port, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      throw TransportFailure{
          proxy ? "resolve " + peer_name : "resolve " + endpoint.host, error, {}};
    }

    Connection connection;
    connection.key = endpoint.Key();
    if (endpoint.tls) {
      connection.tls = std::make_unique<TlsStream>(executor, TlsContext(request.url));
      SSL* native = connection.tls->native_handle();
      // SNI carries host names only, never an address literal (RFC 6066 §3).
      if (!endpoint.ip_literal && SSL_set_tlsext_host_name(native, endpoint.host.c_str()) != 1) {
        throw Permanent("GET " + request.url + " failed: cannot set TLS SNI host name");
      }
      X509_VERIFY_PARAM* verify = SSL_get0_param(native);
      X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int named = endpoint.ip_literal
                            ? X509_VERIFY_PARAM_set1_ip_asc(verify, endpoint.host.c_str())
                            : X509_VERIFY_PARAM_set1_host(verify, endpoint.host.c_str(), 0);
      if (named != 1) {
        throw Permanent("GET " + request.url + " failed: cannot set TLS peer name");
      }
      connection.tls->set_verify_mode(ssl::verify_peer);
    } else {
      connection.plain = std::make_unique<beast::tcp_stream>(executor);
    }

    beast::tcp_stream& lowest = connection.Lowest();
    lowest.expires_at(deadline);
    co_await lowest.async_connect(addresses, asio::redirect_error(asio::use_awaitable, error));
    if (error) throw TransportFailure{"connect to " + peer_name, error, {}};
    if (proxy && endpoint.tls) {
      co_await OpenTunnel(request, endpoint, *proxy, lowest, connection.buffer, deadline);
    }
    if (connection.tls) {
      lowest.expires_at(deadline);
      co_await connection.tls->async_handshake(ssl::stream_base::client,
                                               asio::redirect_error(asio::use_awaitable, error));
      if (error) {
        throw TransportFailure{"TLS handshake with " + endpoint.host, error,
                               VerifyDetail(*connection.tls)};
      }
    }
    connection_ = std::move(connection);
  }

  // Asks the proxy for a tunnel to the origin (HTTP CONNECT); the TLS handshake that follows
  // runs through it end to end, verifying the origin's name, not the proxy's.
  asio::awaitable<void> OpenTunnel(const HttpRequest& request, const Endpoint& endpoint,
                                   const Proxy& proxy, beast::tcp_stream& stream,
                                   beast::flat_buffer& buffer, Clock::time_point deadline) {
    const std::string step = "CONNECT " + endpoint.Authority() + " through proxy " + proxy.display;
    http::request<http::empty_body> connect{http::verb::connect, endpoint.Authority(), 11};
    connect.set(http::field::host, endpoint.Authority());
    connect.set(http::field::user_agent, UserAgent());
    if (!proxy.authorization.empty()) {
      connect.set(http::field::proxy_authorization, proxy.authorization);
    }
    beast::error_code error;
    stream.expires_at(deadline);
    co_await http::async_write(stream, connect, asio::redirect_error(asio::use_awaitable, error));
    if (error) throw TransportFailure{step, error, {}, true};

    // A 2xx answer to CONNECT has no body (RFC 9110 §9.3.6) whatever its headers say; any
    // other answer's body is of no use, as the connection is dropped.
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    parser.header_limit(kHeaderLimitBytes);
    stream.expires_at(deadline);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, error));
    if (error) throw TransportFailure{step, error, {}, true};
    const auto& reply = parser.get();
    const unsigned status = reply.result_int();
    if (status / 100 != 2) {
      std::string reason(reply.reason());
      if (reason.empty()) reason = std::string(http::obsolete_reason(reply.result()));
      // A proxy's gateway errors may pass; a refusal (403, 407, ...) will not.
      const bool transient = status == 502 || status == 503 || status == 504;
      throw TransportError("GET " + request.url + " failed: proxy " + proxy.display +
                               " refused CONNECT " + endpoint.Authority() + ": " +
                               std::to_string(status) + (reason.empty() ? "" : " " + reason),
                           transient);
    }
    if (buffer.size() != 0) {
      throw Permanent("GET " + request.url + " failed: proxy " + proxy.display +
                      " sent data after its CONNECT answer, before the TLS handshake");
    }
  }

  // Built on first https use, so a bad CA file fails the request that needs it (naming it)
  // rather than the construction of every client.
  ssl::context& TlsContext(const std::string& url) {
    if (tls_context_) return *tls_context_;
    ssl::context context(ssl::context::tls_client);
    if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
      throw Permanent("GET " + url + " failed: cannot require TLS 1.2");
    }
    context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    beast::error_code error;
    if (!settings_.ca_file.empty()) {
      context.load_verify_file(settings_.ca_file, error);
      if (error) {
        throw Permanent("GET " + url + " failed: cannot load CA file '" + settings_.ca_file +
                        "': " + error.message());
      }
    } else {
      context.set_default_verify_paths(error);
      if (error) {
        throw Permanent("GET " + url +
                        " failed: cannot load the system trust store: " + error.message());
      }
    }
    context.set_verify_mode(ssl::verify_peer);
    tls_context_.emplace(std::move(context));
    return *tls_context_;
  }

  HttpSettings settings_;
  // Declaration order is destruction order in reverse: the connection goes first, then the
  // TLS context it refers to, then the io_context its sockets belong to.
  asio::io_context io_;
  std::optional<ssl::context> tls_context_;
  std::optional<Connection> connection_;
};

HttpClient::HttpClient(HttpSettings settings)
    : impl_(std::make_unique<Impl>(std::move(settings))) {}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::Get(const HttpRequest& request) { return impl_->Get(request); }

}  // namespace concord::connectors
