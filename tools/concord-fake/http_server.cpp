#include "http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>
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

reconcile::Millis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
          std::shared_ptr<const RequestHandler> handler, std::shared_ptr<const std::string> name,
          std::shared_ptr<FaultPlan> faults)
      : stream_(std::move(socket)),
        settings_(settings),
        handler_(std::move(handler)),
        name_(std::move(name)),
        faults_(std::move(faults)),
        timer_(stream_.get_executor()) {}

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
    const std::string method(req.method_string());
    const std::string target(req.target());
    std::optional<Fault> fault;
    if (faults_) {
      const std::string_view path = std::string_view(target).substr(0, target.find('?'));
      if (path == kFaultAdminPath) {
        return Send(HandleFaultAdmin(req, *faults_, NowMillis()), method, target);
      }
      fault = faults_->Take(*name_, target);
    }
    if (fault && fault->kind == FaultKind::kChange) faults_->MarkChanged(*name_);
    if (fault && fault->kind == FaultKind::kReset) {
      std::fprintf(stderr, "%s %s %s fault reset\n", name_->c_str(), method.c_str(),
                   target.c_str());
      beast::error_code ignored;
      stream_.socket().set_option(asio::socket_base::linger(true, 0), ignored);  // RST, not FIN
      stream_.socket().close(ignored);
      return;
    }
    HttpResponse res;
    if (fault && fault->kind == FaultKind::kStatus) {
      res = StatusFaultResponse(*name_, req, *fault, NowMillis());
    } else {
      try {
        res = (*handler_)(req);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s handler error: %s\n", name_->c_str(), e.what());
        res = PlainError(http::status::internal_server_error, "internal error in concord-fake");
      }
      if (fault) CorruptBody(*fault, res);
    }
    if (fault && fault->kind == FaultKind::kTruncate)
      return SendTruncated(std::move(res), method, target);
    if (fault && fault->kind == FaultKind::kSlow) {
      timer_.expires_after(std::chrono::milliseconds(fault->delay_ms));
      timer_.async_wait([self = shared_from_this(), res = std::move(res), method,
                         target](beast::error_code ec) mutable {
        if (ec) return self->DoClose();
        self->Send(std::move(res), method, target);
      });
      return;
    }
    Send(std::move(res), method, target);
  }

  // Writes the headers (Content-Length announcing the whole body) and half the body, then
  // closes the connection: a reply cut short by a dying server or proxy.
  void SendTruncated(HttpResponse&& res, const std::string& method, const std::string& target) {
    LogLine(*name_, method, target, res.result_int());
    res.prepare_payload();
    std::ostringstream whole;
    whole << res;
    const std::string text = whole.str();
    const std::size_t header_end = text.find("\r\n\r\n") + 4;
    raw_ = std::make_shared<std::string>(text.substr(0, header_end + res.body().size() / 2));
    stream_.expires_after(settings_.write_timeout);
    asio::async_write(stream_, asio::buffer(*raw_),
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        self->raw_.reset();
                        self->DoClose();
                      });
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
  std::shared_ptr<FaultPlan> faults_;  // null: no fault injection
  asio::steady_timer timer_;           // delays a slow answer
  std::shared_ptr<std::string> raw_;   // a truncated answer being written
};

}  // namespace

struct HttpServer::Shared : std::enable_shared_from_this<HttpServer::Shared> {
  Shared(asio::io_context& ioc, HttpServerSettings s, RequestHandler h, std::string n,
         std::shared_ptr<FaultPlan> f)
      : ioc(ioc),
        acceptor(asio::make_strand(ioc)),
        settings(s),
        handler(std::make_shared<const RequestHandler>(std::move(h))),
        name(std::make_shared<const std::string>(std::move(n))),
        faults(std::move(f)) {}

  void DoAccept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          beast::bind_front_handler(&Shared::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      std::fprintf(stderr, "%s accept error: %s\n", name->c_str(), ec.message().c_str());
    } else {
      std::make_shared<Session>(std::move(socket), settings, handler, name, faults)->Run();
    }
    DoAccept();
  }

  asio::io_context& ioc;
  tcp::acceptor acceptor;
  HttpServerSettings settings;
  std::shared_ptr<const RequestHandler> handler;
  std::shared_ptr<const std::string> name;
  std::shared_ptr<FaultPlan> faults;
};

HttpServer::HttpServer(asio::io_context& ioc, const tcp::endpoint& endpoint,
                       HttpServerSettings settings, RequestHandler handler, std::string name,
                       std::shared_ptr<FaultPlan> faults)
    : shared_(std::make_shared<Shared>(ioc, settings, std::move(handler), std::move(name),
                                       std::move(faults))) {
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
