#include "daemon/sources.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "connectors/http_proxy.hpp"
#include "daemon/log.hpp"

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

}  // namespace

connectors::ProxySettings ProxySettingsFromEnvironment(const EnvironmentLookup& getenv) {
  const auto read = [&](const char* lower, const char* upper, bool is_url) {
    const char* name = lower;
    const char* value = getenv(lower);
    if (value == nullptr || *value == '\0') {
      name = upper;
      value = getenv(upper);
    }
    if (value == nullptr) return std::string();
    if (is_url && *value != '\0') {
      try {
        (void)connectors::ParseProxyUrl(value);
      } catch (const std::invalid_argument& e) {
        throw ConfigError("environment variable " + std::string(name) + ": " + e.what());
      }
    }
    return std::string(value);
  };
  connectors::ProxySettings proxy;
  proxy.https_proxy = read("https_proxy", "HTTPS_PROXY", true);
  proxy.http_proxy = read("http_proxy", "HTTP_PROXY", true);
  proxy.no_proxy = read("no_proxy", "NO_PROXY", false);
  return proxy;
}

std::unique_ptr<connectors::FinanceSource> MakeFinanceSource(const FinanceConfig& f,
                                                             std::string_view tenant) {
  // config.cpp accepts only the kinds handled here.
  if (f.kind == "qbo") {
    return connectors::MakeQboSource({.base_url = f.base_url,
                                      .access_token = f.access_token.Resolve(),
                                      .realm_id = f.realm_id,
                                      .page_size = f.page_size,
                                      .minorversion = f.minorversion,
                                      .http = Outbound(f.http, tenant)});
  }
  if (f.kind == "myob") {
    return connectors::MakeMyobSource({.base_url = f.base_url,
                                       .api_key = f.api_key.Resolve(),
                                       .access_token = f.access_token.Resolve(),
                                       .cftoken = f.cftoken ? f.cftoken->Resolve() : std::string(),
                                       .page_size = f.page_size,
                                       .http = Outbound(f.http, tenant)});
  }
  if (f.kind == "csv") {
    return connectors::MakeCsvSource({.path = f.path, .format = f.csv, .page_size = f.page_size});
  }
  return connectors::MakeXeroSource({f.base_url, f.access_token.Resolve(), f.xero_tenant_id,
                                     f.page_size, Outbound(f.http, tenant)});
}

std::unique_ptr<connectors::PortalSource> MakePortalSource(const PortalConfig& p,
                                                           std::string_view tenant) {
  return connectors::MakeScimSource(
      {p.base_url, p.token.Resolve(), p.page_size, Outbound(p.http, tenant)});
}

}  // namespace concord::daemon
