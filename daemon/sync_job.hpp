#pragma once
// One sync of one tenant (DESIGN.md §4): lease, run row, fetch, plan, safeguard, apply, log.

#include <atomic>
#include <string>

#include "connectors/source.hpp"
#include "daemon/config.hpp"
#include "daemon/tenant_run.hpp"
#include "reconcile/reconcile.hpp"
#include "store/pg.hpp"

namespace concord::daemon {

struct SyncRequest {
  std::string trigger = "manual";  // schedule | manual | webhook | startup
  bool full = false;
  bool dry_run = false;
  bool confirm_deletes = false;  // apply a plan the deactivation safeguard would hold
  // Set when the process shuts down: the run stops at its next safe point (after a page,
  // before planning, before applying) with nothing applied. A run already applying finishes.
  const std::atomic<bool>* stop = nullptr;
};

class SyncJob {
 public:
  // All references must outlive the job. `owner` names this process in the tenant lease.
  SyncJob(store::Connection& conn, const TenantConfig& tenant, connectors::FinanceSource& finance,
          connectors::PortalSource& portal, std::string owner);

  // Never throws for source or data problems: they end the run as `failed`, with nothing
  // applied and cursors unmoved. Database errors outside the run propagate.
  RunOutcome Run(const SyncRequest& request);

 private:
  RunOutcome Execute(const SyncRequest& request, TenantRun& run);

  store::Connection& conn_;
  const TenantConfig& tenant_;
  connectors::FinanceSource& finance_;
  connectors::PortalSource& portal_;
  std::string owner_;
};

// The tenant's matching rules as reconcile takes them.
reconcile::Settings ReconcileSettings(const TenantConfig& tenant, std::int64_t run_id);

// Why the deactivation safeguard (DESIGN.md §5 rule 8, §6 rules) holds a plan that would
// deactivate `deactivations` of `active` persons; nullopt when it may be applied.
std::optional<std::string> SafeguardHolds(const RulesConfig& rules, std::int64_t active,
                                          std::int64_t deactivations);

}  // namespace concord::daemon
