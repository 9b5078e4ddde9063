// What a SIGHUP changes: the tenant list compared by id and setting, and the settings that
// need a restart kept as they run (pure; the daemon's part is in serve_e2e_test).

#include "daemon/reload.hpp"

#include <gtest/gtest.h>

namespace concord::daemon {
namespace {

using Ids = std::vector<std::string>;

std::string Tenant(const std::string& id, const std::string& extra = "") {
  return "[[tenant]]\nid = \"" + id + "\"\n" + extra +
         "[tenant.finance]\nkind = \"xero\"\n"
         "base_url = \"http://127.0.0.1:18080/api.xro/2.0\"\n"
         "access_token = \"env:XERO_TOKEN\"\n"
         "xero_tenant_id = \"b5a3c1d2-0000-4000-8000-000000000001\"\n"
         "[tenant.portal]\nkind = \"scim\"\n"
         "base_url = \"http://127.0.0.1:18081/scim/v2\"\n"
         "token = \"env:PORTAL_TOKEN\"\n";
}

Config Parse(const std::string& tenants, const std::string& top = "") {
  return ParseConfig("[database]\nurl = \"postgresql:///concord\"\n" + top + tenants, "test.toml",
                     "");
}

TEST(ConfigReloadTest, SameFileChangesNothing) {
  const auto running = Parse(Tenant("acme") + Tenant("beta"));
  auto reload = PlanReload(running, running);
  EXPECT_TRUE(reload.tenants.added.empty());
  EXPECT_TRUE(reload.tenants.removed.empty());
  EXPECT_TRUE(reload.tenants.changed.empty());
  EXPECT_TRUE(reload.restart_required.empty());
  EXPECT_EQ(reload.config.tenants.size(), 2u);
}

TEST(ConfigReloadTest, TenantsAddedRemovedAndChangedById) {
  const auto running = Parse(Tenant("acme") + Tenant("beta") + Tenant("gamma") + Tenant("delta"));
  const auto fresh = Parse(Tenant("zeta") + Tenant("acme", "interval = \"5m\"\n") +
                           Tenant("gamma") + Tenant("eta"));
  auto changes = DiffTenants(running.tenants, fresh.tenants);
  EXPECT_EQ(changes.added, (Ids{"zeta", "eta"}));
  EXPECT_EQ(changes.removed, (Ids{"beta", "delta"}));
  EXPECT_EQ(changes.changed, (Ids{"acme"}));
}

// Each kind of tenant setting counts as a change: the next run uses it.
TEST(ConfigReloadTest, AnyTenantSettingIsAChange) {
  const auto running = Parse(Tenant("acme"));
  auto with = [&](const std::string& from, const std::string& to) {
    auto text = Tenant("acme");
    text.replace(text.find(from), from.size(), to);
    return DiffTenants(running.tenants, Parse(text).tenants).changed;
  };
  EXPECT_EQ(with("[tenant.portal]\n", "[tenant.portal]\npage_size = 100\n"), Ids{"acme"});
  EXPECT_EQ(with("18080", "18090"), Ids{"acme"});
  EXPECT_EQ(with("env:XERO_TOKEN", "file:/run/xero"), Ids{"acme"});
  EXPECT_EQ(with("[tenant.finance]", "full_interval = \"1h\"\n[tenant.finance]"), Ids{"acme"});
  EXPECT_EQ(with("[tenant.finance]", "[tenant.rules]\nmax_deactivations = 3\n[tenant.finance]"),
            Ids{"acme"});
  EXPECT_EQ(with("[tenant.portal]\n", "timeout_seconds = 5\n[tenant.portal]\n"), Ids{"acme"});
}

// A tenant's secrets are configured under keys with its index ("tenant[1].finance..."), which
// moves when a tenant before it is removed; the tenant itself has not changed.
TEST(ConfigReloadTest, ATenantThatOnlyMovedIsUnchanged) {
  const auto running = Parse(Tenant("acme") + Tenant("beta"));
  const auto fresh = Parse(Tenant("beta"));
  ASSERT_NE(running.tenants[1].finance.access_token.key, fresh.tenants[0].finance.access_token.key);
  auto changes = DiffTenants(running.tenants, fresh.tenants);
  EXPECT_EQ(changes.removed, Ids{"acme"});
  EXPECT_TRUE(changes.changed.empty());
}

TEST(ConfigReloadTest, RestartOnlySettingsKeepTheirRunningValues) {
  const auto running = Parse(Tenant("acme"), "[http]\nlisten = \"127.0.0.1:8080\"\n");
  auto fresh = ParseConfig(
      "[database]\nurl = \"postgresql:///elsewhere\"\n"
      "[http]\nlisten = \"0.0.0.0:9090\"\nadmin_tokens = [\"env:NEW_ADMIN\"]\n"
      "[log]\nformat = \"text\"\nlevel = \"debug\"\n"
      "[scheduler]\nconcurrent_runs = 8\n" +
          Tenant("acme") + Tenant("beta"),
      "test.toml", "");
  auto reload = PlanReload(running, fresh);
  EXPECT_EQ(reload.restart_required, (Ids{"database.url", "http.listen", "log.format", "log.level",
                                          "scheduler.concurrent_runs"}));
  EXPECT_EQ(reload.config.database_url, "postgresql:///concord");
  EXPECT_EQ(reload.config.http.listen, "127.0.0.1:8080");
  EXPECT_EQ(reload.config.log.format, "json");
  EXPECT_EQ(reload.config.log.level, "info");
  EXPECT_EQ(reload.config.scheduler.concurrent_runs, 4);
  // Everything else is the new file's.
  ASSERT_EQ(reload.config.http.admin_tokens.size(), 1u);
  EXPECT_EQ(reload.config.http.admin_tokens[0].reference, "env:NEW_ADMIN");
  EXPECT_EQ(reload.tenants.added, Ids{"beta"});
  EXPECT_EQ(reload.config.tenants.size(), 2u);
}

TEST(ConfigReloadTest, ASnapshotOutlivesItsReplacement) {
  Reloadable<Config> live(std::make_shared<const Config>(Parse(Tenant("acme"))));
  auto snapshot = live.Current();
  live.Replace(std::make_shared<const Config>(Parse(Tenant("beta"))));
  EXPECT_EQ(snapshot->tenants.at(0).id, "acme");  // a run in progress keeps what it started with
  EXPECT_EQ(live.Current()->tenants.at(0).id, "beta");
}

}  // namespace
}  // namespace concord::daemon
