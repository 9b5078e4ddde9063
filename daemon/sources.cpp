#include "daemon/sources.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "connectors/oauth.hpp"
#include "connectors/rate_limiter.hpp"
#include "connectors/xero.hpp"
#include "daemon/log.hpp"
#include "daemon/proxy_environment.hpp"
#include "store/oauth_tokens.hpp"

namespace concord::daemon {
namespace {

// The configured transport settings, plus the proxies the process environment names and the
// connector's retry notices as warning log lines (the connectors do no logging).
connectors::HttpSettings Outbound(connectors::HttpSettings http, std::string_view tenant) {
  http.proxy = ProxySettingsFromEnvironment([](const char* name) { return std::getenv(name); });
  http.hooks.on_retry = [tenant = std::string(tenant)](const connectors::RetryNotice& notice) {
    Log(Level::kWarn, "http_retry",
        {{"tenant", tenant},
         {"connector", notice.connector},
         {"url", notice.url},
         {"cause", notice.cause},
         {"attempt", notice.attempt},
         {"max_attempts", notice.max_attempts},
         {"wait_ms", notice.wait.count()}});
  };
  return http;
}

using connectors::OAuthTokens;
using store::OAuthTokenRow;

std::optional<OAuthTokens> ToTokens(const std::optional<OAuthTokenRow>& row) {
  if (!row) return std::nullopt;
  return OAuthTokens{row->refresh_token, row->access_token, row->access_expires_ms,
                     row->seed_fingerprint};
}

OAuthTokenRow ToRow(const OAuthTokens& tokens) {
  return {tokens.refresh_token, tokens.access_token, tokens.access_expires_at,
          tokens.seed_fingerprint};
}

// connectors::TokenStore over the PostgreSQL table (store/oauth_tokens.hpp), connected on
// first use.
class PgTokenStore final : public connectors::TokenStore {
 public:
  PgTokenStore(std::function<store::Connection&()> conn, std::string tenant_id,
               std::string connector)
      : conn_(std::move(conn)),
        tenant_id_(std::move(tenant_id)),
        connector_(std::move(connector)) {}

  std::optional<OAuthTokens> Load() override { return ToTokens(Store().Load()); }

  OAuthTokens Update(const Updater& update) override {
    const OAuthTokenRow stored = Store().Update(
        [&](const std::optional<OAuthTokenRow>& row) -> std::optional<OAuthTokenRow> {
          const std::optional<OAuthTokens> next = update(ToTokens(row));
          if (!next) return std::nullopt;
          return ToRow(*next);
        });
    return *ToTokens(stored);
  }

 private:
  store::OAuthTokenStore& Store() {
    if (!store_) store_.emplace(conn_(), tenant_id_, connector_);
    return *store_;
  }

  std::function<store::Connection&()> conn_;
  std::string tenant_id_;
  std::string connector_;
  std::optional<store::OAuthTokenStore> store_;
};

// A source together with the token store it refers to (declared first: destroyed last).
class SourceWithTokens final : public connectors::FinanceSource {
 public:
  SourceWithTokens(std::unique_ptr<connectors::TokenStore> tokens,
                   std::unique_ptr<connectors::FinanceSource> source)
      : tokens_(std::move(tokens)), source_(std::move(source)) {}

  connectors::FetchSummary Fetch(
      const connectors::FetchRequest& request,
      const std::function<void(connectors::FinancePage&&)>& on_page) override {
    return source_->Fetch(request, on_page);
  }

 private:
  std::unique_ptr<connectors::TokenStore> tokens_;
  std::unique_ptr<connectors::FinanceSource> source_;
};

// The tenant's Xero limiter, kept for the life of the process so each run starts from the
// calls the previous ones made (replaced when the configured limits change).
std::shared_ptr<connectors::RateLimiter> TenantLimiter(const std::string& tenant,
                                                       const connectors::RateLimits& limits) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<connectors::RateLimiter>> limiters;
  std::lock_guard lock(mutex);
  auto& limiter = limiters[tenant];
  if (!limiter || limiter->limits() != limits) {
    limiter = std::make_shared<connectors::RateLimiter>(limits);
  }
  return limiter;
}

std::unique_ptr<connectors::FinanceSource> MakeXero(const FinanceConfig& f,
                                                    const SourceContext& context) {
  connectors::XeroSettings settings{
      f.base_url, {}, f.xero_tenant_id, f.page_size, Outbound(f.http, context.tenant_id)};
  connectors::XeroAccess access;
  access.limiter =
      TenantLimiter(context.tenant_id, {.per_minute = f.minute_limit, .per_day = f.day_limit});
  access.on_limit = [tenant = context.tenant_id,
                     metrics = context.metrics](std::string_view limit) {
    Log(Level::kWarn, "rate_limit_hit",
        {{"tenant", tenant}, {"connector", "xero"}, {"limit", limit}});
    if (metrics != nullptr) {
      metrics->Add("concord_rate_limit_hits_total",
                   {{"tenant", tenant}, {"connector", "xero"}, {"limit", std::string(limit)}});
    }
  };
  if (!f.client_secret) {
    settings.access_token = f.access_token.Resolve();
    return connectors::MakeXeroSource(std::move(settings), std::move(access));
  }
  if (!context.conn) {
    throw std::invalid_argument("xero: OAuth2 refresh needs the database to keep its tokens");
  }
  connectors::OAuthSettings oauth;
  oauth.token_url = f.token_url;
  oauth.client_id = f.client_id;
  oauth.client_secret = f.client_secret->Resolve();
  if (f.refresh_token) {
    // Resolved now, like every other secret: an unreadable one is a configuration error before
    // the run starts, not an exception in the middle of its fetch.
    oauth.initial_refresh_token = [token = f.refresh_token->Resolve()] { return token; };
  }
  access.oauth = std::move(oauth);
  auto tokens = std::make_unique<PgTokenStore>(context.conn, context.tenant_id, "xero");
  access.token_store = tokens.get();
  auto source = connectors::MakeXeroSource(std::move(settings), std::move(access));
  return std::make_unique<SourceWithTokens>(std::move(tokens), std::move(source));
}

}  // namespace

std::unique_ptr<connectors::FinanceSource> MakeFinanceSource(const FinanceConfig& f,
                                                             const SourceContext& context) {
  // config.cpp accepts only the kinds handled here.
  if (f.kind == "qbo") {
    return connectors::MakeQboSource({.base_url = f.base_url,
                                      .access_token = f.access_token.Resolve(),
                                      .realm_id = f.realm_id,
                                      .page_size = f.page_size,
                                      .minorversion = f.minorversion,
                                      .http = Outbound(f.http, context.tenant_id)});
  }
  if (f.kind == "myob") {
    return connectors::MakeMyobSource({.base_url = f.base_url,
                                       .api_key = f.api_key.Resolve(),
                                       .access_token = f.access_token.Resolve(),
                                       .cftoken = f.cftoken ? f.cftoken->Resolve() : std::string(),
                                       .page_size = f.page_size,
                                       .http = Outbound(f.http, context.tenant_id)});
  }
  if (f.kind == "csv") {
    return connectors::MakeCsvSource({.path = f.path, .format = f.csv, .page_size = f.page_size});
  }
  return MakeXero(f, context);
}

std::unique_ptr<connectors::PortalSource> MakePortalSource(const PortalConfig& p,
                                                           std::string_view tenant) {
  return connectors::MakeScimSource(
      {p.base_url, p.token.Resolve(), p.page_size, Outbound(p.http, tenant)});
}

}  // namespace concord::daemon
