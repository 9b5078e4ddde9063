// The TOML configuration: the contract config from issue 2 parses as written; every problem
// is an error that names the key.

#include "daemon/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace concord::daemon {
namespace {

const std::string kContract = R"(
[database]
url = "postgresql:///concord?host=/tmp/concord-pg&port=55432"

[http]
listen = "127.0.0.1:8080"
admin_tokens = ["env:CONCORD_ADMIN_TOKEN"]
read_tokens = []

[log]
format = "json"
level = "info"

[[tenant]]
id = "acme"
interval = "15m"
full_interval = "24h"

[tenant.finance]
kind = "xero"
base_url = "http://127.0.0.1:18080/api.xro/2.0"
access_token = "env:ACME_XERO_TOKEN"
xero_tenant_id = "b5a3c1d2-0000-4000-8000-000000000001"
page_size = 1000

[tenant.portal]
kind = "scim"
base_url = "http://127.0.0.1:18081/scim/v2"
token = "env:ACME_PORTAL_TOKEN"
page_size = 500
)";

std::string ErrorOf(const std::string& text, const std::string& url_override = "") {
  try {
    ParseConfig(text, "test.toml", url_override);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(ConfigTest, ContractConfigParsesAsWritten) {
  auto config = ParseConfig(kContract, "test.toml", "");
  EXPECT_EQ(config.database_url, "postgresql:///concord?host=/tmp/concord-pg&port=55432");
  EXPECT_EQ(config.http.listen, "127.0.0.1:8080");
  ASSERT_EQ(config.http.admin_tokens.size(), 1u);
  ASSERT_EQ(config.tenants.size(), 1u);
  const auto& t = config.Tenant("acme");
  EXPECT_EQ(t.interval, std::chrono::minutes(15));
  EXPECT_EQ(t.full_interval, std::chrono::hours(24));
  EXPECT_EQ(t.finance.kind, "xero");
  EXPECT_EQ(t.finance.page_size, 1000);
  EXPECT_EQ(t.finance.xero_tenant_id, "b5a3c1d2-0000-4000-8000-000000000001");
  EXPECT_EQ(t.portal.base_url, "http://127.0.0.1:18081/scim/v2");
  EXPECT_EQ(t.portal.page_size, 500);
  EXPECT_EQ(t.rules.max_deactivations, 500);
  EXPECT_DOUBLE_EQ(t.rules.max_deactivation_ratio, 0.2);
  EXPECT_EQ(t.overlap, std::chrono::minutes(5));
  EXPECT_EQ(config.scheduler.concurrent_runs, 4);
}

TEST(ConfigTest, DatabaseUrlOverrideWins) {
  auto config = ParseConfig(kContract, "test.toml", "postgresql:///other");
  EXPECT_EQ(config.database_url, "postgresql:///other");
}

TEST(ConfigTest, ErrorsNameTheKey) {
  struct Case {
    std::string from, to, expected;
  };
  const Case cases[] = {
      {"page_size = 500", "page_size = 500\ncolour = \"red\"", "tenant[0].portal.colour"},
      {"interval = \"15m\"", "interval = \"fifteen\"", "tenant[0].interval"},
      {"kind = \"xero\"", "kind = \"sage\"", "tenant[0].finance.kind"},
      {"xero_tenant_id = \"b5a3c1d2-0000-4000-8000-000000000001\"\n", "",
       "tenant[0].finance.xero_tenant_id"},
      {"access_token = \"env:ACME_XERO_TOKEN\"", "access_token = \"hunter2\"",
       "tenant[0].finance.access_token"},
      {"page_size = 1000", "page_size = 5000", "tenant[0].finance.page_size"},
      {"level = \"info\"", "level = \"loud\"", "log.level"},
      {"[log]", "[logging]", "logging"},
      {"[log]", "[scheduler]\nconcurrent_runs = 0\n[log]", "scheduler.concurrent_runs"},
      {"[log]", "[scheduler]\nthreads = 2\n[log]", "scheduler.threads"},
      {"base_url = \"http://127.0.0.1:18081/scim/v2\"", "base_url = \"ftp://x\"",
       "tenant[0].portal.base_url"},
  };
  for (const auto& c : cases) {
    auto error = ErrorOf(Replace(kContract, c.from, c.to));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "error \"" << error << "\" should name " << c.expected;
  }
}

// Xero by OAuth2 refresh instead of a static token: its keys, defaults, and either/or.
TEST(ConfigTest, XeroOAuthRefresh) {
  const std::string oauth =
      Replace(kContract, "access_token = \"env:ACME_XERO_TOKEN\"",
              "client_id = \"app-1\"\nclient_secret = \"env:XERO_SECRET\"\n"
              "refresh_token = \"file:/run/secrets/xero-refresh\"\nday_limit = 1000\n"
              "minute_limit = 30");
  const auto config = ParseConfig(oauth, "test.toml", "");
  const FinanceConfig& f = config.Tenant("acme").finance;
  EXPECT_EQ(f.client_id, "app-1");
  ASSERT_TRUE(f.client_secret);
  EXPECT_EQ(f.client_secret->key, "tenant[0].finance.client_secret");
  ASSERT_TRUE(f.refresh_token);
  EXPECT_EQ(f.refresh_token->reference, "file:/run/secrets/xero-refresh");
  EXPECT_EQ(f.token_url, "https://identity.xero.com/connect/token");
  EXPECT_EQ(f.day_limit, 1000);
  EXPECT_EQ(f.minute_limit, 30);
  EXPECT_TRUE(f.access_token.reference.empty());
  EXPECT_EQ(ParseConfig(kContract, "test.toml", "").Tenant("acme").finance.day_limit, 5000);
  EXPECT_EQ(ParseConfig(kContract, "test.toml", "").Tenant("acme").finance.minute_limit, 60);

  const std::string both = Replace(kContract, "access_token = \"env:ACME_XERO_TOKEN\"",
                                   "access_token = \"env:ACME_XERO_TOKEN\"\nclient_id = \"a\"\n"
                                   "client_secret = \"env:S\"");
  EXPECT_NE(ErrorOf(both).find("'tenant[0].finance' must have either 'access_token'"),
            std::string::npos)
      << ErrorOf(both);
  EXPECT_NE(ErrorOf(both).find("not both"), std::string::npos);
  const std::string neither = Replace(kContract, "access_token = \"env:ACME_XERO_TOKEN\"\n", "");
  EXPECT_NE(ErrorOf(neither).find("got neither"), std::string::npos) << ErrorOf(neither);
  const struct {
    std::string from, to, expected;
  } cases[] = {
      {"client_secret = \"env:XERO_SECRET\"", "client_secret = \"hunter2\"",
       "tenant[0].finance.client_secret"},
      {"client_secret = \"env:XERO_SECRET\"\n", "", "tenant[0].finance.client_secret"},
      {"day_limit = 1000", "day_limit = 0", "tenant[0].finance.day_limit"},
      {"minute_limit = 30", "minute_limit = 0", "tenant[0].finance.minute_limit"},
      {"day_limit = 1000", "token_url = \"ftp://x\"", "tenant[0].finance.token_url"},
      {"client_id = \"app-1\"", "client_id = \"\"", "tenant[0].finance.client_id"},
  };
  for (const auto& c : cases) {
    const std::string error = ErrorOf(Replace(oauth, c.from, c.to));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "error \"" << error << "\" should name " << c.expected;
  }
  EXPECT_NE(
      ErrorOf(Replace(kContract, "page_size = 1000", "page_size = 1000\nrefresh_token = \"env:R\""))
          .find("tenant[0].finance.refresh_token"),
      std::string::npos)
      << "refresh_token means nothing with a static access_token";
}

// The QuickBooks Online finance section: its own keys, defaults, and errors naming them.
const std::string kQboFinance = R"([tenant.finance]
kind = "qbo"
base_url = "https://quickbooks.api.intuit.com/"
access_token = "env:ACME_QBO_TOKEN"
realm_id = "9130350000000001"
)";

std::string WithQbo(const std::string& finance) {
  const auto start = kContract.find("[tenant.finance]");
  const auto end = kContract.find("[tenant.portal]");
  return kContract.substr(0, start) + finance + "\n" + kContract.substr(end);
}

TEST(ConfigTest, QboFinanceParsesWithDefaults) {
  auto config = ParseConfig(WithQbo(kQboFinance), "test.toml", "");
  const auto& f = config.Tenant("acme").finance;
  EXPECT_EQ(f.kind, "qbo");
  EXPECT_EQ(f.base_url, "https://quickbooks.api.intuit.com");
  EXPECT_EQ(f.realm_id, "9130350000000001");
  EXPECT_EQ(f.access_token.reference, "env:ACME_QBO_TOKEN");
  EXPECT_EQ(f.minorversion, 75);
  EXPECT_EQ(f.page_size, 1000);
  EXPECT_EQ(f.http.timeout_seconds, 30);

  auto tuned =
      ParseConfig(WithQbo(kQboFinance + "minorversion = 76\npage_size = 200\n"), "test.toml", "");
  EXPECT_EQ(tuned.Tenant("acme").finance.minorversion, 76);
  EXPECT_EQ(tuned.Tenant("acme").finance.page_size, 200);
}

TEST(ConfigTest, QboErrorsNameTheKey) {
  struct Case {
    std::string finance, expected;
  };
  const Case cases[] = {
      {Replace(kQboFinance, "realm_id = \"9130350000000001\"\n", ""), "tenant[0].finance.realm_id"},
      {Replace(kQboFinance, "realm_id = \"9130350000000001\"", "realm_id = \"\""),
       "tenant[0].finance.realm_id"},
      {kQboFinance + "page_size = 1001\n", "tenant[0].finance.page_size"},
      {kQboFinance + "minorversion = 0\n", "tenant[0].finance.minorversion"},
      {kQboFinance + "minorversion = \"75\"\n", "tenant[0].finance.minorversion"},
      {kQboFinance + "xero_tenant_id = \"x\"\n", "tenant[0].finance.xero_tenant_id"},
      {Replace(kQboFinance, "env:ACME_QBO_TOKEN", "literal-token"),
       "tenant[0].finance.access_token"},
      {Replace(kQboFinance, "https://quickbooks.api.intuit.com/", "quickbooks.example"),
       "tenant[0].finance.base_url"},
  };
  for (const auto& c : cases) {
    auto error = ErrorOf(WithQbo(c.finance));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "error \"" << error << "\" should name " << c.expected;
  }
  // A Xero section does not take QBO's keys either.
  EXPECT_NE(ErrorOf(Replace(kContract, "page_size = 1000", "page_size = 1000\nrealm_id = \"1\""))
                .find("tenant[0].finance.realm_id"),
            std::string::npos);
}

// The MYOB finance section: base_url is the company file's Uri; the developer key and the
// optional company-file credentials are secrets like the token.
const std::string kMyobFinance = R"([tenant.finance]
kind = "myob"
base_url = "https://arl2.api.myob.com/accountright/8f1c0d2e-0000-4000-8000-000000000001/"
access_token = "env:ACME_MYOB_TOKEN"
api_key = "env:ACME_MYOB_API_KEY"
)";

TEST(ConfigTest, MyobFinanceParsesWithDefaults) {
  auto config = ParseConfig(WithQbo(kMyobFinance), "test.toml", "");
  const auto& f = config.Tenant("acme").finance;
  EXPECT_EQ(f.kind, "myob");
  EXPECT_EQ(f.base_url,
            "https://arl2.api.myob.com/accountright/8f1c0d2e-0000-4000-8000-000000000001");
  EXPECT_EQ(f.access_token.reference, "env:ACME_MYOB_TOKEN");
  EXPECT_EQ(f.api_key.reference, "env:ACME_MYOB_API_KEY");
  EXPECT_EQ(f.api_key.key, "tenant[0].finance.api_key");
  EXPECT_FALSE(f.cftoken.has_value());
  EXPECT_EQ(f.page_size, 400) << "MYOB's own default page";
  EXPECT_EQ(f.http.timeout_seconds, 30);

  auto tuned = ParseConfig(
      WithQbo(kMyobFinance + "cftoken = \"file:/etc/concord/acme-cf\"\npage_size = 1000\n"),
      "test.toml", "");
  const auto& t = tuned.Tenant("acme").finance;
  ASSERT_TRUE(t.cftoken.has_value());
  EXPECT_EQ(t.cftoken->reference, "file:/etc/concord/acme-cf");
  EXPECT_EQ(t.page_size, 1000);
}

TEST(ConfigTest, MyobErrorsNameTheKey) {
  struct Case {
    std::string finance, expected;
  };
  const Case cases[] = {
      {Replace(kMyobFinance, "api_key = \"env:ACME_MYOB_API_KEY\"\n", ""),
       "tenant[0].finance.api_key"},
      {Replace(kMyobFinance, "env:ACME_MYOB_API_KEY", "literal-key"), "tenant[0].finance.api_key"},
      {kMyobFinance + "cftoken = \"QWRtaW5pc3RyYXRvcjo=\"\n", "tenant[0].finance.cftoken"},
      {kMyobFinance + "page_size = 1001\n", "tenant[0].finance.page_size"},
      {kMyobFinance + "realm_id = \"1\"\n", "tenant[0].finance.realm_id"},
      {Replace(kMyobFinance, "env:ACME_MYOB_TOKEN", "literal-token"),
       "tenant[0].finance.access_token"},
      {Replace(kMyobFinance, "https://arl2.api.myob.com", "arl2.api.myob.com"),
       "tenant[0].finance.base_url"},
  };
  for (const auto& c : cases) {
    auto error = ErrorOf(WithQbo(c.finance));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "error \"" << error << "\" should name " << c.expected;
  }
  EXPECT_NE(ErrorOf(Replace(kContract, "kind = \"xero\"", "kind = \"sage\"")).find("\"myob\""),
            std::string::npos)
      << "the error lists the kinds there are";
}

// The CSV finance section: a path instead of a URL and a secret, and the header mapping.
const std::string kCsvFinance = R"([tenant.finance]
kind = "csv"
path = "/var/lib/concord/acme"
)";

TEST(ConfigTest, CsvFinanceParsesWithDefaults) {
  auto config = ParseConfig(WithQbo(kCsvFinance), "test.toml", "");
  const auto& f = config.Tenant("acme").finance;
  EXPECT_EQ(f.kind, "csv");
  EXPECT_EQ(f.path, "/var/lib/concord/acme");
  EXPECT_EQ(f.csv, connectors::CsvFormat{});
  EXPECT_EQ(f.csv.columns.email2, "email2");
  EXPECT_EQ(f.csv.delimiter, ',');
  EXPECT_EQ(f.page_size, 1000);

  auto tuned = ParseConfig(WithQbo(kCsvFinance + R"(delimiter = ";"
archived_statuses = ["no", "closed"]
page_size = 200
[tenant.finance.columns]
person_id = "Contact ID"
email = "E-mail"
phone = ""
)"),
                           "test.toml", "");
  const auto& t = tuned.Tenant("acme").finance;
  EXPECT_EQ(t.csv.delimiter, ';');
  EXPECT_EQ(t.csv.archived_statuses, (std::vector<std::string>{"no", "closed"}));
  EXPECT_EQ(t.csv.columns.person_id, "Contact ID");
  EXPECT_EQ(t.csv.columns.email, "E-mail");
  EXPECT_EQ(t.csv.columns.phone, "") << "empty: the file has no such column";
  EXPECT_EQ(t.csv.columns.given_name, "given_name");
  EXPECT_EQ(t.page_size, 200);
}

TEST(ConfigTest, CsvErrorsNameTheKey) {
  struct Case {
    std::string finance, expected;
  };
  const Case cases[] = {
      {Replace(kCsvFinance, "path = \"/var/lib/concord/acme\"\n", ""), "tenant[0].finance.path"},
      {Replace(kCsvFinance, "/var/lib", "var/lib"), "tenant[0].finance.path"},
      {kCsvFinance + "delimiter = \";;\"\n", "tenant[0].finance.delimiter"},
      {kCsvFinance + "delimiter = '\"'\n", "tenant[0].finance.delimiter"},
      {kCsvFinance + "base_url = \"https://x.example\"\n", "tenant[0].finance.base_url"},
      {kCsvFinance + "access_token = \"env:X\"\n", "tenant[0].finance.access_token"},
      {kCsvFinance + "archived_statuses = \"no\"\n", "tenant[0].finance.archived_statuses"},
      {kCsvFinance + "[tenant.finance.columns]\nphone_number = \"Phone\"\n",
       "tenant[0].finance.columns.phone_number"},
      {kCsvFinance + "[tenant.finance.columns]\nperson_id = \"\"\n",
       "tenant[0].finance.columns.person_id"},
      {kCsvFinance + "[tenant.finance.columns]\nemail = 3\n", "tenant[0].finance.columns.email"},
  };
  for (const auto& c : cases) {
    auto error = ErrorOf(WithQbo(c.finance));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "error \"" << error << "\" should name " << c.expected;
  }
}

// The webhook key is optional, a secret like the tokens, and named after what each finance
// system calls it: Xero's webhook key, Intuit's verifier token.
TEST(ConfigTest, WebhookKeysPerFinanceKind) {
  EXPECT_FALSE(ParseConfig(kContract, "test.toml", "").Tenant("acme").finance.webhook_key);
  auto xero = ParseConfig(Replace(kContract, "page_size = 1000",
                                  "page_size = 1000\nwebhook_key = \"env:ACME_XERO_WH\""),
                          "test.toml", "");
  const auto& xero_key = xero.Tenant("acme").finance.webhook_key;
  ASSERT_TRUE(xero_key);
  EXPECT_EQ(xero_key->reference, "env:ACME_XERO_WH");
  EXPECT_EQ(xero_key->key, "tenant[0].finance.webhook_key");
  auto qbo = ParseConfig(WithQbo(kQboFinance + "verifier_token = \"file:/etc/concord/qbo-vt\"\n"),
                         "test.toml", "");
  const auto& qbo_key = qbo.Tenant("acme").finance.webhook_key;
  ASSERT_TRUE(qbo_key);
  EXPECT_EQ(qbo_key->reference, "file:/etc/concord/qbo-vt");
  EXPECT_EQ(qbo_key->key, "tenant[0].finance.verifier_token");

  struct Case {
    std::string config, expected;
  };
  const Case cases[] = {
      {Replace(kContract, "page_size = 1000", "page_size = 1000\nwebhook_key = \"plain\""),
       "tenant[0].finance.webhook_key"},
      {Replace(kContract, "page_size = 1000", "page_size = 1000\nverifier_token = \"env:V\""),
       "tenant[0].finance.verifier_token"},
      {WithQbo(kQboFinance + "webhook_key = \"env:K\"\n"), "tenant[0].finance.webhook_key"},
      {WithQbo(kQboFinance + "verifier_token = \"plain\"\n"), "tenant[0].finance.verifier_token"},
      {WithQbo(kMyobFinance + "webhook_key = \"env:K\"\n"), "tenant[0].finance.webhook_key"},
  };
  for (const auto& c : cases) {
    auto error = ErrorOf(c.config);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "error \"" << error << "\" should name " << c.expected;
  }
}

TEST(ConfigTest, RetryKeysPerSideWithDefaultsAndRanges) {
  const auto config = ParseConfig(kContract, "test.toml", "");
  const auto& defaults = config.Tenant("acme");
  EXPECT_EQ(defaults.finance.http.max_retries, 3);
  EXPECT_EQ(defaults.finance.http.max_retry_wait_seconds, 60);
  EXPECT_EQ(defaults.finance.http.retry_budget_seconds, 300);
  EXPECT_EQ(defaults.portal.http.retry_budget_seconds, 300);

  const std::string tuned_text =
      Replace(Replace(kContract, "page_size = 1000",
                      "page_size = 1000\nmax_retries = 0\nmax_retry_wait_seconds = 5\n"
                      "retry_budget_seconds = 20"),
              "page_size = 500", "page_size = 500\nretry_budget_seconds = 0");
  const auto tuned = ParseConfig(tuned_text, "test.toml", "");
  EXPECT_EQ(tuned.Tenant("acme").finance.http.max_retries, 0);
  EXPECT_EQ(tuned.Tenant("acme").finance.http.max_retry_wait_seconds, 5);
  EXPECT_EQ(tuned.Tenant("acme").finance.http.retry_budget_seconds, 20);
  EXPECT_EQ(tuned.Tenant("acme").portal.http.retry_budget_seconds, 0);
  EXPECT_EQ(ParseConfig(WithQbo(kQboFinance + "max_retries = 7\n"), "test.toml", "")
                .Tenant("acme")
                .finance.http.max_retries,
            7)
      << "every HTTP kind takes them";

  struct Case {
    std::string from, to, expected;
  };
  const Case cases[] = {
      {"page_size = 1000", "page_size = 1000\nmax_retries = -1", "tenant[0].finance.max_retries"},
      {"page_size = 1000", "page_size = 1000\nmax_retries = 21", "tenant[0].finance.max_retries"},
      {"page_size = 500", "page_size = 500\nmax_retry_wait_seconds = 3601",
       "tenant[0].portal.max_retry_wait_seconds"},
      {"page_size = 500", "page_size = 500\nretry_budget_seconds = \"5m\"",
       "tenant[0].portal.retry_budget_seconds"},
      {"page_size = 1000", "page_size = 1000\nretry_budget_seconds = -5",
       "tenant[0].finance.retry_budget_seconds"},
  };
  for (const auto& c : cases) {
    auto error = ErrorOf(Replace(kContract, c.from, c.to));
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "error \"" << error << "\" should name " << c.expected;
  }
}

TEST(ConfigTest, MissingDatabaseUrlIsAnErrorUnlessOverridden) {
  auto text =
      Replace(kContract, "url = \"postgresql:///concord?host=/tmp/concord-pg&port=55432\"", "");
  EXPECT_NE(ErrorOf(text).find("database.url"), std::string::npos);
  EXPECT_EQ(ErrorOf(text, "postgresql:///x"), "");
}

TEST(ConfigTest, TomlSyntaxErrorsNameTheLine) {
  auto error = ErrorOf("[database\nurl = 1");
  EXPECT_NE(error.find("test.toml:1"), std::string::npos) << error;
}

TEST(ConfigTest, DuplicateTenantIsAnError) {
  auto tenant = kContract.substr(kContract.find("[[tenant]]"));
  EXPECT_NE(ErrorOf(kContract + tenant).find("configured twice"), std::string::npos);
}

TEST(ConfigTest, UnknownTenantIsAnError) {
  auto config = ParseConfig(kContract, "test.toml", "");
  EXPECT_THROW(config.Tenant("globex"), ConfigError);
}

TEST(ConfigTest, SecretsResolveFromEnvironmentAndNameTheKeyWhenMissing) {
  auto config = ParseConfig(kContract, "test.toml", "");
  const auto& token = config.Tenant("acme").finance.access_token;
  ::setenv("ACME_XERO_TOKEN", "s3cret", 1);
  EXPECT_EQ(token.Resolve(), "s3cret");
  ::unsetenv("ACME_XERO_TOKEN");
  try {
    (void)token.Resolve();
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("tenant[0].finance.access_token"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("ACME_XERO_TOKEN"), std::string::npos);
  }
}

TEST(ConfigTest, Durations) {
  EXPECT_EQ(ParseDuration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(ParseDuration("2d"), std::chrono::hours(48));
  for (const char* bad : {"", "15", "m", "15x", "-5m", "1.5h"}) {
    EXPECT_THROW(ParseDuration(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace concord::daemon
