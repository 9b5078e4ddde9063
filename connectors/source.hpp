#pragma once
// The two kinds of source a tenant has, as the sync job sees them. Each connector streams
// pages to a callback so a run never holds more than it needs.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "reconcile/model.hpp"

namespace concord::connectors {

// A failed fetch. The message names the connector, the URL and the HTTP status (or the
// transport error) so an operator can act on it without reading code.
class FetchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A fetch the source refused with an HTTP error status (401, 403, 429, 5xx, ...), as opposed
// to a transport failure. Lets a caller back off on 429/503 (retry_after_seconds is the
// source's Retry-After, when it sent one in seconds) or stop retrying on 401/403.
class HttpStatusError : public FetchError {
 public:
  HttpStatusError(const std::string& message, int status,
                  std::optional<std::int64_t> retry_after_seconds)
      : FetchError(message), status_(status), retry_after_seconds_(retry_after_seconds) {}

  int status() const noexcept { return status_; }
  std::optional<std::int64_t> retry_after_seconds() const noexcept { return retry_after_seconds_; }

 private:
  int status_;
  std::optional<std::int64_t> retry_after_seconds_;
};

struct FetchRequest {
  // Only records changed since this instant (the stored cursor); nullopt = full read.
  std::optional<reconcile::Millis> since;
};

struct FetchSummary {
  // The source's own clock at the run's first request (Xero DateTimeUTC, the HTTP Date
  // header); the next cursor is derived from it, never from the local clock. 0 when the
  // source reported no clock at all: the caller then keeps its previous cursor.
  reconcile::Millis source_clock = 0;
  std::int64_t pages = 0;
  std::int64_t records = 0;  // every record delivered, quarantined ones included
  // The pages held the whole source, not only what changed since request.since (a CSV file is
  // always a whole copy): the sync job treats every stored record of the source that was not
  // delivered as deleted (rule 8), as a full run does, whatever mode the run is in.
  bool complete = false;
  // source_clock marks a version the source compares exactly (a file's modification time),
  // not an instant records are filtered from: the next cursor is source_clock itself, with no
  // overlap window subtracted.
  bool exact_clock = false;
};

struct FinancePage {
  std::vector<reconcile::FinancePerson> persons;
  std::vector<reconcile::QuarantinedRecord> quarantined;
};

struct PortalPage {
  std::vector<reconcile::PortalUser> users;
  std::vector<reconcile::QuarantinedRecord> quarantined;
};

class FinanceSource {
 public:
  virtual ~FinanceSource() = default;
  // Calls on_page once per page, in order. Throws FetchError on any failure.
  virtual FetchSummary Fetch(const FetchRequest& request,
                             const std::function<void(FinancePage&&)>& on_page) = 0;
};

class PortalSource {
 public:
  virtual ~PortalSource() = default;
  virtual FetchSummary Fetch(const FetchRequest& request,
                             const std::function<void(PortalPage&&)>& on_page) = 0;
};

// Outbound proxies, as the wiring layer read them from HTTPS_PROXY, HTTP_PROXY and NO_PROXY
// (connectors/http_proxy.hpp has the rules). Empty strings: no proxy.
struct ProxySettings {
  std::string https_proxy;  // proxy URL for https:// requests (CONNECT tunnel)
  std::string http_proxy;   // proxy URL for http:// requests (absolute-form request target)
  std::string no_proxy;     // comma list of hosts reached directly

  [[nodiscard]] bool operator==(const ProxySettings&) const = default;
};

// One retry about to happen, as a connector reports it before waiting (so the caller can log
// it: connectors do no I/O but HTTP).
struct RetryNotice {
  std::string connector;  // "xero", "qbo", "myob", "scim"
  std::string url;        // the request URL without user info (tokens travel in headers)
  std::string cause;      // "503 Service Unavailable", or the transport error
  int attempt = 0;        // the attempt that just failed, from 1
  int max_attempts = 0;   // max_retries + 1
  std::chrono::milliseconds wait{0};  // before the next attempt
};

// What a caller plugs into the retry loop that is not configuration. Compares equal to any
// other RetryHooks, so settings read from a config file compare by their values alone.
struct RetryHooks {
  // Called before each wait; empty: retries are silent.
  std::function<void(const RetryNotice&)> on_retry;
  // Returns a number in [0, 1] that scales each backoff step (full jitter); empty: a
  // per-thread std::mt19937_64 seeded from std::random_device. Tests pass a constant.
  std::function<double()> random;

  [[nodiscard]] bool operator==(const RetryHooks&) const { return true; }
};

// Transport settings shared by every HTTP connector.
struct HttpSettings {
  std::string ca_file;       // empty: the system trust store
  int timeout_seconds = 30;  // per request, connect to last byte
  // Retries of one request after a transient failure: 429, every 5xx but 501 and 505 (waiting
  // for Retry-After when sent, else backing off with full jitter: a random wait up to 0.5 s,
  // 1 s, 2 s, ...), a timeout, a connection reset or closed mid-exchange, a truncated body.
  // Never after 4xx other than 429, refused connections, DNS or TLS failures. 0: no retries.
  int max_retries = 3;
  // A Retry-After longer than this fails the fetch at once rather than waiting (e.g. Xero's
  // daily limit); also the longest backoff step.
  int max_retry_wait_seconds = 60;
  // The most one Fetch (all its pages) may spend waiting between retries. A wait that would
  // go beyond it fails the fetch at once, with a message saying the budget is spent.
  int retry_budget_seconds = 300;
  RetryHooks hooks{};
  // Not from the config file: daemon/sources.cpp fills it from the environment.
  ProxySettings proxy{};

  [[nodiscard]] bool operator==(const HttpSettings&) const = default;
};

struct XeroSettings {
  std::string base_url;      // e.g. https://api.xero.com/api.xro/2.0
  std::string access_token;  // resolved secret
  std::string xero_tenant_id;
  int page_size = 1000;  // Xero caps at 1000
  HttpSettings http;
};

struct QboSettings {
  std::string base_url;      // e.g. https://quickbooks.api.intuit.com
  std::string access_token;  // resolved secret (OAuth2 bearer token)
  std::string realm_id;      // the company id
  int page_size = 1000;      // MAXRESULTS; QBO caps at 1000
  int minorversion = 75;     // sent on every request; 75 is QBO's minimum since August 2025
  HttpSettings http;
};

struct MyobSettings {
  // The company file's Uri from the company-file list, e.g.
  // https://arl2.api.myob.com/accountright/<company file id>; customers are read from
  // {base_url}/Contact/Customer.
  std::string base_url;
  std::string api_key;       // resolved secret, sent as x-myobapi-key (the app's client id)
  std::string access_token;  // resolved secret (OAuth2 bearer token)
  // Resolved secret sent as x-myobapi-cftoken: base64("<user>:<password>") of the company
  // file's own sign-in. Empty: not sent (files that sign in through the MYOB account).
  std::string cftoken;
  int page_size = 400;  // $top; MYOB's default page, and it caps $top at 1000
  HttpSettings http;
};

struct ScimSettings {
  std::string base_url;  // e.g. https://portal.example/scim/v2
  std::string token;     // resolved secret
  int page_size = 500;
  HttpSettings http;
};

// The production sources, over connectors::HttpClient (connectors/xero.hpp, qbo.hpp, myob.hpp and
// scim.hpp have the details and test seams). Throw std::invalid_argument naming the setting when
// settings are unusable (base_url not an absolute http(s) URL, page_size out of range, empty
// secret).
std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings);
std::unique_ptr<FinanceSource> MakeQboSource(QboSettings settings);
std::unique_ptr<FinanceSource> MakeMyobSource(MyobSettings settings);
std::unique_ptr<PortalSource> MakeScimSource(ScimSettings settings);

}  // namespace concord::connectors
