#pragma once
// Builds a tenant's finance and portal sources from its configuration: the one place that
// maps a configured `kind` to a connector, used by the one-shot CLI and the daemon alike.

#include <memory>
#include <string_view>

#include "connectors/source.hpp"
#include "daemon/config.hpp"

namespace concord::daemon {

// Resolves the secrets the source needs; throws ConfigError naming the key when one cannot be
// read, std::invalid_argument when the connector refuses its settings. Every retry the source
// makes is logged as a warning ("http_retry") naming `tenant`.
std::unique_ptr<connectors::FinanceSource> MakeFinanceSource(const FinanceConfig& finance,
                                                             std::string_view tenant = {});
std::unique_ptr<connectors::PortalSource> MakePortalSource(const PortalConfig& portal,
                                                           std::string_view tenant = {});

}  // namespace concord::daemon
