// concord: the command-line entry point (DESIGN.md §6). Wiring only: read the config, build
// the parts in dependency order, run one command, map the outcome to an exit code.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <optional>

#include "connectors/source.hpp"
#include "daemon/admin.hpp"
#include "daemon/config.hpp"
#include "daemon/log.hpp"
#include "daemon/render.hpp"
#include "daemon/serve.hpp"
#include "daemon/sources.hpp"
#include "daemon/sync_job.hpp"
#include "reconcile/email_key.hpp"
#include "store/canonical_store.hpp"
#include "store/migrate.hpp"
#include "store/model_json.hpp"

#ifndef CONCORD_VERSION
#define CONCORD_VERSION "0.0.0"
#endif

namespace concord::daemon {
namespace {
namespace json = boost::json;

// Exit codes of DESIGN.md §6.
constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitHeld = 3;

// Connects and refuses to work on a schema older or newer than this binary's.
store::Connection ConnectCurrent(const Config& config) {
  store::Connection conn({.url = config.database_url});
  auto status = store::CheckSchema(conn);
  if (!status.UpToDate()) {
    throw ConfigError("the database schema is at version " + std::to_string(status.current) +
                      ", this concord needs " + std::to_string(status.latest) +
                      "; run `concord migrate`");
  }
  return conn;
}

std::string Owner() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

int ExitCode(const RunOutcome& outcome, std::string_view what) {
  if (outcome.status == "failed" || outcome.status == "busy") {
    std::cerr << "concord: " << what << " failed: " << outcome.error << '\n';
    return kExitRunFailed;
  }
  if (outcome.status == "held") {
    std::cerr << "concord: " << what << " held: " << outcome.error << '\n';
    return kExitHeld;
  }
  return kExitOk;
}

int Migrate(const Config& config) {
  store::Connection conn({.url = config.database_url});
  int applied = store::Migrate(conn);
  auto status = store::CheckSchema(conn);
  Log(Level::kInfo, "migrated", {{"applied", applied}, {"version", status.current}});
  return kExitOk;
}

struct SyncFlags {
  std::string tenant;
  bool full = false, dry_run = false, confirm_deletes = false;
};

int Sync(const Config& config, const SyncFlags& flags) {
  const auto& tenant = config.Tenant(flags.tenant);
  std::optional<store::Connection> conn;
  auto finance = MakeFinanceSource(
      tenant.finance,
      {.tenant_id = tenant.id, .conn = [&conn]() -> store::Connection& { return *conn; }});
  auto portal = MakePortalSource(tenant.portal, tenant.id);
  conn.emplace(ConnectCurrent(config));
  SyncJob job(*conn, tenant, *finance, *portal, Owner());
  auto outcome = job.Run({.trigger = "manual",
                          .full = flags.full,
                          .dry_run = flags.dry_run,
                          .confirm_deletes = flags.confirm_deletes});
  if (flags.dry_run) {
    for (const auto& op : outcome.plan_json) std::cout << json::serialize(op) << '\n';
  }
  return ExitCode(outcome, "sync of tenant '" + flags.tenant + "'");
}

int Export(const Config& config, const std::string& tenant_id) {
  auto conn = ConnectCurrent(config);
  store::CanonicalStore store(conn);
  for (const auto& person : store.Export(tenant_id)) {
    std::cout << json::serialize(ExportJson(tenant_id, person)) << '\n';
  }
  return kExitOk;
}

int Review(const Config& config, const std::string& tenant_id) {
  auto conn = ConnectCurrent(config);
  store::CanonicalStore store(conn);
  for (const auto& item : store.OpenReviewItems(tenant_id)) {
    std::cout << json::serialize(ReviewItemJson(item)) << '\n';
  }
  return kExitOk;
}

int Resolve(const Config& config, std::int64_t review_id, const Resolution& resolution) {
  auto conn = ConnectCurrent(config);
  return ExitCode(ResolveReview(conn, config, review_id, resolution, Owner()),
                  "resolving review item " + std::to_string(review_id));
}

int Undo(const Config& config, std::int64_t merge_id) {
  auto conn = ConnectCurrent(config);
  return ExitCode(UndoMerge(conn, config, merge_id, Owner()),
                  "undoing merge " + std::to_string(merge_id));
}

int Explain(const Config& config, const std::string& tenant_id, const std::string& email) {
  auto key = reconcile::ExactEmailKey(email);
  if (!key.valid()) {
    throw CLI::ValidationError("--email", "'" + email + "' is not a usable email address" +
                                              (key.reason.empty() ? "" : ": " + key.reason));
  }
  auto conn = ConnectCurrent(config);
  store::CanonicalStore store(conn);
  auto found = store.Explain(tenant_id, key.key);
  if (found.empty()) {
    std::cerr << "concord: no person in tenant '" << tenant_id << "' has the email key " << key.key
              << '\n';
    return kExitRunFailed;
  }
  for (const auto& e : found) std::cout << json::serialize(ExplanationJson(e)) << '\n';
  return kExitOk;
}

int Main(int argc, char** argv) {
  CLI::App app{"concord: keeps one canonical list of people per tenant"};
  app.require_subcommand(1);
  std::string config_path = "/etc/concord/concord.toml";
  app.add_option("--config", config_path, "configuration file (TOML)");

  SyncFlags sync_flags;
  std::string tenant, email, person;
  std::int64_t id = 0;
  auto* migrate = app.add_subcommand("migrate", "apply pending schema migrations");
  auto* sync = app.add_subcommand("sync", "run one sync of one tenant, then exit");
  sync->add_option("--tenant", sync_flags.tenant, "tenant id")->required();
  sync->add_flag("--full", sync_flags.full, "read everything, not only changes since the cursor");
  sync->add_flag("--dry-run", sync_flags.dry_run, "print the plan as JSON Lines, apply nothing");
  sync->add_flag("--confirm-deletes", sync_flags.confirm_deletes,
                 "apply a plan even if it deactivates more persons than the safeguard allows");
  auto* exp = app.add_subcommand("export", "print the tenant's persons as JSON Lines");
  exp->add_option("--tenant", tenant, "tenant id")->required();

  auto* review = app.add_subcommand("review", "print the tenant's open review items");
  review->add_option("--tenant", tenant, "tenant id");
  auto* resolve = review->add_subcommand("resolve", "resolve an open review item");
  resolve->add_option("id", id, "review item id")->required();
  auto* link = resolve->add_option("--link", person, "link the item's records to this person");
  bool keep_flag = false, dismiss_flag = false;
  auto* keep = resolve->add_flag("--keep-separate", keep_flag, "the persons are different people");
  auto* dismiss =
      resolve->add_flag("--dismiss", dismiss_flag, "nothing to do; do not raise it again");
  link->excludes(keep)->excludes(dismiss);
  keep->excludes(dismiss);

  auto* merge = app.add_subcommand("merge", "act on a merge");
  merge->require_subcommand(1);
  auto* undo = merge->add_subcommand("undo", "undo a merge: both persons come back separate");
  undo->add_option("id", id, "merge id")->required();

  auto* explain = app.add_subcommand("explain", "the person with this email and why it is so");
  explain->add_option("--tenant", tenant, "tenant id")->required();
  explain->add_option("--email", email, "email address (any form: case, display name, ...)")
      ->required();
  auto* version = app.add_subcommand("version", "print the version");
  bool serve_migrate = false;
  auto* serve = app.add_subcommand("serve", "run the daemon: scheduler and admin HTTP API");
  serve->add_flag("--migrate", serve_migrate, "apply pending schema migrations before serving");
  serve->add_option("--config", config_path, "configuration file (TOML)");
  for (auto* sub : {migrate, sync, exp, review, resolve, merge, undo, explain}) {
    sub->add_option("--config", config_path, "configuration file (TOML)");
  }

  try {
    app.parse(argc, argv);
    if (*review && !*resolve && tenant.empty()) {
      throw CLI::RequiredError("--tenant");
    }
    if (*resolve && !*link && !*keep && !*dismiss) {
      throw CLI::ValidationError("resolve", "say how: --link PERSON, --keep-separate or --dismiss");
    }
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
    if (*serve) return Serve(config, {config_path, serve_migrate});
    if (*sync) return Sync(config, sync_flags);
    if (*exp) return Export(config, tenant);
    if (*resolve) {
      Resolution how;
      if (*link) how = {Resolution::Action::kLink, person};
      if (*keep) how.action = Resolution::Action::kKeepSeparate;
      return Resolve(config, id, how);
    }
    if (*review) return Review(config, tenant);
    if (*undo) return Undo(config, id);
    if (*explain) return Explain(config, tenant, email);
  } catch (const CLI::ValidationError& e) {
    std::cerr << "concord: " << e.what() << '\n';
    return kExitUsage;
  } catch (const ConfigError& e) {
    std::cerr << "concord: " << e.what() << '\n';
    return kExitUsage;
  } catch (const AdminError& e) {
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
