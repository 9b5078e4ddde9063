#pragma once
// The admin API's listener on Boost.Beast (STYLE.md 12): one coroutine per connection on the
// io_context, a new parser per request with header and body limits, a deadline before every
// read and write, keep-alive, and the request handled off the io_context on a worker pool
// (handlers may block on PostgreSQL).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "daemon/api.hpp"

namespace concord::daemon {

struct HttpServerSettings {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0: the OS picks one (see Port())
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;                              // larger bodies get 413
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};  // a whole request
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};  // between requests
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  int max_connections = 256;  // beyond: accepted and closed at once
};

// Called on a worker thread for every request; must not throw. `peer` is "ip:port".
using HttpHandler = std::function<ApiResponse(const ApiRequest& request, const std::string& peer)>;

class HttpServer {
 public:
  // Binds and listens at once (throws boost::system::system_error when it cannot); serving
  // starts with Start(). `ioc` and `workers` must outlive the server.
  HttpServer(boost::asio::io_context& ioc, boost::asio::thread_pool& workers,
             HttpServerSettings settings, HttpHandler handler);

  // The bound port (the one the OS picked when settings.port was 0).
  [[nodiscard]] unsigned short Port() const;
  void Start();
  // Stops accepting; connections finish the request they are in and close. Call on the
  // io_context's thread.
  void Stop();

 private:
  boost::asio::io_context& ioc_;
  boost::asio::thread_pool& workers_;
  HttpServerSettings settings_;
  HttpHandler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<int>> connections_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace concord::daemon
