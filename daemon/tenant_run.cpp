#include "daemon/tenant_run.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>

#include "daemon/log.hpp"
#include "daemon/render.hpp"

namespace concord::daemon {
namespace json = boost::json;

namespace {

// Short, so a killed process blocks its tenant only briefly; a run prolongs the lease at
// every page and before applying, which is far more often than this.
constexpr std::chrono::seconds kLeaseTtl{std::chrono::minutes(2)};

}  // namespace

std::unique_ptr<TenantRun> TenantRun::Begin(store::Connection& conn, const std::string& tenant,
                                            const std::string& owner, std::string_view trigger,
                                            std::string_view mode, bool dry_run,
                                            RunOutcome* busy_outcome) {
  auto lease = store::TakeLease(conn, tenant, owner, kLeaseTtl);
  if (!lease) {
    busy_outcome->status = "busy";
    busy_outcome->error = "tenant '" + tenant + "' is being synced by another process";
    Log(Level::kWarn, "run_skipped", {{"tenant", tenant}, {"reason", busy_outcome->error}});
    return nullptr;
  }
  std::unique_ptr<TenantRun> run(
      new TenantRun(conn, tenant, std::move(*lease), std::string(mode), dry_run));
  run->outcome_.run_id = run->store_.StartRun(tenant, trigger, mode, dry_run);
  Log(Level::kInfo, "run_started",
      {{"tenant", tenant},
       {"run_id", run->id()},
       {"trigger", trigger},
       {"mode", mode},
       {"dry_run", dry_run}});
  return run;
}

TenantRun::TenantRun(store::Connection& conn, std::string tenant, store::Lease lease,
                     std::string mode, bool dry_run)
    : conn_(conn),
      store_(conn),
      tenant_(std::move(tenant)),
      lease_(std::move(lease)),
      mode_(std::move(mode)),
      dry_run_(dry_run),
      started_(std::chrono::steady_clock::now()),
      phase_started_(started_) {}

TenantRun::~TenantRun() {
  try {
    store::ReleaseLease(conn_, lease_);
  } catch (const std::exception&) {
    // The lease expires on its own; the tenant is only blocked until then.
  }
}

void TenantRun::KeepLease() {
  if (!store::ProlongLease(conn_, lease_, kLeaseTtl)) {
    throw store::LeaseLost("the lease on tenant '" + tenant_ +
                           "' was lost (expired and taken over); nothing was applied");
  }
}

void TenantRun::EndPhase(std::string_view phase) {
  const auto now = std::chrono::steady_clock::now();
  phases_ms_[phase] =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - phase_started_).count();
  phase_started_ = now;
}

RunOutcome TenantRun::Fail(const std::string& error) {
  outcome_.status = "failed";
  outcome_.error = error;
  store_.FinishRun(id(), "failed", json::serialize(outcome_.counts), error, std::nullopt);
  LogFinished();
  return std::move(outcome_);
}

RunOutcome TenantRun::FinishWithoutApply(const std::string& status,
                                         const std::optional<std::string>& why,
                                         const reconcile::State& before) {
  outcome_.status = status;
  if (why) outcome_.error = *why;
  outcome_.plan_json = PlanJson(outcome_.plan, before);
  store_.FinishRun(id(), status, json::serialize(outcome_.counts), why,
                   json::serialize(outcome_.plan_json));
  LogFinished();
  return std::move(outcome_);
}

void TenantRun::Stamp(store::RunCommit& commit) const {
  commit.tenant_id = tenant_;
  commit.run_id = id();
  commit.lease = lease_;
}

std::future<store::SourcesWritten> TenantRun::StartApply(store::RunCommit commit) {
  Stamp(commit);
  // The thread inherits the run thread's niceness (LowerRunThreadPriority).
  return std::async(std::launch::async,
                    [this, commit = std::move(commit)] { return store_.WriteSources(commit); });
}

RunOutcome TenantRun::Apply(store::RunCommit commit, const std::string& status,
                            std::future<store::SourcesWritten> sources) {
  Stamp(commit);
  commit.plan = &outcome_.plan;
  commit.status = status;
  commit.counts = outcome_.counts;
  store::AppliedRun applied;
  try {
    applied = sources.valid() ? store_.Apply(commit, sources.get()) : store_.Apply(commit);
    EndPhase("apply");
  } catch (const store::LeaseLost& e) {
    return Fail(e.what());
  } catch (const store::DbError& e) {
    if (e.sqlstate().empty() && !conn_.Healthy()) throw;  // nothing more can be recorded
    return Fail(std::string("applying the plan failed, nothing was applied: ") + e.what());
  }
  outcome_.status = status;
  outcome_.counts = applied.counts;
  {
    LogBatch decisions("decision");
    for (const auto& event : applied.events) {
      auto fields = EventFields(event);
      fields["tenant"] = tenant_;
      fields["run_id"] = id();
      decisions.Add(event.kind == reconcile::EventKind::kQuarantined ? Level::kWarn : Level::kInfo,
                    std::move(fields));
    }
  }
  EndPhase("log");
  LogFinished();
  return std::move(outcome_);
}

void TenantRun::LogFinished() {
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_);
  json::object fields{{"tenant", tenant_},         {"run_id", id()},
                      {"status", outcome_.status}, {"mode", mode_},
                      {"dry_run", dry_run_},       {"duration_ms", elapsed.count()},
                      {"counts", outcome_.counts}};
  if (!outcome_.error.empty()) fields["error"] = outcome_.error;
  if (!phases_ms_.empty()) fields["phases_ms"] = phases_ms_;
  Log(outcome_.status == "failed" ? Level::kError : Level::kInfo, "run_finished",
      std::move(fields));
}

}  // namespace concord::daemon
