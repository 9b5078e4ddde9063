#pragma once
// Builds a tenant's finance and portal sources from its configuration: the one place that
// maps a configured `kind` to a connector, used by the one-shot CLI and the daemon alike.

#include <functional>
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

// Looks up an environment variable: std::getenv, or a table in tests.
using EnvironmentLookup = std::function<const char*(const char*)>;

// The outbound proxies from the environment, each variable in lower case first, then upper
// case (curl's order): https_proxy/HTTPS_PROXY, http_proxy/HTTP_PROXY, no_proxy/NO_PROXY.
// Throws ConfigError naming the variable when its proxy URL is unusable (the message never
// shows the credentials). MakeFinanceSource and MakePortalSource apply it with std::getenv.
connectors::ProxySettings ProxySettingsFromEnvironment(const EnvironmentLookup& getenv);

}  // namespace concord::daemon
