#include "tests/support/fake_servers.hpp"

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

}  // namespace concord::test_support
