#pragma once
// One run of one tenant (DESIGN.md §4): lease, run row, fetch, plan, apply, log.

#include <boost/json/object.hpp>
#include <string>

#include "connectors/source.hpp"
#include "daemon/config.hpp"
#include "reconcile/model.hpp"
#include "store/pg.hpp"

namespace concord::daemon {

struct SyncRequest {
  std::string trigger = "manual";  // schedule | manual | webhook | startup
  bool full = false;
  bool dry_run = false;
};

struct SyncOutcome {
  std::int64_t run_id = 0;  // 0 when no run was started (lease busy)
  // succeeded | succeeded_with_warnings | failed | held | busy (another process runs it)
  std::string status;
  std::string error;
  boost::json::object counts;
  reconcile::Plan plan;  // what was decided (applied unless dry_run)
};

class SyncJob {
 public:
  // All references must outlive the job. `owner` names this process in the tenant lease.
  SyncJob(store::Connection& conn, const TenantConfig& tenant,
          connectors::FinanceSource& finance, connectors::PortalSource& portal,
          std::string owner);

  // Never throws for source or data problems: they end the run as `failed`, with nothing
  // applied and cursors unmoved. Database errors outside the run propagate.
  SyncOutcome Run(const SyncRequest& request);

 private:
  store::Connection& conn_;
  const TenantConfig& tenant_;
  connectors::FinanceSource& finance_;
  connectors::PortalSource& portal_;
  std::string owner_;
};

}  // namespace concord::daemon
