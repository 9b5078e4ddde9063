#pragma once
// The outbound proxies a process's environment names, read the way curl reads them. Pure given
// the lookup, so the unit tests pass a table instead of the real environment.

#include <functional>

#include "connectors/source.hpp"

namespace concord::daemon {

// Looks up an environment variable: std::getenv, or a table in tests.
using EnvironmentLookup = std::function<const char*(const char*)>;

// The outbound proxies from the environment, each variable in lower case first, then upper
// case (curl's order): https_proxy/HTTPS_PROXY, http_proxy/HTTP_PROXY, no_proxy/NO_PROXY.
// Throws ConfigError naming the variable when its proxy URL is unusable (the message never
// shows the credentials). MakeFinanceSource and MakePortalSource apply it with std::getenv.
connectors::ProxySettings ProxySettingsFromEnvironment(const EnvironmentLookup& getenv);

}  // namespace concord::daemon
