#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/child_process.hpp"

// Starting concord-fake (tools/concord-fake) from a test. Linking concord::test_support also
// brings the compile definitions CONCORD_FAKE_BIN (path of the concord-fake binary) and, once
// the daemon target exists, CONCORD_BIN (path of the concord binary).
namespace concord::test_support {

// The path of the concord-fake binary this build made.
[[nodiscard]] std::string ConcordFakeBinary();

// One running concord-fake on OS-picked loopback ports, serving a data file (see
// tools/concord-fake/README.md for the format; rewrite it with WriteFile to change what the
// servers answer). Stopped (SIGTERM, then SIGKILL) when destroyed.
class FakeServers {
 public:
  // Starts `concord-fake --data <data_file> <extra_args...>` and waits for its ready line
  // (a generated tenant of 1,000,000 persons takes about 20 s to come up).
  // Throws ChildProcessError (with the fake's stderr) if it does not come up within
  // `start_timeout`.
  explicit FakeServers(const std::string& data_file, std::vector<std::string> extra_args = {},
                       std::chrono::milliseconds start_timeout = std::chrono::seconds(60));
  // Same, with any command line (e.g. {"--generate", "1000", "--seed", "7"}).
  static FakeServers WithArgs(std::vector<std::string> args,
                              std::chrono::milliseconds start_timeout = std::chrono::seconds(60));
  ~FakeServers();
  FakeServers(FakeServers&&) noexcept = default;
  FakeServers& operator=(FakeServers&&) noexcept = default;

  [[nodiscard]] int XeroPort() const { return xero_port_; }
  [[nodiscard]] int ScimPort() const { return scim_port_; }
  [[nodiscard]] int QboPort() const { return qbo_port_; }
  [[nodiscard]] int MyobPort() const { return myob_port_; }
  // "http://127.0.0.1:<port>": the Xero base URL is XeroOrigin() + "/api.xro/2.0".
  [[nodiscard]] std::string XeroOrigin() const;
  // "http://127.0.0.1:<port>": the SCIM base URL is ScimOrigin() + "/scim/v2".
  [[nodiscard]] std::string ScimOrigin() const;
  // "http://127.0.0.1:<port>": the QBO base URL (queries go to /v3/company/{realm}/query).
  [[nodiscard]] std::string QboOrigin() const;
  // "http://127.0.0.1:<port>": a MYOB company file's base URL is
  // MyobOrigin() + "/accountright/<company_file_id>".
  [[nodiscard]] std::string MyobOrigin() const;

  // A request to the fake's fault-injection endpoint (/_fake/faults, on the Xero port; see
  // tools/concord-fake/README.md): "POST" with a fault object or array arms faults, "DELETE"
  // clears them, "GET" lists them. Returns the HTTP status; the body goes to `body_out` when
  // given. Throws ChildProcessError when the fake cannot be reached.
  int Faults(std::string_view method, std::string_view body = {},
             std::string* body_out = nullptr) const;

  // The process, for its stderr (one line per request) or to stop it early.
  [[nodiscard]] ChildProcess& Process() { return process_; }

 private:
  FakeServers(std::vector<std::string> args, std::chrono::milliseconds start_timeout);
  ChildProcess process_;
  int xero_port_ = 0;
  int scim_port_ = 0;
  int qbo_port_ = 0;
  int myob_port_ = 0;
};

}  // namespace concord::test_support
