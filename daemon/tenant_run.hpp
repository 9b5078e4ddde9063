#pragma once
// The frame every run of a tenant shares, sync or admin decision: take the tenant's lease,
// insert the run, keep the lease while working, then apply (or hold, or fail) and log.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "reconcile/model.hpp"
#include "store/canonical_store.hpp"
#include "store/lease.hpp"
#include "store/pg.hpp"

namespace concord::daemon {

struct RunOutcome {
  std::int64_t run_id = 0;  // 0 when no run was started (lease busy)
  // succeeded | succeeded_with_warnings | failed | held | busy (another process runs it)
  std::string status;
  std::string error;
  // Stopped at a safe point because the process is shutting down (status "failed", nothing
  // applied): not the tenant's fault, so no back-off.
  bool cancelled = false;
  boost::json::object counts;
  reconcile::Plan plan;          // what was decided (applied unless dry run or held)
  boost::json::array plan_json;  // dry run or held: the plan with before/after, as stored
};

class TenantRun {
 public:
  // Takes the lease and inserts a `running` run; nullptr when another process holds the
  // lease (outcome->status is then "busy").
  static std::unique_ptr<TenantRun> Begin(store::Connection& conn, const std::string& tenant,
                                          const std::string& owner, std::string_view trigger,
                                          std::string_view mode, bool dry_run,
                                          RunOutcome* busy_outcome);
  ~TenantRun();  // releases the lease
  TenantRun(const TenantRun&) = delete;
  TenantRun& operator=(const TenantRun&) = delete;

  std::int64_t id() const { return outcome_.run_id; }
  const std::string& tenant() const { return tenant_; }
  store::CanonicalStore& store() { return store_; }
  RunOutcome& outcome() { return outcome_; }

  // Prolongs the lease; throws store::LeaseLost when another process took it over.
  void KeepLease();

  // Records how long the phase that ends now took (since the previous phase ended, or since
  // the run began); run_finished logs the phases in order as "phases_ms", so an operator sees
  // where a slow run spent its time.
  void EndPhase(std::string_view phase);

  // Fail, FinishWithoutApply and Apply end the run and hand its outcome over (outcome() is
  // left empty but for the run id).

  // Ends the run as failed; nothing is applied.
  RunOutcome Fail(const std::string& error);
  // Ends the run without applying its plan (a dry run, or held by a safeguard): the plan is
  // stored on the run.
  // `before` is the state the plan was computed from (the stored plan shows before/after).
  RunOutcome FinishWithoutApply(const std::string& status, const std::optional<std::string>& why,
                                const reconcile::State& before);
  // Opens the apply transaction and writes `commit`'s fetched source records on a thread of
  // its own, so that they are written while the caller makes the plan; Apply finishes the
  // transaction. Until then the connection is the writer's: the caller must not use it, and
  // must drop or hand over the future before the records `commit` points to are destroyed.
  // Dropping it waits for the writer and rolls everything back.
  [[nodiscard]] std::future<store::SourcesWritten> StartApply(store::RunCommit commit);
  // Applies outcome().plan with what `commit` adds (records, cursors, admin decisions) in one
  // transaction, logs each decision; a lost lease or a database refusal fails the run.
  // `sources`, when given, is StartApply's transaction, with the same records.
  RunOutcome Apply(store::RunCommit commit, const std::string& status,
                   std::future<store::SourcesWritten> sources = {});

 private:
  TenantRun(store::Connection& conn, std::string tenant, store::Lease lease, std::string mode,
            bool dry_run);
  void Stamp(store::RunCommit& commit) const;  // the tenant, run and lease it commits under
  void LogFinished();

  store::Connection& conn_;
  store::CanonicalStore store_;
  std::string tenant_;
  store::Lease lease_;
  std::string mode_;
  bool dry_run_;
  RunOutcome outcome_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point phase_started_;
  boost::json::object phases_ms_;
};

}  // namespace concord::daemon
