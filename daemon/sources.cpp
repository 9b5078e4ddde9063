#include "daemon/sources.hpp"

#include <string>

#include "daemon/log.hpp"

namespace concord::daemon {
namespace {

// The connector's retry notices as warning log lines (the connectors do no logging).
connectors::HttpSettings Logged(connectors::HttpSettings http, std::string_view tenant) {
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

std::unique_ptr<connectors::FinanceSource> MakeFinanceSource(const FinanceConfig& f,
                                                             std::string_view tenant) {
  // config.cpp accepts only the kinds handled here.
  if (f.kind == "qbo") {
    return connectors::MakeQboSource({.base_url = f.base_url,
                                      .access_token = f.access_token.Resolve(),
                                      .realm_id = f.realm_id,
                                      .page_size = f.page_size,
                                      .minorversion = f.minorversion,
                                      .http = Logged(f.http, tenant)});
  }
  if (f.kind == "myob") {
    return connectors::MakeMyobSource({.base_url = f.base_url,
                                       .api_key = f.api_key.Resolve(),
                                       .access_token = f.access_token.Resolve(),
                                       .cftoken = f.cftoken ? f.cftoken->Resolve() : std::string(),
                                       .page_size = f.page_size,
                                       .http = Logged(f.http, tenant)});
  }
  if (f.kind == "csv") {
    return connectors::MakeCsvSource({.path = f.path, .format = f.csv, .page_size = f.page_size});
  }
  return connectors::MakeXeroSource({f.base_url, f.access_token.Resolve(), f.xero_tenant_id,
                                     f.page_size, Logged(f.http, tenant)});
}

std::unique_ptr<connectors::PortalSource> MakePortalSource(const PortalConfig& p,
                                                           std::string_view tenant) {
  return connectors::MakeScimSource(
      {p.base_url, p.token.Resolve(), p.page_size, Logged(p.http, tenant)});
}

}  // namespace concord::daemon
