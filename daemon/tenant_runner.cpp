#include "daemon/tenant_runner.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "connectors/source.hpp"
#include "daemon/log.hpp"
#include "daemon/sources.hpp"
#include "reconcile/model.hpp"
#include "store/runs.hpp"

namespace concord::daemon {
namespace {

double CountOf(const boost::json::object& counts, std::string_view key) {
  auto it = counts.find(key);
  if (it == counts.end() || !it->value().is_int64()) return 0;
  return static_cast<double>(it->value().as_int64());
}

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Runs are batch work. The admin API and health checks must answer within milliseconds while
// a large sync keeps both cores busy (DESIGN.md §7), so a run's thread, and the threads it
// starts (they inherit it), get a lower CPU priority than the rest of the process. Only
// latency depends on it, so a refusal is ignored.
void LowerRunThreadPriority() {
  constexpr int kRunNiceness = 5;  // above the process's own
  static const int process_niceness = getpriority(PRIO_PROCESS, static_cast<id_t>(getpid()));
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)),
                    std::min(process_niceness + kRunNiceness, 19));
}

}  // namespace

TenantRunner::TenantRunner(const Reloadable<Config>& config, boost::asio::thread_pool& runs,
                           int concurrent_runs, ConnectionPool& pool, Metrics& metrics,
                           std::string owner)
    : config_(config),
      runs_(runs),
      concurrent_runs_(concurrent_runs),
      pool_(pool),
      run_connections_(pool.settings(), static_cast<std::size_t>(concurrent_runs)),
      metrics_(metrics),
      owner_(std::move(owner)) {}

std::string TenantRunner::NextOwner() { return owner_ + "/" + std::to_string(++next_owner_); }

TenantRunner::Admission TenantRunner::Submit(const std::string& tenant, const SyncRequest& request,
                                             std::shared_ptr<Entry>* entry) {
  std::int64_t baseline = 0;
  {
    auto conn = pool_.Borrow();
    baseline = store::RunsStore(*conn).NewestRunId(tenant);
  }
  std::lock_guard lock(mutex_);
  return SubmitLocked(tenant, request, baseline, entry);
}

TenantRunner::Admission TenantRunner::SubmitLocked(const std::string& tenant,
                                                   const SyncRequest& request,
                                                   std::int64_t baseline,
                                                   std::shared_ptr<Entry>* entry) {
  if (stopping_) return Admission::kStopping;
  auto it = active_.find(tenant);
  if (it != active_.end()) {
    auto& queued = *it->second;
    if (queued.started || request.dry_run || queued.request.dry_run) return Admission::kBusy;
    // Merge: one run does what both asked for, under the most specific trigger (an admin's,
    // then a webhook's, then the schedule's).
    queued.request.full = queued.request.full || request.full;
    queued.request.confirm_deletes = queued.request.confirm_deletes || request.confirm_deletes;
    if (request.trigger == "manual" ||
        (request.trigger == "webhook" && queued.request.trigger != "manual")) {
      queued.request.trigger = request.trigger;
    }
    *entry = it->second;
    return Admission::kMerged;
  }
  auto fresh = std::make_shared<Entry>();
  fresh->request = request;
  fresh->baseline_run_id = baseline;
  active_[tenant] = fresh;
  *entry = fresh;
  boost::asio::post(runs_, [this, tenant, fresh] { Execute(tenant, fresh); });
  return Admission::kStarted;
}

bool TenantRunner::EndLocked(const std::string& tenant, const std::shared_ptr<Entry>& entry) {
  auto it = active_.find(tenant);
  if (it != active_.end() && it->second == entry) active_.erase(it);
  changed_.notify_all();
  return entry->follow_up && !stopping_;
}

void TenantRunner::QueueFollowUp(const std::string& tenant) {
  try {
    QueueWebhookRun(tenant);
  } catch (const std::exception& e) {
    // The next scheduled run picks the change up.
    Log(Level::kWarn, "webhook_run_not_queued", {{"tenant", tenant}, {"error", e.what()}});
  }
}

bool TenantRunner::QueueWebhookRun(const std::string& tenant) {
  std::int64_t baseline = 0;
  {
    auto conn = pool_.Borrow();
    baseline = store::RunsStore(*conn).NewestRunId(tenant);
  }
  std::lock_guard lock(mutex_);
  std::shared_ptr<Entry> entry;
  auto admission = SubmitLocked(tenant, {.trigger = "webhook"}, baseline, &entry);
  if (admission == Admission::kBusy) {
    active_.at(tenant)->follow_up = true;
    return true;
  }
  return admission != Admission::kStopping;
}

TenantRunner::Started TenantRunner::StartManual(const std::string& tenant,
                                                const SyncRequest& request,
                                                std::chrono::milliseconds wait) {
  std::shared_ptr<Entry> entry;
  auto admission = Submit(tenant, request, &entry);
  if (admission == Admission::kBusy || admission == Admission::kStopping) return {admission, 0};
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    bool started = false;
    {
      std::lock_guard lock(mutex_);
      if (entry->done) {
        return {entry->run_id ? admission : Admission::kBusy, entry->run_id};
      }
      started = entry->started;
    }
    if (started) {
      auto conn = pool_.Borrow();
      if (auto id = store::RunsStore(*conn).FirstRunAfter(tenant, entry->baseline_run_id)) {
        return {admission, *id};
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return {admission, 0};
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

bool TenantRunner::Launch(const std::string& tenant, bool full) {
  std::shared_ptr<Entry> entry;
  auto admission = Submit(tenant, {.trigger = "schedule", .full = full}, &entry);
  return admission == Admission::kStarted || admission == Admission::kMerged;
}

int TenantRunner::Vacancies() {
  std::lock_guard lock(mutex_);
  if (stopping_) return 0;
  return std::max(0, 2 * concurrent_runs_ - static_cast<int>(active_.size()));
}

bool TenantRunner::Exclusive(const std::string& tenant, const std::function<void()>& work) {
  auto entry = std::make_shared<Entry>();
  entry->started = true;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || active_.contains(tenant)) return false;
    active_[tenant] = entry;
  }
  struct Done {
    TenantRunner* self;
    const std::string& tenant;
    const std::shared_ptr<Entry>& entry;
    ~Done() {
      bool follow_up = false;
      {
        std::lock_guard lock(self->mutex_);
        follow_up = self->EndLocked(tenant, entry);
      }
      if (follow_up) self->QueueFollowUp(tenant);
    }
  } done{this, tenant, entry};
  work();
  return true;
}

void TenantRunner::Execute(const std::string& tenant, std::shared_ptr<Entry> entry) {
  // Held to the run's end: a reload meanwhile does not change the settings under it.
  const auto config = config_.Current();
  const TenantConfig* tenant_config = config->FindTenant(tenant);
  SyncRequest request;
  bool dropped = false;
  {
    std::lock_guard lock(mutex_);
    request = entry->request;
    dropped = stopping_ || tenant_config == nullptr;
    if (dropped) {
      entry->done = true;
      active_.erase(tenant);
    } else {
      entry->started = true;
    }
  }
  changed_.notify_all();
  if (dropped) {
    if (tenant_config == nullptr) {
      Log(Level::kInfo, "run_dropped",
          {{"tenant", tenant}, {"reason", "the tenant is no longer configured"}});
      if (!request.dry_run) ReportFinished(tenant, {0, "cancelled", request.full});  // the claim
    }
    return;
  }
  request.stop = &stop_runs_;
  LowerRunThreadPriority();
  const auto started = std::chrono::steady_clock::now();
  RunOutcome outcome;
  try {
    auto conn = run_connections_.Borrow();
    auto finance = MakeFinanceSource(tenant_config->finance,
                                     {.tenant_id = tenant,
                                      .conn = [&conn]() -> store::Connection& { return *conn; },
                                      .metrics = &metrics_});
    auto portal = MakePortalSource(tenant_config->portal, tenant);
    SyncJob job(*conn, *tenant_config, *finance, *portal, NextOwner());
    outcome = job.Run(request);
  } catch (const std::exception& e) {
    // The job records what it can; this is what it could not (database gone, bad secret).
    outcome.status = "failed";
    outcome.error = e.what();
    Log(Level::kError, "run_error", {{"tenant", tenant}, {"error", e.what()}});
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Record(tenant, request, outcome, seconds);
  if (!request.dry_run) {
    ReportFinished(
        tenant, {outcome.run_id, outcome.cancelled ? "cancelled" : outcome.status, request.full});
  }
  bool follow_up = false;
  {
    std::lock_guard lock(mutex_);
    entry->run_id = outcome.run_id;
    entry->done = true;
    follow_up = EndLocked(tenant, entry);
  }
  if (follow_up) QueueFollowUp(tenant);
}

void TenantRunner::ReportFinished(const std::string& tenant, const RunReport& report) {
  if (!finished_) return;
  try {
    finished_(tenant, report);
  } catch (const std::exception& e) {
    Log(Level::kError, "schedule_update_failed", {{"tenant", tenant}, {"error", e.what()}});
  }
}

void TenantRunner::Record(const std::string& tenant, const SyncRequest& request,
                          const RunOutcome& outcome, double seconds) {
  metrics_.Add("concord_runs_total",
               {{"tenant", tenant},
                {"trigger", request.trigger},
                {"status", outcome.cancelled ? "cancelled" : outcome.status}});
  if (outcome.status == "busy") return;
  metrics_.Observe("concord_run_duration_seconds", {{"tenant", tenant}}, seconds);
  metrics_.Add("concord_records_fetched_total", {{"tenant", tenant}, {"side", "finance"}},
               CountOf(outcome.counts, "fetched_finance"));
  metrics_.Add("concord_records_fetched_total", {{"tenant", tenant}, {"side", "portal"}},
               CountOf(outcome.counts, "fetched_portal"));
  const bool applied = !request.dry_run && (outcome.status == "succeeded" ||
                                            outcome.status == "succeeded_with_warnings");
  if (!applied) return;
  std::map<std::string, double> kinds;
  for (const auto& event : outcome.plan.events)
    kinds[std::string(reconcile::ToString(event.kind))]++;
  for (const auto& [kind, n] : kinds) {
    metrics_.Add("concord_decisions_total", {{"tenant", tenant}, {"kind", kind}}, n);
  }
  metrics_.Set("concord_last_success_timestamp_seconds", {{"tenant", tenant}}, UnixSeconds());
}

void TenantRunner::StopAccepting() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  stop_runs_ = true;
  changed_.notify_all();
}

bool TenantRunner::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    for (const auto& [tenant, entry] : active_) {
      if (entry->started) return false;
    }
    return true;
  });
}

}  // namespace concord::daemon
