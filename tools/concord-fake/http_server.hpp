#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "faults.hpp"
#include "http_types.hpp"

namespace concord::fake {

// Limits of one connection. A new parser is used for every request, so the limits apply per
// message (Beast advanced_server shape).
struct HttpServerSettings {
  std::uint32_t header_limit = 16 * 1024;  // bytes of start line + headers; 431 above
  std::uint64_t body_limit = 64 * 1024;    // bytes of request body; 413 above
  std::chrono::seconds read_timeout{30};   // from the start of a read to a whole request,
                                           // also how long an idle keep-alive connection lives
  std::chrono::seconds write_timeout{60};  // to write one response
};

// Answers one request. Must not throw for bad input: it is called with whatever a client sent.
using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

// A small asynchronous HTTP/1.1 server: one acceptor, one session per connection, one request
// in flight per connection (read, answer, write, repeat). Runs on the threads that run the
// io_context given to it; the handler is called on those threads. Logs one line per request to
// stderr: "<name> <method> <target> <status>". With a FaultPlan, also serves its admin
// endpoint (kFaultAdminPath) and applies the faults it arms for `name` (faults.hpp).
class HttpServer {
 public:
  // Binds and listens at once (port 0 = the OS picks one); throws boost::system::system_error.
  HttpServer(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
             HttpServerSettings settings, RequestHandler handler, std::string name,
             std::shared_ptr<FaultPlan> faults = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound.
  [[nodiscard]] unsigned short Port() const;

  // Starts accepting connections (asynchronously, on the io_context).
  void Start();

  // Stops accepting; connections already open finish on their own or when the io_context stops.
  // Call it on the io_context's thread (e.g. from a signal_set handler) or after run() returned.
  void Stop();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace concord::fake
