// concord: the command-line entry point (DESIGN.md §6). Wiring only: read the config, build
// the parts in dependency order, run one command, map the outcome to an exit code.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

#include "connectors/source.hpp"
#include "daemon/config.hpp"
#include "daemon/log.hpp"
#include "daemon/render.hpp"
#include "daemon/sync_job.hpp"
#include "store/canonical_store.hpp"
#include "store/migrate.hpp"

#ifndef CONCORD_VERSION
#define CONCORD_VERSION "0.0.0"
#endif

namespace concord::daemon {
namespace {

// Exit codes of DESIGN.md §6.
constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitHeld = 3;

std::unique_ptr<connectors::FinanceSource> MakeFinance(const FinanceConfig& f) {
  return connectors::MakeXeroSource(
      {f.base_url, f.access_token.Resolve(), f.xero_tenant_id, f.page_size, f.http});
}

std::unique_ptr<connectors::PortalSource> MakePortal(const PortalConfig& p) {
  return connectors::MakeScimSource({p.base_url, p.token.Resolve(), p.page_size, p.http});
}

store::Connection Connect(const Config& config) {
  return store::Connection({.url = config.database_url});
}

// Refuses to work on a database whose schema is older or newer than this binary's.
void RequireCurrentSchema(store::Connection& conn) {
  auto status = store::CheckSchema(conn);
  if (!status.UpToDate()) {
    throw ConfigError("the database schema is at version " + std::to_string(status.current) +
                      ", this concord needs " + std::to_string(status.latest) +
                      "; run `concord migrate`");
  }
}

std::string Owner() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

int Migrate(const Config& config) {
  auto conn = Connect(config);
  int applied = store::Migrate(conn);
  auto status = store::CheckSchema(conn);
  Log(Level::kInfo, "migrated", {{"applied", applied}, {"version", status.current}});
  return kExitOk;
}

int Sync(const Config& config, const std::string& tenant_id, bool full, bool dry_run) {
  const auto& tenant = config.Tenant(tenant_id);
  auto finance = MakeFinance(tenant.finance);
  auto portal = MakePortal(tenant.portal);
  auto conn = Connect(config);
  RequireCurrentSchema(conn);
  SyncJob job(conn, tenant, *finance, *portal, Owner());
  auto outcome = job.Run({.trigger = "manual", .full = full, .dry_run = dry_run});
  if (dry_run) {
    for (const auto& op : PlanJson(outcome.plan)) std::cout << boost::json::serialize(op) << '\n';
  }
  if (outcome.status == "failed" || outcome.status == "busy") {
    std::cerr << "concord: sync of tenant '" << tenant_id << "' failed: " << outcome.error << '\n';
    return kExitRunFailed;
  }
  return outcome.status == "held" ? kExitHeld : kExitOk;
}

int Export(const Config& config, const std::string& tenant_id) {
  auto conn = Connect(config);
  RequireCurrentSchema(conn);
  store::CanonicalStore store(conn);
  for (const auto& person : store.Export(tenant_id)) {
    std::cout << boost::json::serialize(ExportJson(tenant_id, person)) << '\n';
  }
  return kExitOk;
}

int Review(const Config& config, const std::string& tenant_id) {
  auto conn = Connect(config);
  RequireCurrentSchema(conn);
  store::CanonicalStore store(conn);
  for (const auto& item : store.OpenReviewItems(tenant_id)) {
    std::cout << boost::json::serialize(ReviewItemJson(item)) << '\n';
  }
  return kExitOk;
}

int Main(int argc, char** argv) {
  CLI::App app{"concord: keeps one canonical list of people per tenant"};
  app.require_subcommand(1);
  std::string config_path = "/etc/concord/concord.toml";
  app.add_option("--config", config_path, "configuration file (TOML)");

  std::string tenant;
  bool full = false, dry_run = false;
  auto* migrate = app.add_subcommand("migrate", "apply pending schema migrations");
  auto* sync = app.add_subcommand("sync", "run one sync of one tenant, then exit");
  sync->add_option("--tenant", tenant, "tenant id")->required();
  sync->add_flag("--full", full, "read everything, not only changes since the cursor");
  sync->add_flag("--dry-run", dry_run, "print the plan as JSON Lines, apply nothing");
  auto* exp = app.add_subcommand("export", "print the tenant's persons as JSON Lines");
  exp->add_option("--tenant", tenant, "tenant id")->required();
  auto* review = app.add_subcommand("review", "print the tenant's open review items");
  review->add_option("--tenant", tenant, "tenant id")->required();
  auto* version = app.add_subcommand("version", "print the version");
  for (auto* sub : {migrate, sync, exp, review}) {
    sub->add_option("--config", config_path, "configuration file (TOML)");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (*version) {
    std::cout << "concord " << CONCORD_VERSION << '\n';
    return kExitOk;
  }

  try {
    auto config = LoadConfig(config_path);
    InitLogging(config.log);
    if (*migrate) return Migrate(config);
    if (*sync) return Sync(config, tenant, full, dry_run);
    if (*exp) return Export(config, tenant);
    if (*review) return Review(config, tenant);
  } catch (const ConfigError& e) {
    std::cerr << "concord: " << e.what() << '\n';
    return kExitUsage;
  } catch (const store::DbError& e) {
    std::cerr << "concord: " << e.what() << '\n';
    // A database we cannot reach is a configuration problem as far as the caller can tell.
    return e.sqlstate().empty() || e.sqlstate().starts_with("08") ? kExitUsage : kExitRunFailed;
  } catch (const std::exception& e) {
    std::cerr << "concord: " << e.what() << '\n';
    return kExitRunFailed;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace concord::daemon

int main(int argc, char** argv) { return concord::daemon::Main(argc, argv); }
