#include "daemon/sync_job.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include "daemon/log.hpp"
#include "daemon/render.hpp"
#include "reconcile/reconcile.hpp"
#include "store/canonical_store.hpp"
#include "store/lease.hpp"

namespace concord::daemon {
namespace json = boost::json;
using reconcile::Millis;

namespace {

// Short, so a killed process blocks its tenant only briefly; the run prolongs the lease at
// every page and before applying, which is far more often than this.
constexpr std::chrono::seconds kLeaseTtl{std::chrono::minutes(2)};

struct Fetched {
  std::vector<reconcile::FinancePerson> finance;
  std::vector<reconcile::PortalUser> portal;
  std::vector<reconcile::QuarantinedRecord> quarantined;
  connectors::FetchSummary finance_summary;
  connectors::FetchSummary portal_summary;
};

// Replaces stored records by this run's fresh copies and adds the new ones.
template <typename Record>
void Overlay(std::vector<Record>& stored, const std::vector<Record>& fetched) {
  std::map<std::pair<std::string_view, std::string_view>, std::size_t> index;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    index.emplace(std::pair<std::string_view, std::string_view>(stored[i].source,
                                                                stored[i].remote_id),
                  i);
  }
  std::vector<Record> added;
  for (const auto& record : fetched) {
    auto it = index.find({record.source, record.remote_id});
    if (it != index.end()) {
      stored[it->second] = record;
    } else {
      added.push_back(record);
    }
  }
  stored.insert(stored.end(), added.begin(), added.end());
}

// A source that repeats a record on two pages (it changed during the read) must not be
// applied twice: the later copy wins.
template <typename Record>
void KeepLastCopy(std::vector<Record>& records) {
  std::map<std::pair<std::string, std::string>, std::size_t> last;
  for (std::size_t i = 0; i < records.size(); ++i) {
    last[{records[i].source, records[i].remote_id}] = i;
  }
  if (last.size() == records.size()) return;
  std::vector<Record> unique;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (last[{records[i].source, records[i].remote_id}] == i) unique.push_back(records[i]);
  }
  records = std::move(unique);
}

std::optional<Millis> NextCursor(const connectors::FetchSummary& summary,
                                 std::chrono::seconds overlap) {
  if (summary.source_clock <= 0) return std::nullopt;
  return summary.source_clock - std::chrono::milliseconds(overlap).count();
}

// Test hook: CONCORD_FAILPOINT=before_commit stops inside the apply transaction, so a test
// can kill the process there and check that nothing was committed.
void MaybeStopBeforeCommit() {
  const char* failpoint = std::getenv("CONCORD_FAILPOINT");
  if (!failpoint || std::string_view(failpoint) != "before_commit") return;
  Log(Level::kWarn, "failpoint", {{"name", "before_commit"}});
  std::this_thread::sleep_for(std::chrono::hours(1));
}

}  // namespace

SyncJob::SyncJob(store::Connection& conn, const TenantConfig& tenant,
                 connectors::FinanceSource& finance, connectors::PortalSource& portal,
                 std::string owner)
    : conn_(conn), tenant_(tenant), finance_(finance), portal_(portal), owner_(std::move(owner)) {}

SyncOutcome SyncJob::Run(const SyncRequest& request) {
  SyncOutcome outcome;
  const std::string& tenant = tenant_.id;
  auto lease = store::TakeLease(conn_, tenant, owner_, kLeaseTtl);
  if (!lease) {
    outcome.status = "busy";
    outcome.error = "tenant '" + tenant + "' is being synced by another process";
    Log(Level::kWarn, "run_skipped", {{"tenant", tenant}, {"reason", outcome.error}});
    return outcome;
  }
  // Released on every path out; an expired lease would also free the tenant, just later.
  struct Release {
    store::Connection& conn;
    const store::Lease& lease;
    ~Release() {
      try {
        store::ReleaseLease(conn, lease);
      } catch (const std::exception&) {
      }
    }
  } release{conn_, *lease};

  store::CanonicalStore store(conn_);
  const char* mode = request.full ? "full" : "incremental";
  outcome.run_id = store.StartRun(tenant, request.trigger, mode, request.dry_run);
  const auto run_id = outcome.run_id;
  const auto started = std::chrono::steady_clock::now();
  Log(Level::kInfo, "run_started",
      {{"tenant", tenant}, {"run_id", run_id}, {"trigger", request.trigger}, {"mode", mode},
       {"dry_run", request.dry_run}});

  auto fail = [&](const std::string& error) {
    outcome.status = "failed";
    outcome.error = error;
    store.FinishRun(run_id, "failed", json::serialize(outcome.counts), error, std::nullopt);
    Log(Level::kError, "run_finished",
        {{"tenant", tenant}, {"run_id", run_id}, {"status", "failed"}, {"error", error}});
    return outcome;
  };

  // Prolongs the lease; a run that lost it must stop before doing more work.
  auto keep_lease = [&] {
    if (!store::ProlongLease(conn_, *lease, kLeaseTtl)) {
      throw store::LeaseLost("the lease on tenant '" + tenant +
                             "' was lost (expired and taken over); nothing was applied");
    }
  };

  Fetched fetched;
  try {
    auto cursors = store.LoadCursors(tenant);
    connectors::FetchRequest finance_request, portal_request;
    if (!request.full) {
      finance_request.since = cursors.finance;
      portal_request.since = cursors.portal;
    }
    fetched.finance_summary = finance_.Fetch(finance_request, [&](connectors::FinancePage&& page) {
      keep_lease();
      for (auto& p : page.persons) fetched.finance.push_back(std::move(p));
      for (auto& q : page.quarantined) fetched.quarantined.push_back(std::move(q));
      Log(Level::kDebug, "page_fetched",
          {{"tenant", tenant}, {"run_id", run_id}, {"side", "finance"},
           {"records", static_cast<std::int64_t>(fetched.finance.size())}});
    });
    fetched.portal_summary = portal_.Fetch(portal_request, [&](connectors::PortalPage&& page) {
      keep_lease();
      for (auto& u : page.users) fetched.portal.push_back(std::move(u));
      for (auto& q : page.quarantined) fetched.quarantined.push_back(std::move(q));
      Log(Level::kDebug, "page_fetched",
          {{"tenant", tenant}, {"run_id", run_id}, {"side", "portal"},
           {"records", static_cast<std::int64_t>(fetched.portal.size())}});
    });
    keep_lease();
  } catch (const connectors::FetchError& e) {
    return fail(e.what());
  } catch (const store::LeaseLost& e) {
    return fail(e.what());
  }
  KeepLastCopy(fetched.finance);
  KeepLastCopy(fetched.portal);
  outcome.counts["fetched_finance"] = static_cast<std::int64_t>(fetched.finance.size());
  outcome.counts["fetched_portal"] = static_cast<std::int64_t>(fetched.portal.size());
  outcome.counts["quarantined"] = static_cast<std::int64_t>(fetched.quarantined.size());

  auto state = store.LoadState(tenant);
  Overlay(state.finance, fetched.finance);
  Overlay(state.portal, fetched.portal);
  outcome.plan = reconcile::Reconcile(state, {tenant, run_id});
  for (const auto& [key, value] : CountsJson(outcome.plan.counts)) outcome.counts[key] = value;
  const std::string status =
      fetched.quarantined.empty() ? "succeeded" : "succeeded_with_warnings";

  if (request.dry_run) {
    outcome.status = status;
    store.FinishRun(run_id, status, json::serialize(outcome.counts), std::nullopt,
                    json::serialize(PlanJson(outcome.plan)));
  } else {
    store::RunCommit commit;
    commit.tenant_id = tenant;
    commit.run_id = run_id;
    commit.lease = *lease;
    commit.finance = &fetched.finance;
    commit.portal = &fetched.portal;
    commit.quarantined = &fetched.quarantined;
    commit.plan = &outcome.plan;
    commit.new_cursors.finance = NextCursor(fetched.finance_summary, tenant_.overlap);
    commit.new_cursors.portal = NextCursor(fetched.portal_summary, tenant_.overlap);
    commit.status = status;
    commit.counts = outcome.counts;
    commit.before_commit = MaybeStopBeforeCommit;
    store::AppliedRun applied;
    try {
      applied = store.Apply(commit);
    } catch (const store::LeaseLost& e) {
      return fail(e.what());
    } catch (const store::DbError& e) {
      if (e.sqlstate().empty()) throw;  // the connection is gone: nothing more to record
      return fail(std::string("applying the plan failed, nothing was applied: ") + e.what());
    }
    outcome.status = status;
    outcome.counts = applied.counts;
    for (const auto& event : applied.events) {
      auto fields = EventFields(event);
      fields["tenant"] = tenant;
      fields["run_id"] = run_id;
      Log(event.kind == reconcile::EventKind::kQuarantined ? Level::kWarn : Level::kInfo,
          "decision", std::move(fields));
    }
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  Log(Level::kInfo, "run_finished",
      {{"tenant", tenant}, {"run_id", run_id}, {"status", outcome.status}, {"mode", mode},
       {"dry_run", request.dry_run}, {"duration_ms", elapsed.count()}, {"counts", outcome.counts}});
  return outcome;
}

}  // namespace concord::daemon
