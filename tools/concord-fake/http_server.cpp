#include "http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>
#include <optional>
#include <utility>

namespace concord::fake {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void LogLine(const std::string& name, std::string_view method, std::string_view target,
             unsigned status) {
  // One fprintf per line so lines from two servers never interleave mid-line.
  std::fprintf(stderr, "%s %.*s %.*s %u\n", name.c_str(), static_cast<int>(method.size()),
               method.data(), static_cast<int>(target.size()), target.data(), status);
}

HttpResponse PlainError(http::status status, std::string_view text) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::connection, "close");
  res.keep_alive(false);
  res.body() = std::string(text) + "\n";
  res.prepare_payload();
  return res;
}

// One connection: read a request with a fresh parser, answer it, write, repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const HttpServerSettings& settings,
          std::shared_ptr<const RequestHandler> handler, std::shared_ptr<const std::string> name)
      : stream_(std::move(socket)),
        settings_(settings),
        handler_(std::move(handler)),
        name_(std::move(name)) {}

  void Run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(settings_.header_limit);
    parser_->body_limit(settings_.body_limit);
    stream_.expires_after(settings_.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return DoClose();
    }
    if (ec == http::error::body_limit) {
      return Send(PlainError(http::status::payload_too_large, "request body too large"), "-", "-");
    }
    if (ec == http::error::header_limit) {
      return Send(PlainError(http::status::request_header_fields_too_large,
                             "request header fields too large"),
                  "-", "-");
    }
    if (ec) {
      if (ec == http::error::partial_message) return DoClose();
      return Send(PlainError(http::status::bad_request, "malformed HTTP request"), "-", "-");
    }
    HttpRequest req = parser_->release();
    HttpResponse res;
    try {
      res = (*handler_)(req);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s handler error: %s\n", name_->c_str(), e.what());
      res = PlainError(http::status::internal_server_error, "internal error in concord-fake");
    }
    Send(std::move(res), std::string(req.method_string()), std::string(req.target()));
  }

  void Send(HttpResponse&& res, const std::string& method, const std::string& target) {
    LogLine(*name_, method, target, res.result_int());
    response_ = std::make_shared<HttpResponse>(std::move(res));
    stream_.expires_after(settings_.write_timeout);
    http::async_write(
        stream_, *response_,
        beast::bind_front_handler(&Session::OnWrite, shared_from_this(), response_->need_eof()));
  }

  void OnWrite(bool close, beast::error_code ec, std::size_t /*bytes*/) {
    response_.reset();
    if (ec || close) return DoClose();
    DoRead();
  }

  void DoClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  HttpServerSettings settings_;
  std::shared_ptr<const RequestHandler> handler_;
  std::shared_ptr<const std::string> name_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;
};

}  // namespace

struct HttpServer::Shared : std::enable_shared_from_this<HttpServer::Shared> {
  Shared(asio::io_context& ioc, HttpServerSettings s, RequestHandler h, std::string n)
      : ioc(ioc),
        acceptor(asio::make_strand(ioc)),
        settings(s),
        handler(std::make_shared<const RequestHandler>(std::move(h))),
        name(std::make_shared<const std::string>(std::move(n))) {}

  void DoAccept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          beast::bind_front_handler(&Shared::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      std::fprintf(stderr, "%s accept error: %s\n", name->c_str(), ec.message().c_str());
    } else {
      std::make_shared<Session>(std::move(socket), settings, handler, name)->Run();
    }
    DoAccept();
  }

  asio::io_context& ioc;
  tcp::acceptor acceptor;
  HttpServerSettings settings;
  std::shared_ptr<const RequestHandler> handler;
  std::shared_ptr<const std::string> name;
};

HttpServer::HttpServer(asio::io_context& ioc, const tcp::endpoint& endpoint,
                       HttpServerSettings settings, RequestHandler handler, std::string name)
    : shared_(std::make_shared<Shared>(ioc, settings, std::move(handler), std::move(name))) {
  tcp::acceptor& acceptor = shared_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

HttpServer::~HttpServer() { Stop(); }

unsigned short HttpServer::Port() const { return shared_->acceptor.local_endpoint().port(); }

void HttpServer::Start() {
  asio::dispatch(shared_->acceptor.get_executor(), [shared = shared_] { shared->DoAccept(); });
}

void HttpServer::Stop() {
  beast::error_code ignored;
  shared_->acceptor.close(ignored);
}

}  // namespace concord::fake
