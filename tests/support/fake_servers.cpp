#include "tests/support/fake_servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace concord::test_support {
namespace {

// The value of `"key":<digits>` in the fake's one-line JSON; -1 if absent.
int IntMember(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const std::size_t at = line.find(needle);
  if (at == std::string::npos) return -1;
  std::size_t pos = at + needle.size();
  while (pos < line.size() && line[pos] == ' ') ++pos;
  int value = 0;
  bool any = false;
  for (; pos < line.size() && line[pos] >= '0' && line[pos] <= '9'; ++pos) {
    value = value * 10 + (line[pos] - '0');
    any = true;
  }
  return any ? value : -1;
}

std::vector<std::string> Argv(std::vector<std::string> args) {
  args.insert(args.begin(), ConcordFakeBinary());
  return args;
}

}  // namespace

std::string ConcordFakeBinary() { return CONCORD_FAKE_BIN; }

FakeServers::FakeServers(std::vector<std::string> args, std::chrono::milliseconds start_timeout)
    : process_(ChildOptions{.argv = Argv(std::move(args))}) {
  const std::string line = process_.ReadLine(start_timeout);
  xero_port_ = IntMember(line, "xero_port");
  scim_port_ = IntMember(line, "scim_port");
  qbo_port_ = IntMember(line, "qbo_port");
  myob_port_ = IntMember(line, "myob_port");
  if (xero_port_ <= 0 || scim_port_ <= 0 || qbo_port_ <= 0 || myob_port_ <= 0) {
    throw ChildProcessError("concord-fake printed an unexpected ready line: " + line +
                            "\nstderr:\n" + process_.Stderr());
  }
}

FakeServers::FakeServers(const std::string& data_file, std::vector<std::string> extra_args,
                         std::chrono::milliseconds start_timeout)
    : FakeServers(
          [&] {
            std::vector<std::string> args{"--data", data_file};
            args.insert(args.end(), extra_args.begin(), extra_args.end());
            return args;
          }(),
          start_timeout) {}

FakeServers FakeServers::WithArgs(std::vector<std::string> args,
                                  std::chrono::milliseconds start_timeout) {
  return FakeServers(std::move(args), start_timeout);
}

FakeServers::~FakeServers() {
  if (process_.Pid() > 0) process_.Stop(std::chrono::seconds(5));
}

std::string FakeServers::XeroOrigin() const {
  return "http://127.0.0.1:" + std::to_string(xero_port_);
}

std::string FakeServers::ScimOrigin() const {
  return "http://127.0.0.1:" + std::to_string(scim_port_);
}

std::string FakeServers::QboOrigin() const {
  return "http://127.0.0.1:" + std::to_string(qbo_port_);
}

std::string FakeServers::MyobOrigin() const {
  return "http://127.0.0.1:" + std::to_string(myob_port_);
}

int FakeServers::Faults(std::string_view method, std::string_view body,
                        std::string* body_out) const {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw ChildProcessError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(xero_port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  if (ok) {
    const std::string request = std::string(method) +
                                " /_fake/faults HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: application/json\r\nConnection: close\r\n"
                                "Content-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    for (std::size_t sent = 0; ok && sent < request.size();) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      ok = n > 0;
      if (ok) sent += static_cast<std::size_t>(n);
    }
    char buffer[4096];
    for (ssize_t n; ok && (n = ::recv(fd, buffer, sizeof buffer, 0)) != 0;) {
      ok = n > 0;
      if (ok) reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  const int error = errno;
  ::close(fd);
  // "HTTP/1.1 201 Created\r\n...\r\n\r\n<body>"
  if (!ok || reply.size() < 12 || !reply.starts_with("HTTP/1.1 ")) {
    throw ChildProcessError("concord-fake " + std::string(method) + " /_fake/faults failed: " +
                            (ok ? "unexpected reply: " + reply : std::strerror(error)));
  }
  if (body_out != nullptr) {
    const std::size_t end = reply.find("\r\n\r\n");
    *body_out = end == std::string::npos ? std::string() : reply.substr(end + 4);
  }
  return std::stoi(reply.substr(9, 3));
}

}  // namespace concord::test_support
