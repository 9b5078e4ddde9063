#pragma once
// concord's TOML configuration (DESIGN.md §6). Only daemon/ reads it; every other part gets
// plain settings structs built from it.

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "connectors/csv.hpp"
#include "connectors/source.hpp"

namespace concord::daemon {

// A configuration problem; the message names the key (e.g. "tenant[0].finance.kind").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A secret as written in the config: "env:NAME" or "file:PATH". Resolved only when used, so
// a command that does not need it (migrate, export) does not need it set.
struct SecretRef {
  std::string key;        // where it was configured, for error messages
  std::string reference;  // "env:NAME" or "file:PATH"

  // The secret's value; throws ConfigError naming the key when it cannot be read.
  [[nodiscard]] std::string Resolve() const;

  // The same secret wherever it is configured: a tenant's keys move ("tenant[1]" becomes
  // "tenant[0]") when a tenant before it is removed, and that changes nothing of the tenant.
  [[nodiscard]] bool operator==(const SecretRef& other) const {
    return reference == other.reference;
  }
};

struct FinanceConfig {
  std::string kind;  // "xero", "qbo", "myob" or "csv"
  std::string base_url;
  SecretRef access_token;
  std::string xero_tenant_id;  // xero only
  // xero only, OAuth2 refresh instead of a static access_token (then empty): the app's
  // client_id and client_secret, the token endpoint, and the refresh token that seeds the
  // database when it holds none for the tenant (or when it changes: a re-authorisation).
  std::string client_id;
  std::optional<SecretRef> client_secret;
  std::string token_url = "https://identity.xero.com/connect/token";
  std::optional<SecretRef> refresh_token;
  // xero only: calls a day for this tenant (Xero's default plan allows 5,000), and calls in
  // any rolling minute (Xero allows 60).
  int day_limit = 5000;
  int minute_limit = 60;
  std::string realm_id;   // qbo only: the company id
  int minorversion = 75;  // qbo only
  // myob only: the developer key (x-myobapi-key) and, when the company file has its own
  // sign-in, base64("user:password") for x-myobapi-cftoken (absent: not sent).
  SecretRef api_key;
  std::optional<SecretRef> cftoken;
  // csv only: the file, or the directory whose newest *.csv is read, and how it reads. A csv
  // source has no base_url and no access_token.
  std::string path;
  connectors::CsvFormat csv;

  // The key that signs this tenant's webhooks: [tenant.finance] webhook_key (Xero's webhook
  // signing key) or verifier_token (Intuit's). Absent: the tenant takes no webhooks.
  std::optional<SecretRef> webhook_key;
  int page_size = 1000;
  connectors::HttpSettings http;

  [[nodiscard]] bool operator==(const FinanceConfig&) const = default;
};

struct PortalConfig {
  std::string kind;  // "scim"
  std::string base_url;
  SecretRef token;
  int page_size = 500;
  connectors::HttpSettings http;

  [[nodiscard]] bool operator==(const PortalConfig&) const = default;
};

struct RulesConfig {
  std::vector<std::string> loose_domains{"gmail.com", "googlemail.com"};
  std::vector<std::string> plus_domains;
  int max_deactivations = 500;
  double max_deactivation_ratio = 0.2;

  [[nodiscard]] bool operator==(const RulesConfig&) const = default;
};

struct TenantConfig {
  std::string id;
  std::chrono::seconds interval{std::chrono::minutes(15)};
  std::chrono::seconds full_interval{std::chrono::hours(24)};
  // Re-read window behind each cursor, so records with equal timestamps are never skipped.
  std::chrono::seconds overlap{std::chrono::minutes(5)};
  FinanceConfig finance;
  PortalConfig portal;
  RulesConfig rules;

  // Every setting equal: a reload that keeps it changes nothing of the tenant.
  [[nodiscard]] bool operator==(const TenantConfig&) const = default;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:8080";
  std::vector<SecretRef> admin_tokens;
  std::vector<SecretRef> read_tokens;
};

struct LogConfig {
  std::string format = "json";  // json | text
  std::string level = "info";   // trace | debug | info | warn | error
};

struct SchedulerConfig {
  // Runs of different tenants at once in this process. A run waits on HTTP and PostgreSQL much
  // of its time, so more runs than cores keep the cores busy; each run holds its tenant's
  // records in memory, so large tenants want fewer.
  int concurrent_runs = 4;
};

struct Config {
  std::string database_url;
  HttpConfig http;
  LogConfig log;
  SchedulerConfig scheduler;
  std::vector<TenantConfig> tenants;

  // The tenant with this id; throws ConfigError when there is none.
  const TenantConfig& Tenant(const std::string& id) const;
  // The tenant with this id, or nullptr when there is none.
  [[nodiscard]] const TenantConfig* FindTenant(const std::string& id) const;
};

// Parses TOML text. Unknown keys, missing required keys and bad values are errors naming the
// key. `database_url_override` (CONCORD_DATABASE_URL) wins over [database].url when set.
Config ParseConfig(const std::string& toml_text, const std::string& origin,
                   const std::string& database_url_override);

// Reads and parses the file; CONCORD_DATABASE_URL from the environment overrides the URL.
Config LoadConfig(const std::string& path);

// "90s", "15m", "24h", "7d", "1h30m" → seconds; throws std::invalid_argument when malformed.
std::chrono::seconds ParseDuration(std::string_view text);

}  // namespace concord::daemon
