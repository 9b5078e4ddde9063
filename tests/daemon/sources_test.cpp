// The wiring layer's reading of HTTPS_PROXY, HTTP_PROXY and NO_PROXY, through a lookup table.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "daemon/config.hpp"
#include "daemon/proxy_environment.hpp"

namespace concord::daemon {
namespace {

EnvironmentLookup Table(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  };
}

TEST(ProxySettingsFromEnvironment, NothingSetMeansNoProxy) {
  EXPECT_EQ(ProxySettingsFromEnvironment(Table({})), connectors::ProxySettings{});
}

TEST(ProxySettingsFromEnvironment, LowerCaseFirstThenUpperCase) {
  const connectors::ProxySettings proxy =
      ProxySettingsFromEnvironment(Table({{"https_proxy", "http://lower:3128"},
                                          {"HTTPS_PROXY", "http://upper:3128"},
                                          {"http_proxy", ""},
                                          {"HTTP_PROXY", "http://plain:8080"},
                                          {"NO_PROXY", ".internal.example,10.0.0.1"}}));
  EXPECT_EQ(proxy.https_proxy, "http://lower:3128");
  EXPECT_EQ(proxy.http_proxy, "http://plain:8080") << "an empty lower-case one defers";
  EXPECT_EQ(proxy.no_proxy, ".internal.example,10.0.0.1");
}

TEST(ProxySettingsFromEnvironment, AnUnusableUrlIsAConfigErrorNamingTheVariable) {
  try {
    (void)ProxySettingsFromEnvironment(Table({{"HTTPS_PROXY", "https://u:secret@proxy:443"}}));
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("environment variable HTTPS_PROXY"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace concord::daemon
