// The configuration files shipped under deploy/ parse as written, and the example documents
// the parser's real defaults: it sets every optional key to what the code would choose.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "daemon/config.hpp"

namespace concord::daemon {
namespace {

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(CONCORD_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in) << relative;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The indented block under `key: |` in a YAML file, unindented.
std::string YamlBlock(const std::string& yaml, const std::string& key) {
  std::istringstream in(yaml);
  std::string line, out;
  bool inside = false;
  std::size_t indent = 0;
  while (std::getline(in, line)) {
    if (!inside) {
      auto at = line.find(key + ": |");
      if (at != std::string::npos) {
        inside = true;
        indent = at + 2;
      }
      continue;
    }
    if (!line.empty() && line.find_first_not_of(' ') < indent) break;
    out += (line.size() > indent ? line.substr(indent) : "") + "\n";
  }
  return out;
}

TEST(DeployConfig, ExampleParses) {
  auto config = ParseConfig(ReadSource("deploy/concord.example.toml"), "example", "");
  ASSERT_FALSE(config.tenants.empty());
}

TEST(DeployConfig, ExampleStatesTheDefaults) {
  auto example = ParseConfig(ReadSource("deploy/concord.example.toml"), "example", "");
  // Only what has no default, with the example's values.
  const auto& e = example.tenants.at(0);
  auto minimal = ParseConfig(R"(
[database]
url = ")" + example.database_url +
                                 R"("
[[tenant]]
id = ")" + e.id + R"("
[tenant.finance]
kind = "xero"
base_url = ")" + e.finance.base_url +
                                 R"("
access_token = ")" + e.finance.access_token.reference +
                                 R"("
xero_tenant_id = ")" + e.finance.xero_tenant_id +
                                 R"("
[tenant.portal]
kind = "scim"
base_url = ")" + e.portal.base_url +
                                 R"("
token = ")" + e.portal.token.reference +
                                 R"("
)",
                             "minimal", "");
  const auto& m = minimal.tenants.at(0);
  EXPECT_EQ(example.http.listen, minimal.http.listen);
  EXPECT_EQ(example.log.format, minimal.log.format);
  EXPECT_EQ(example.log.level, minimal.log.level);
  EXPECT_EQ(e.interval, m.interval);
  EXPECT_EQ(e.full_interval, m.full_interval);
  EXPECT_EQ(e.overlap, m.overlap);
  EXPECT_EQ(e.finance.page_size, m.finance.page_size);
  EXPECT_EQ(e.finance.http.ca_file, m.finance.http.ca_file);
  EXPECT_EQ(e.finance.http.timeout_seconds, m.finance.http.timeout_seconds);
  EXPECT_EQ(e.finance.webhook_key.has_value(), m.finance.webhook_key.has_value())
      << "webhook_key is shown commented out: no webhooks by default";
  EXPECT_EQ(e.portal.page_size, m.portal.page_size);
  EXPECT_EQ(e.portal.http.ca_file, m.portal.http.ca_file);
  EXPECT_EQ(e.portal.http.timeout_seconds, m.portal.http.timeout_seconds);
  EXPECT_EQ(e.rules.loose_domains, m.rules.loose_domains);
  EXPECT_EQ(e.rules.plus_domains, m.rules.plus_domains);
  EXPECT_EQ(e.rules.max_deactivations, m.rules.max_deactivations);
  EXPECT_EQ(e.rules.max_deactivation_ratio, m.rules.max_deactivation_ratio);
}

TEST(DeployConfig, ExampleQboTenantStatesTheDefaults) {
  auto example = ParseConfig(ReadSource("deploy/concord.example.toml"), "example", "");
  const TenantConfig* qbo = nullptr;
  for (const auto& t : example.tenants) {
    if (t.finance.kind == "qbo") qbo = &t;
  }
  ASSERT_NE(qbo, nullptr) << "the example shows a QuickBooks Online tenant";
  auto minimal = ParseConfig(R"(
[database]
url = "postgresql:///x"
[[tenant]]
id = "q"
[tenant.finance]
kind = "qbo"
base_url = "https://quickbooks.api.intuit.com"
realm_id = "1"
access_token = "env:Q"
[tenant.portal]
kind = "scim"
base_url = "https://portal.example/scim/v2"
token = "env:P"
)",
                             "minimal", "");
  const auto& m = minimal.tenants.at(0).finance;
  EXPECT_EQ(qbo->finance.minorversion, m.minorversion);
  EXPECT_EQ(qbo->finance.page_size, m.page_size);
  EXPECT_EQ(qbo->finance.http.ca_file, m.http.ca_file);
  EXPECT_EQ(qbo->finance.http.timeout_seconds, m.http.timeout_seconds);
  EXPECT_FALSE(qbo->finance.realm_id.empty());
  EXPECT_EQ(qbo->finance.webhook_key.has_value(), m.webhook_key.has_value())
      << "verifier_token is shown commented out: no webhooks by default";
}

TEST(DeployConfig, ExampleMyobTenantStatesTheDefaults) {
  auto example = ParseConfig(ReadSource("deploy/concord.example.toml"), "example", "");
  const TenantConfig* myob = nullptr;
  for (const auto& t : example.tenants) {
    if (t.finance.kind == "myob") myob = &t;
  }
  ASSERT_NE(myob, nullptr) << "the example shows a MYOB tenant";
  auto minimal = ParseConfig(R"(
[database]
url = "postgresql:///x"
[[tenant]]
id = "m"
[tenant.finance]
kind = "myob"
base_url = "https://arl2.api.myob.com/accountright/cf"
api_key = "env:K"
access_token = "env:Q"
[tenant.portal]
kind = "scim"
base_url = "https://portal.example/scim/v2"
token = "env:P"
)",
                             "minimal", "");
  const auto& m = minimal.tenants.at(0).finance;
  EXPECT_EQ(myob->finance.page_size, m.page_size);
  EXPECT_EQ(myob->finance.http.ca_file, m.http.ca_file);
  EXPECT_EQ(myob->finance.http.timeout_seconds, m.http.timeout_seconds);
  EXPECT_EQ(myob->finance.cftoken.has_value(), m.cftoken.has_value())
      << "cftoken is shown commented out: not sent by default";
  EXPECT_FALSE(myob->finance.api_key.reference.empty());
}

TEST(DeployConfig, ExampleCsvTenantStatesTheDefaults) {
  auto example = ParseConfig(ReadSource("deploy/concord.example.toml"), "example", "");
  const TenantConfig* csv = nullptr;
  for (const auto& t : example.tenants) {
    if (t.finance.kind == "csv") csv = &t;
  }
  ASSERT_NE(csv, nullptr) << "the example shows a CSV tenant";
  auto minimal = ParseConfig(R"(
[database]
url = "postgresql:///x"
[[tenant]]
id = "c"
[tenant.finance]
kind = "csv"
path = "/var/lib/concord/drop/c"
[tenant.portal]
kind = "scim"
base_url = "https://portal.example/scim/v2"
token = "env:P"
)",
                             "minimal", "");
  const auto& m = minimal.tenants.at(0).finance;
  EXPECT_EQ(csv->finance.csv, m.csv) << "columns, delimiter and archived_statuses";
  EXPECT_EQ(csv->finance.page_size, m.page_size);
  EXPECT_FALSE(csv->finance.path.empty());
}

// The webhook keys the example shows commented out are real keys: uncommented, it parses.
TEST(DeployConfig, ExampleWebhookKeysParseUncommented) {
  auto text = ReadSource("deploy/concord.example.toml");
  for (std::string commented : {"# webhook_key = ", "# verifier_token = "}) {
    auto at = text.find(commented);
    ASSERT_NE(at, std::string::npos) << commented;
    text.erase(at, 2);
  }
  auto config = ParseConfig(text, "example", "");
  int with_key = 0;
  for (const auto& t : config.tenants) with_key += t.finance.webhook_key.has_value();
  EXPECT_EQ(with_key, 2);
}

TEST(DeployConfig, DemoParses) {
  auto config = ParseConfig(ReadSource("deploy/demo/concord.toml"), "demo", "");
  EXPECT_EQ(config.tenants.size(), 1u);
}

TEST(DeployConfig, KubernetesConfigMapParses) {
  auto toml = YamlBlock(ReadSource("deploy/k8s/concord.yaml"), "concord.toml");
  ASSERT_NE(toml.find("[[tenant]]"), std::string::npos) << toml;
  auto config = ParseConfig(toml, "k8s", "");
  EXPECT_EQ(config.http.listen, "0.0.0.0:8080");
  EXPECT_EQ(config.tenants.size(), 1u);
}

}  // namespace
}  // namespace concord::daemon
