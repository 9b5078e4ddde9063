#include "daemon/config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace concord::daemon {
namespace {

// Walks one TOML table, remembering its path for error messages and rejecting unknown keys.
class Table {
 public:
  Table(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

  // Throws for any key not in `known`.
  void AllowOnly(std::initializer_list<std::string_view> known) const {
    std::set<std::string_view> allowed(known);
    for (const auto& [key, value] : table_) {
      if (!allowed.contains(key.str())) {
        throw ConfigError("unknown configuration key '" + Key(key.str()) + "'");
      }
    }
  }

  std::string Key(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }

  bool Has(std::string_view name) const { return table_.contains(name); }

  std::string String(std::string_view name, std::optional<std::string> fallback = {}) const {
    const auto* node = table_.get(name);
    if (!node) {
      if (fallback) return *fallback;
      throw ConfigError("missing required configuration key '" + Key(name) + "'");
    }
    if (!node->is_string()) throw ConfigError("'" + Key(name) + "' must be a string");
    return node->as_string()->get();
  }

  std::int64_t Integer(std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const {
    const auto* node = table_.get(name);
    if (!node) return fallback;
    if (!node->is_integer()) throw ConfigError("'" + Key(name) + "' must be an integer");
    auto value = node->as_integer()->get();
    if (value < min || value > max) {
      throw ConfigError("'" + Key(name) + "' must be between " + std::to_string(min) + " and " +
                        std::to_string(max) + ", got " + std::to_string(value));
    }
    return value;
  }

  double Number(std::string_view name, double fallback, double min, double max) const {
    const auto* node = table_.get(name);
    if (!node) return fallback;
    double value = 0;
    if (node->is_floating_point()) {
      value = node->as_floating_point()->get();
    } else if (node->is_integer()) {
      value = static_cast<double>(node->as_integer()->get());
    } else {
      throw ConfigError("'" + Key(name) + "' must be a number");
    }
    if (value < min || value > max) {
      throw ConfigError("'" + Key(name) + "' must be between " + std::to_string(min) + " and " +
                        std::to_string(max));
    }
    return value;
  }

  std::chrono::seconds Duration(std::string_view name, std::chrono::seconds fallback) const {
    if (!Has(name)) return fallback;
    auto text = String(name);
    try {
      return ParseDuration(text);
    } catch (const std::invalid_argument&) {
      throw ConfigError("'" + Key(name) + "' is not a duration: \"" + text +
                        "\" (use e.g. \"90s\", \"15m\", \"24h\", \"1h30m\")");
    }
  }

  std::vector<std::string> Strings(std::string_view name, std::vector<std::string> fallback) const {
    const auto* node = table_.get(name);
    if (!node) return fallback;
    const auto* array = node->as_array();
    if (!array) throw ConfigError("'" + Key(name) + "' must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : *array) {
      if (!item.is_string()) throw ConfigError("'" + Key(name) + "' must be an array of strings");
      out.push_back(item.as_string()->get());
    }
    return out;
  }

  SecretRef Secret(std::string_view name) const { return MakeSecret(Key(name), String(name)); }

  static SecretRef MakeSecret(const std::string& key, const std::string& reference) {
    if (!reference.starts_with("env:") && !reference.starts_with("file:")) {
      throw ConfigError(
          "'" + key + "' must reference a secret as \"env:NAME\" or \"file:PATH\", never hold it");
    }
    if (reference.size() <= reference.find(':') + 1) {
      throw ConfigError("'" + key + "' names no variable or file");
    }
    return {key, reference};
  }

  Table Sub(std::string_view name, bool required = true) const {
    const auto* node = table_.get(name);
    if (!node) {
      if (required) throw ConfigError("missing required configuration table '" + Key(name) + "'");
      static const toml::table kEmpty;
      return Table(kEmpty, Key(name));
    }
    if (!node->is_table()) throw ConfigError("'" + Key(name) + "' must be a table");
    return Table(*node->as_table(), Key(name));
  }

  const toml::table& raw() const { return table_; }

 private:
  const toml::table& table_;
  std::string path_;
};

std::vector<SecretRef> Secrets(const Table& t, std::string_view name) {
  std::vector<SecretRef> out;
  auto items = t.Strings(name, {});
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(Table::MakeSecret(t.Key(name) + "[" + std::to_string(i) + "]", items[i]));
  }
  return out;
}

std::string BaseUrl(const Table& t) {
  auto url = t.String("base_url");
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    throw ConfigError("'" + t.Key("base_url") + "' must be an http:// or https:// URL, got \"" +
                      url + "\"");
  }
  while (url.ends_with('/')) url.pop_back();
  return url;
}

connectors::HttpSettings Http(const Table& t) {
  connectors::HttpSettings http;
  http.ca_file = t.String("ca_file", "");
  http.timeout_seconds = static_cast<int>(t.Integer("timeout_seconds", 30, 1, 3600));
  http.max_retries = static_cast<int>(t.Integer("max_retries", http.max_retries, 0, 20));
  http.max_retry_wait_seconds =
      static_cast<int>(t.Integer("max_retry_wait_seconds", http.max_retry_wait_seconds, 0, 3600));
  http.retry_budget_seconds =
      static_cast<int>(t.Integer("retry_budget_seconds", http.retry_budget_seconds, 0, 86400));
  return http;
}

// A file source has no URL and no secret: a path, the header mapping and how rows read.
FinanceConfig ParseCsvFinance(const Table& t, FinanceConfig f) {
  t.AllowOnly({"kind", "path", "columns", "delimiter", "archived_statuses", "page_size"});
  f.path = t.String("path");
  if (!f.path.starts_with('/')) {
    throw ConfigError("'" + t.Key("path") + "' must be an absolute path, got \"" + f.path + "\"");
  }
  const std::string delimiter = t.String("delimiter", ",");
  if (delimiter.size() != 1 || delimiter == "\"" || delimiter == "\r" || delimiter == "\n") {
    throw ConfigError("'" + t.Key("delimiter") +
                      "' must be one character other than a quote or a line end, got \"" +
                      delimiter + "\"");
  }
  f.csv.delimiter = delimiter.front();
  f.csv.archived_statuses = t.Strings("archived_statuses", f.csv.archived_statuses);
  const Table columns = t.Sub("columns", false);
  connectors::CsvColumns& c = f.csv.columns;
  const std::pair<std::string_view, std::string*> fields[] = {
      {"account_id", &c.account_id},   {"account_name", &c.account_name},
      {"person_id", &c.person_id},     {"given_name", &c.given_name},
      {"family_name", &c.family_name}, {"email", &c.email},
      {"email2", &c.email2},           {"phone", &c.phone},
      {"status", &c.status},           {"updated_at", &c.updated_at}};
  columns.AllowOnly({"account_id", "account_name", "person_id", "given_name", "family_name",
                     "email", "email2", "phone", "status", "updated_at"});
  for (const auto& [name, header] : fields) *header = columns.String(name, *header);
  if (c.person_id.empty()) {
    throw ConfigError("'" + columns.Key("person_id") +
                      "' must name a column: the person id is what identifies a row");
  }
  f.page_size = static_cast<int>(t.Integer("page_size", 1000, 1, 1000));
  return f;
}

// Xero authenticates with a static access_token or by OAuth2 refresh, never both.
void ParseXeroAuth(const Table& t, FinanceConfig& f) {
  const bool static_token = t.Has("access_token");
  const bool oauth = t.Has("client_id") || t.Has("client_secret");
  if (static_token == oauth) {
    std::string table = t.Key("");
    table.pop_back();  // the '.' before the empty key
    throw ConfigError("'" + table + "' must have either 'access_token' (a static token) or " +
                      "'client_id' and 'client_secret' (OAuth2 refresh), " +
                      (oauth ? "not both" : "got neither"));
  }
  if (static_token) {
    for (const std::string_view key : {"token_url", "refresh_token"}) {
      if (t.Has(key)) {
        throw ConfigError("'" + t.Key(key) + "' needs 'client_id' and 'client_secret' " +
                          "(OAuth2 refresh); it means nothing with 'access_token'");
      }
    }
    f.access_token = t.Secret("access_token");
    return;
  }
  f.client_id = t.String("client_id");
  if (f.client_id.empty()) throw ConfigError("'" + t.Key("client_id") + "' must not be empty");
  f.client_secret = t.Secret("client_secret");
  f.token_url = t.String("token_url", f.token_url);
  if (!f.token_url.starts_with("http://") && !f.token_url.starts_with("https://")) {
    throw ConfigError("'" + t.Key("token_url") + "' must be an http:// or https:// URL, got \"" +
                      f.token_url + "\"");
  }
  if (t.Has("refresh_token")) f.refresh_token = t.Secret("refresh_token");
}

FinanceConfig ParseFinance(const Table& t) {
  FinanceConfig f;
  f.kind = t.String("kind");
  if (f.kind == "xero") {
    t.AllowOnly({"kind", "base_url", "access_token", "client_id", "client_secret", "token_url",
                 "refresh_token", "day_limit", "minute_limit", "xero_tenant_id", "webhook_key",
                 "page_size", "ca_file", "timeout_seconds", "max_retries", "max_retry_wait_seconds",
                 "retry_budget_seconds"});
    f.xero_tenant_id = t.String("xero_tenant_id");
    ParseXeroAuth(t, f);
    f.day_limit = static_cast<int>(t.Integer("day_limit", f.day_limit, 1, 1'000'000));
    f.minute_limit = static_cast<int>(t.Integer("minute_limit", f.minute_limit, 1, 1'000'000));
    if (t.Has("webhook_key")) f.webhook_key = t.Secret("webhook_key");
  } else if (f.kind == "qbo") {
    t.AllowOnly({"kind", "base_url", "access_token", "realm_id", "verifier_token", "minorversion",
                 "page_size", "ca_file", "timeout_seconds", "max_retries", "max_retry_wait_seconds",
                 "retry_budget_seconds"});
    if (t.Has("verifier_token")) f.webhook_key = t.Secret("verifier_token");
    f.realm_id = t.String("realm_id");
    if (f.realm_id.empty()) throw ConfigError("'" + t.Key("realm_id") + "' must not be empty");
    f.minorversion = static_cast<int>(t.Integer("minorversion", 75, 1, 1000));
  } else if (f.kind == "myob") {
    t.AllowOnly({"kind", "base_url", "access_token", "api_key", "cftoken", "page_size", "ca_file",
                 "timeout_seconds", "max_retries", "max_retry_wait_seconds",
                 "retry_budget_seconds"});
    f.api_key = t.Secret("api_key");
    if (t.Has("cftoken")) f.cftoken = t.Secret("cftoken");
  } else if (f.kind == "csv") {
    return ParseCsvFinance(t, std::move(f));
  } else {
    throw ConfigError("'" + t.Key("kind") +
                      "' must be \"xero\", \"qbo\", \"myob\" or \"csv\", got \"" + f.kind + "\"");
  }
  f.base_url = BaseUrl(t);
  if (f.kind != "xero") f.access_token = t.Secret("access_token");
  // MYOB's own default page is 400 items; Xero and QBO allow 1000, the fewest round trips.
  f.page_size = static_cast<int>(t.Integer("page_size", f.kind == "myob" ? 400 : 1000, 1, 1000));
  f.http = Http(t);
  return f;
}

PortalConfig ParsePortal(const Table& t) {
  PortalConfig p;
  p.kind = t.String("kind");
  if (p.kind != "scim") {
    throw ConfigError("'" + t.Key("kind") + "' must be \"scim\", got \"" + p.kind + "\"");
  }
  t.AllowOnly({"kind", "base_url", "token", "page_size", "ca_file", "timeout_seconds",
               "max_retries", "max_retry_wait_seconds", "retry_budget_seconds"});
  p.base_url = BaseUrl(t);
  p.token = t.Secret("token");
  p.page_size = static_cast<int>(t.Integer("page_size", 500, 1, 10000));
  p.http = Http(t);
  return p;
}

RulesConfig ParseRules(const Table& t) {
  t.AllowOnly({"loose_domains", "plus_domains", "max_deactivations", "max_deactivation_ratio"});
  RulesConfig r;
  r.loose_domains = t.Strings("loose_domains", r.loose_domains);
  r.plus_domains = t.Strings("plus_domains", r.plus_domains);
  r.max_deactivations = static_cast<int>(t.Integer("max_deactivations", 500, 0, 1'000'000'000));
  r.max_deactivation_ratio = t.Number("max_deactivation_ratio", 0.2, 0.0, 1.0);
  return r;
}

TenantConfig ParseTenant(const Table& t) {
  t.AllowOnly({"id", "interval", "full_interval", "overlap", "finance", "portal", "rules"});
  TenantConfig tenant;
  tenant.id = t.String("id");
  if (tenant.id.empty()) throw ConfigError("'" + t.Key("id") + "' must not be empty");
  tenant.interval = t.Duration("interval", tenant.interval);
  tenant.full_interval = t.Duration("full_interval", tenant.full_interval);
  tenant.overlap = t.Duration("overlap", tenant.overlap);
  tenant.finance = ParseFinance(t.Sub("finance"));
  tenant.portal = ParsePortal(t.Sub("portal"));
  tenant.rules = ParseRules(t.Sub("rules", false));
  return tenant;
}

}  // namespace

std::string SecretRef::Resolve() const {
  if (reference.starts_with("env:")) {
    auto name = reference.substr(4);
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) {
      throw ConfigError("'" + key + "' refers to environment variable " + name +
                        ", which is not set");
    }
    return value;
  }
  auto path = reference.substr(5);
  std::ifstream in(path);
  if (!in) throw ConfigError("'" + key + "' refers to file " + path + ", which cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) {
    value.pop_back();
  }
  if (value.empty()) throw ConfigError("'" + key + "' refers to file " + path + ", which is empty");
  return value;
}

const TenantConfig& Config::Tenant(const std::string& id) const {
  if (const auto* tenant = FindTenant(id)) return *tenant;
  throw ConfigError("no tenant with id '" + id + "' in the configuration");
}

const TenantConfig* Config::FindTenant(const std::string& id) const {
  for (const auto& t : tenants) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::chrono::seconds ParseDuration(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("empty duration");
  std::int64_t total = 0;
  while (!text.empty()) {
    std::int64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data() + text.size() || number < 0) {
      throw std::invalid_argument("bad duration");
    }
    text.remove_prefix(end - text.data());
    std::int64_t unit = 0;
    switch (text.front()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        throw std::invalid_argument("bad duration unit");
    }
    text.remove_prefix(1);
    total += number * unit;
  }
  return std::chrono::seconds(total);
}

Config ParseConfig(const std::string& toml_text, const std::string& origin,
                   const std::string& database_url_override) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(origin + ":" + std::to_string(where.line) + ":" +
                      std::to_string(where.column) + ": " + std::string(e.description()));
  }
  Table top(root, "");
  top.AllowOnly({"database", "http", "log", "scheduler", "tenant"});
  Config config;

  auto database = top.Sub("database", database_url_override.empty());
  database.AllowOnly({"url"});
  config.database_url =
      database_url_override.empty() ? database.String("url") : database_url_override;

  auto http = top.Sub("http", false);
  http.AllowOnly({"listen", "admin_tokens", "read_tokens"});
  config.http.listen = http.String("listen", config.http.listen);
  config.http.admin_tokens = Secrets(http, "admin_tokens");
  config.http.read_tokens = Secrets(http, "read_tokens");

  auto log = top.Sub("log", false);
  log.AllowOnly({"format", "level"});
  config.log.format = log.String("format", config.log.format);
  if (config.log.format != "json" && config.log.format != "text") {
    throw ConfigError("'log.format' must be \"json\" or \"text\", got \"" + config.log.format +
                      "\"");
  }
  config.log.level = log.String("level", config.log.level);
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error"};
  if (!kLevels.contains(config.log.level)) {
    throw ConfigError("'log.level' must be one of trace, debug, info, warn, error; got \"" +
                      config.log.level + "\"");
  }

  auto scheduler = top.Sub("scheduler", false);
  scheduler.AllowOnly({"concurrent_runs"});
  config.scheduler.concurrent_runs = static_cast<int>(
      scheduler.Integer("concurrent_runs", config.scheduler.concurrent_runs, 1, 64));

  if (const auto* tenants = root.get("tenant")) {
    const auto* array = tenants->as_array();
    if (!array) throw ConfigError("'tenant' must be an array of tables ([[tenant]])");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto* table = (*array)[i].as_table();
      std::string path = "tenant[" + std::to_string(i) + "]";
      if (!table) throw ConfigError("'" + path + "' must be a table");
      auto tenant = ParseTenant(Table(*table, path));
      if (!seen.insert(tenant.id).second) {
        throw ConfigError("'" + path + ".id': tenant '" + tenant.id + "' is configured twice");
      }
      config.tenants.push_back(std::move(tenant));
    }
  }
  return config;
}

Config LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read configuration file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const char* url = std::getenv("CONCORD_DATABASE_URL");
  return ParseConfig(buffer.str(), path, url ? url : "");
}

}  // namespace concord::daemon
