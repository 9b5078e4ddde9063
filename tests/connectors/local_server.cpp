#include "local_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>

namespace concord::connectors::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

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

}  // namespace

std::string SeenRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

class LocalServer::Impl {
 public:
  Impl(Handler handler, ssl::context* tls)
      : handler_(std::move(handler)),
        tls_(tls),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  ~Impl() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  unsigned short Port() const { return acceptor_.local_endpoint().port(); }

  void Start() {
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  std::vector<SeenRequest> Seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  int Connections() const { return connections_.load(); }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (error) co_return;
      const int number = ++connections_;
      asio::co_spawn(io_, Serve(std::move(socket), number), asio::detached);
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket, int number) {
    try {
      if (tls_ != nullptr) {
        ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
        co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        co_await Loop(stream, number, sni != nullptr ? sni : "");
      } else {
        beast::tcp_stream stream(std::move(socket));
        co_await Loop(stream, number, "");
      }
    } catch (const std::exception&) {
      // The client went away or failed the handshake; both are things tests provoke.
    }
  }

  template <class Stream>
  asio::awaitable<void> Loop(Stream& stream, int number, std::string server_name) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      co_await http::async_read(stream, buffer, request, asio::use_awaitable);
      SeenRequest seen;
      seen.method = std::string(request.method_string());
      seen.target = std::string(request.target());
      for (const auto& field : request) {
        seen.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      seen.connection = number;
      seen.server_name = server_name;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(seen);
      }
      Reply reply = handler_(seen);
      if (reply.delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, reply.delay);
        co_await timer.async_wait(asio::use_awaitable);
      }
      reply.response.version(11);
      reply.response.prepare_payload();
      const bool keep_alive = request.keep_alive() && reply.response.keep_alive();
      co_await http::async_write(stream, reply.response, asio::use_awaitable);
      if (!keep_alive || reply.drop_after) {
        beast::get_lowest_layer(stream).close();
        co_return;
      }
    }
  }

  Handler handler_;
  ssl::context* tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<SeenRequest> seen_;
  std::atomic<int> connections_{0};
};

LocalServer::LocalServer(Handler handler, ssl::context* tls)
    : impl_(std::make_unique<Impl>(std::move(handler), tls)) {
  port_ = impl_->Port();
  impl_->Start();
}

LocalServer::~LocalServer() = default;

std::vector<SeenRequest> LocalServer::Seen() const { return impl_->Seen(); }

int LocalServer::Connections() const { return impl_->Connections(); }

class LocalProxy::Impl {
 public:
  Impl(unsigned short origin_port, std::string required_authorization)
      : origin_port_(origin_port),
        required_authorization_(std::move(required_authorization)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  ~Impl() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  unsigned short Port() const { return acceptor_.local_endpoint().port(); }

  void Start() {
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  std::vector<SeenRequest> Seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (error) co_return;
      asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
    }
  }

  // Copies bytes one way until either side closes, then passes the close on.
  static asio::awaitable<void> Pump(std::shared_ptr<tcp::socket> from,
                                    std::shared_ptr<tcp::socket> to) {
    std::array<char, 16 * 1024> data{};
    for (;;) {
      auto [read_error, size] =
          co_await from->async_read_some(asio::buffer(data), asio::as_tuple(asio::use_awaitable));
      if (read_error) break;
      auto [write_error, written] = co_await asio::async_write(*to, asio::buffer(data.data(), size),
                                                               asio::as_tuple(asio::use_awaitable));
      if (write_error) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    try {
      beast::tcp_stream client(std::move(socket));
      beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> request;
        co_await http::async_read(client, buffer, request, asio::use_awaitable);
        SeenRequest seen;
        seen.method = std::string(request.method_string());
        seen.target = std::string(request.target());
        for (const auto& field : request) {
          seen.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        {
          std::lock_guard lock(mutex_);
          seen_.push_back(seen);
        }
        if (!required_authorization_.empty() &&
            seen.Header("Proxy-Authorization") != required_authorization_) {
          http::response<http::string_body> refusal{http::status::proxy_authentication_required,
                                                    11};
          refusal.set(http::field::proxy_authenticate, R"(Basic realm="concord test proxy")");
          refusal.body() = "proxy credentials required";
          refusal.keep_alive(false);
          refusal.prepare_payload();
          co_await http::async_write(client, refusal, asio::use_awaitable);
          co_return;
        }

        auto origin = std::make_shared<tcp::socket>(io_);
        co_await origin->async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), origin_port_), asio::use_awaitable);
        if (request.method() == http::verb::connect) {
          http::response<http::empty_body> established{http::status::ok, 11};
          established.reason("Connection established");
          http::response_serializer<http::empty_body> serializer(established);
          co_await http::async_write_header(client, serializer, asio::use_awaitable);
          auto near = std::make_shared<tcp::socket>(client.release_socket());
          asio::co_spawn(io_, Pump(near, origin), asio::detached);
          asio::co_spawn(io_, Pump(origin, near), asio::detached);
          co_return;
        }

        // Absolute form in, origin form out; the answer goes back as it came.
        const auto url = boost::urls::parse_uri(seen.target);
        if (url) request.target(url->encoded_target().empty() ? "/" : url->encoded_target());
        request.erase(http::field::proxy_authorization);
        beast::tcp_stream upstream(std::move(*origin));
        co_await http::async_write(upstream, request, asio::use_awaitable);
        beast::flat_buffer upstream_buffer;
        http::response<http::string_body> response;
        co_await http::async_read(upstream, upstream_buffer, response, asio::use_awaitable);
        co_await http::async_write(client, response, asio::use_awaitable);
      }
    } catch (const std::exception&) {
      // Either side went away: the tests provoke both.
    }
  }

  unsigned short origin_port_;
  std::string required_authorization_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<SeenRequest> seen_;
};

LocalProxy::LocalProxy(unsigned short origin_port, std::string required_authorization)
    : impl_(std::make_unique<Impl>(origin_port, std::move(required_authorization))) {
  port_ = impl_->Port();
  impl_->Start();
}

LocalProxy::~LocalProxy() = default;

std::vector<SeenRequest> LocalProxy::Seen() const { return impl_->Seen(); }

SelfSigned MakeSelfSigned(const std::string& subject_alt_name) {
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                                &EVP_PKEY_free);
  const std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (!key || !cert) throw std::runtime_error("OpenSSL: cannot allocate key or certificate");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("concord test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, subject_alt_name.c_str());
  if (san == nullptr) throw std::runtime_error("OpenSSL: bad subjectAltName");
  X509_add_ext(cert.get(), san, -1);
  X509_EXTENSION_free(san);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("OpenSSL: cannot sign the certificate");
  }

  const auto to_pem = [](auto write) {
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    write(bio.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  };
  SelfSigned result;
  result.cert_pem = to_pem([&](BIO* bio) { PEM_write_bio_X509(bio, cert.get()); });
  result.key_pem = to_pem([&](BIO* bio) {
    PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return result;
}

ssl::context ServerTlsContext(const SelfSigned& identity) {
  ssl::context context(ssl::context::tls_server);
  context.use_certificate_chain(asio::buffer(identity.cert_pem));
  context.use_private_key(asio::buffer(identity.key_pem), ssl::context::pem);
  return context;
}

ScratchDir::ScratchDir() {
  std::random_device random;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto candidate = base / ("concord-connectors-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(random()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate.string();
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScratchDir::Write(const std::string& name, const std::string& content) const {
  const std::string file = path_ + "/" + name;
  std::ofstream out(file, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + file);
  return file;
}

}  // namespace concord::connectors::testing
