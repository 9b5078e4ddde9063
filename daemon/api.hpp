#pragma once
// The admin HTTP API (DESIGN.md §6) as a pure request → response function: routing, bearer
// tokens, parameter and body validation, and the mapping of errors to HTTP status and the
// {"error":{"code","message"}} body, all in one place (STYLE.md 12, 14). What the routes read
// and start lives behind ApiBackend, so all of this is unit-tested with a fake.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/webhook.hpp"

namespace concord::daemon {

struct ApiRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // path and query, as sent
  std::string authorization;  // the Authorization header, "" when absent
  std::string body;
  // The webhook signature headers, "" when absent (only the webhook routes read them).
  std::string xero_signature;    // x-xero-signature
  std::string intuit_signature;  // intuit-signature
};

// What a webhook route made of one delivery, for the metrics and the log line (serve.cpp).
struct WebhookReceipt {
  WebhookSource source = WebhookSource::kXero;
  std::string tenant;
  // accepted (a run is queued) | ignored (nothing about contacts) | bad_signature |
  // unknown_tenant (also: the tenant takes no webhooks of this source) | invalid_payload
  std::string outcome;
  WebhookNotice notice;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string route;   // the route's name for metrics and logs ("unmatched" when none)
  std::string detail;  // what is logged beside the request (never sent to the client)
  std::optional<WebhookReceipt> webhook;  // set by the webhook routes
};

// kSigned: no bearer token; the route checks the body's signature itself (webhooks).
enum class Access { kPublic, kRead, kWrite, kSigned };

struct Route {
  std::string_view method;
  std::string_view pattern;  // "/v1/syncs/{id}": {name} matches one non-empty path segment
  Access access;
};

// Every route the API serves, in the order they are matched (docs/api.yaml lists the same).
std::span<const Route> Routes();

// A failure with its HTTP status and stable code; `message` is what the client sees.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

// Bearer tokens from the config; compared in constant time.
class Tokens {
 public:
  Tokens(std::vector<std::string> admin, std::vector<std::string> read)
      : admin_(std::move(admin)), read_(std::move(read)) {}
  enum class Grant { kNone, kRead, kAdmin };
  // What an Authorization header grants ("Bearer <token>").
  [[nodiscard]] Grant Check(std::string_view authorization) const;

 private:
  std::vector<std::string> admin_, read_;
};

// Equal contents, in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

struct SyncParams {
  bool full = false;
  bool dry_run = false;
  bool confirm_deletes = false;
};

struct StartResult {
  bool started = false;     // false: a run of the tenant is in progress (409)
  boost::json::object run;  // the started run, or the one in progress (may be empty)
};

// A tenant's webhook settings, as the webhook routes need them.
struct WebhookSubscription {
  std::string key;         // the signing key: Xero's webhook key or Intuit's verifier token
  std::string account_id;  // the tenant's xero_tenant_id or realm_id
};

struct ReviewAction {
  std::string action;  // link | keep_separate | dismiss
  std::string person_id;
};

// What the routes need from the daemon. Methods may block (database work); they throw
// ApiError for what the client did wrong (unknown run, busy tenant) and anything else for
// failures of ours (500).
class ApiBackend {
 public:
  virtual ~ApiBackend() = default;
  [[nodiscard]] virtual bool HasTenant(const std::string& tenant) = 0;
  // "" when ready; else why not (database unreachable, schema behind).
  [[nodiscard]] virtual std::string NotReadyReason() = 0;
  [[nodiscard]] virtual std::string MetricsText() = 0;
  [[nodiscard]] virtual StartResult StartSync(const std::string& tenant,
                                              const SyncParams& params) = 0;
  // {"runs":[...]} newest first, ids below `before`.
  [[nodiscard]] virtual boost::json::array Runs(const std::string& tenant, std::int64_t before,
                                                int limit) = 0;
  [[nodiscard]] virtual std::optional<boost::json::object> Run(std::int64_t id) = 0;
  // nullopt: no such run.
  [[nodiscard]] virtual std::optional<boost::json::array> Events(
      std::int64_t run_id, const std::optional<std::string>& kind, int after, int limit) = 0;
  // nullopt: no such run; a null value: the run has no stored plan.
  [[nodiscard]] virtual std::optional<boost::json::value> Plan(std::int64_t run_id) = 0;
  [[nodiscard]] virtual boost::json::array OpenReview(const std::string& tenant) = 0;
  [[nodiscard]] virtual boost::json::object ResolveReview(std::int64_t review_id,
                                                          const ReviewAction& action) = 0;
  [[nodiscard]] virtual boost::json::array Persons(const std::string& tenant,
                                                   const std::string& email) = 0;
  [[nodiscard]] virtual boost::json::object UndoMerge(std::int64_t merge_id) = 0;
  // The tenant's subscription to `source`'s webhooks; nullopt when it has none (no such
  // tenant, another finance system, no key configured), with the reason in `why` for the log.
  [[nodiscard]] virtual std::optional<WebhookSubscription> Webhook(const std::string& tenant,
                                                                   WebhookSource source,
                                                                   std::string& why) = 0;
  // Queues an incremental run with trigger "webhook" and returns at once: the sender wants
  // its answer within seconds, whatever the run does.
  virtual void QueueWebhookRun(const std::string& tenant) = 0;
};

// Serves one request. Never throws.
ApiResponse HandleApiRequest(const ApiRequest& request, const Tokens& tokens, ApiBackend& backend);

// The JSON error body.
std::string ErrorBody(std::string_view code, std::string_view message);

}  // namespace concord::daemon
