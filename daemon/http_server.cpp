#include "daemon/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace concord::daemon {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 4 * 1024 * 1024;

http::response<http::string_body> ToBeast(const ApiResponse& api, unsigned version,
                                          bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(api.status), version};
  res.set(http::field::server, "concord");
  if (!api.content_type.empty()) res.set(http::field::content_type, api.content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = api.body;
  res.prepare_payload();
  return res;
}

ApiResponse Refusal(int status, std::string_view code, std::string_view message) {
  ApiResponse r;
  r.status = status;
  r.body = ErrorBody(code, message);
  r.route = "unmatched";
  return r;
}

asio::awaitable<void> Session(beast::tcp_stream stream, asio::thread_pool& workers,
                              HttpServerSettings settings, const HttpHandler& handler,
                              std::shared_ptr<std::atomic<bool>> stopping,
                              std::shared_ptr<std::atomic<int>> connections) {
  struct Count {
    std::shared_ptr<std::atomic<int>> n;
    ~Count() { --*n; }
  } count{connections};
  std::string peer;
  {
    boost::system::error_code ec;
    auto endpoint = stream.socket().remote_endpoint(ec);
    if (!ec) peer = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(settings.header_limit));
    parser.body_limit(settings.body_limit);
    // One deadline for the whole request: a client trickling bytes is cut off too.
    stream.expires_after(first || buffer.size() > 0 ? settings.read_timeout
                                                    : settings.idle_timeout);
    first = false;
    auto [ec, bytes] = co_await http::async_read(stream, buffer, parser, kAwait);
    (void)bytes;
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout) {
      break;
    }
    std::optional<ApiResponse> refusal;
    if (ec == http::error::body_limit) {
      refusal =
          Refusal(413, "body_too_large",
                  "the body is larger than " + std::to_string(settings.body_limit) + " bytes");
    } else if (ec == http::error::header_limit) {
      refusal = Refusal(431, "headers_too_large", "the request headers are too large");
    } else if (ec) {
      refusal = Refusal(400, "bad_request", "the request is not valid HTTP/1.1");
    }
    if (refusal) {
      auto res = ToBeast(*refusal, 11, false);
      stream.expires_after(settings.write_timeout);
      co_await http::async_write(stream, res, kAwait);
      // Lingering close: closing with the rest of the body unread would reset the connection
      // and could destroy the response before the client reads it. Drain for a moment.
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream.expires_after(kLingerTime);
      std::size_t drained = 0;
      char sink[16 * 1024];
      while (drained < kLingerBytes) {
        auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), kAwait);
        if (read_ec) break;
        drained += n;
      }
      co_return;
    }
    auto req = parser.release();
    ApiRequest api{std::string(req.method_string()),
                   std::string(req.target()),
                   std::string(req[http::field::authorization]),
                   std::move(req.body()),
                   std::string(req["x-xero-signature"]),
                   std::string(req["intuit-signature"])};
    // The handler may block on the database: run it on a worker, resume here after.
    auto response = co_await asio::co_spawn(
        workers, [&]() -> asio::awaitable<ApiResponse> { co_return handler(api, peer); },
        asio::use_awaitable);
    const bool keep_alive = req.keep_alive() && !stopping->load();
    auto res = ToBeast(response, req.version(), keep_alive);
    stream.expires_after(settings.write_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, kAwait);
    (void)written;
    if (write_ec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, asio::thread_pool& workers,
                       HttpServerSettings settings, HttpHandler handler)
    : ioc_(ioc),
      workers_(workers),
      settings_(std::move(settings)),
      handler_(std::move(handler)),
      acceptor_(ioc) {
  tcp::endpoint endpoint(asio::ip::make_address(settings_.address), settings_.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

unsigned short HttpServer::Port() const { return acceptor_.local_endpoint().port(); }

void HttpServer::Start() {
  asio::co_spawn(
      ioc_,
      [this]() -> asio::awaitable<void> {
        while (acceptor_.is_open()) {
          auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
          if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
            continue;  // e.g. out of file descriptors: try the next one
          }
          if (connections_->load() >= settings_.max_connections) {
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
          }
          ++*connections_;
          asio::co_spawn(ioc_,
                         Session(beast::tcp_stream(std::move(socket)), workers_, settings_,
                                 handler_, stopping_, connections_),
                         asio::detached);
        }
      },
      asio::detached);
}

void HttpServer::Stop() {
  stopping_->store(true);
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace concord::daemon
