#include "daemon/proxy_environment.hpp"

#include <stdexcept>
#include <string>

#include "connectors/http_proxy.hpp"
#include "daemon/config.hpp"

namespace concord::daemon {

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

}  // namespace concord::daemon
