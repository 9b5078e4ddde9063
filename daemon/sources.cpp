#include "daemon/sources.hpp"

namespace concord::daemon {

std::unique_ptr<connectors::FinanceSource> MakeFinanceSource(const FinanceConfig& f) {
  // config.cpp accepts only the kinds handled here.
  if (f.kind == "qbo") {
    return connectors::MakeQboSource({.base_url = f.base_url,
                                      .access_token = f.access_token.Resolve(),
                                      .realm_id = f.realm_id,
                                      .page_size = f.page_size,
                                      .minorversion = f.minorversion,
                                      .http = f.http});
  }
  if (f.kind == "myob") {
    return connectors::MakeMyobSource({.base_url = f.base_url,
                                       .api_key = f.api_key.Resolve(),
                                       .access_token = f.access_token.Resolve(),
                                       .cftoken = f.cftoken ? f.cftoken->Resolve() : std::string(),
                                       .page_size = f.page_size,
                                       .http = f.http});
  }
  if (f.kind == "csv") {
    return connectors::MakeCsvSource({.path = f.path, .format = f.csv, .page_size = f.page_size});
  }
  return connectors::MakeXeroSource(
      {f.base_url, f.access_token.Resolve(), f.xero_tenant_id, f.page_size, f.http});
}

std::unique_ptr<connectors::PortalSource> MakePortalSource(const PortalConfig& p) {
  return connectors::MakeScimSource({p.base_url, p.token.Resolve(), p.page_size, p.http});
}

}  // namespace concord::daemon
