#pragma once
// Builds a tenant's finance and portal sources from its configuration: the one place that
// maps a configured `kind` to a connector, used by the one-shot CLI and the daemon alike.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/source.hpp"
#include "daemon/config.hpp"
#include "daemon/metrics.hpp"
#include "store/pg.hpp"

namespace concord::daemon {

// What a source needs beyond its configuration.
struct SourceContext {
  std::string tenant_id;
  // The connection a Xero source with OAuth2 refresh keeps the tenant's tokens through, called
  // when they are first needed (so configuration errors show before the database is reached).
  // The connection must outlive the source and have no transaction open while it fetches.
  // Empty: such a source cannot be built.
  std::function<store::Connection&()> conn;
  Metrics* metrics = nullptr;  // counts rate-limit hits when set
};

// Resolves the secrets the source needs; throws ConfigError naming the key when one cannot be
// read, std::invalid_argument when the connector refuses its settings. Every retry a source
// makes is logged as a warning ("http_retry") naming the tenant. A Xero source shares its
// tenant's call limiter with every other Xero source of that tenant in this process.
std::unique_ptr<connectors::FinanceSource> MakeFinanceSource(const FinanceConfig& finance,
                                                             const SourceContext& context);
std::unique_ptr<connectors::PortalSource> MakePortalSource(const PortalConfig& portal,
                                                           std::string_view tenant = {});

}  // namespace concord::daemon
