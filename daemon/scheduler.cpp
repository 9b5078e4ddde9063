#include "daemon/scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace concord::daemon {

std::int64_t SystemClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t Jittered(std::int64_t base_ms, double jitter, double random01) {
  const double factor = 1.0 + jitter * (2.0 * random01 - 1.0);
  return static_cast<std::int64_t>(std::llround(static_cast<double>(base_ms) * factor));
}

NextTimes FirstTimes(const ScheduleTiming& timing, std::int64_t now_ms, double random01) {
  NextTimes next;
  next.next_run_ms =
      now_ms + static_cast<std::int64_t>(static_cast<double>(timing.interval.count()) * random01);
  next.next_full_ms = now_ms + timing.full_interval.count();
  return next;
}

NextTimes AfterRun(const ScheduleTiming& timing, std::int64_t now_ms, int failures_before,
                   const RunReport& report, double random01) {
  NextTimes next;
  const std::int64_t interval = timing.interval.count();
  if (report.status == "failed") {
    next.failures = failures_before + 1;
    const int doublings = std::min(next.failures, 20);
    std::int64_t backoff = interval;
    for (int i = 0; i < doublings && backoff < timing.max_backoff.count(); ++i) backoff *= 2;
    backoff = std::max(interval, std::min(backoff, timing.max_backoff.count()));
    next.next_run_ms = now_ms + Jittered(backoff, timing.jitter, random01);
    return next;
  }
  next.failures = 0;
  next.next_run_ms = now_ms + Jittered(interval, timing.jitter, random01);
  if (report.status == "succeeded" || report.status == "succeeded_with_warnings") {
    next.last_success_ms = now_ms;
    if (report.full) next.next_full_ms = now_ms + timing.full_interval.count();
  }
  return next;
}

Scheduler::Scheduler(SchedulerSettings settings, Clock& clock, ScheduleStore& store,
                     RunLauncher& launcher, std::function<double()> random01)
    : settings_(std::move(settings)),
      clock_(clock),
      store_(store),
      launcher_(launcher),
      random01_(std::move(random01)) {
  for (const auto& [id, timing] : settings_.tenants) tenant_ids_.push_back(id);
}

void Scheduler::Init() {
  const auto now = clock_.NowMs();
  for (const auto& [id, timing] : settings_.tenants) {
    store_.Ensure(id, FirstTimes(timing, now, random01_()));
  }
}

int Scheduler::Step() {
  if (tenant_ids_.empty()) return 0;
  const int limit = std::min(settings_.max_claims_per_step, launcher_.Vacancies());
  if (limit <= 0) return 0;
  auto claims = store_.ClaimDue(tenant_ids_, settings_.owner, clock_.NowMs(),
                                settings_.claim_for.count(), limit);
  int launched = 0;
  for (const auto& claim : claims) {
    {
      std::lock_guard lock(mutex_);
      failures_[claim.tenant] = claim.failures;
    }
    if (launcher_.Launch(claim.tenant, claim.full_due)) {
      ++launched;
    } else {
      store_.Release(claim.tenant, settings_.owner);
    }
  }
  return launched;
}

void Scheduler::RunFinished(const std::string& tenant, const RunReport& report) {
  auto it = settings_.tenants.find(tenant);
  if (it == settings_.tenants.end()) return;
  // Not a result of the tenant's: another replica ran it, or this one stopped mid-run.
  if (report.status == "busy" || report.status == "cancelled") {
    store_.Release(tenant, settings_.owner);
    return;
  }
  int failures_before = 0;
  {
    std::lock_guard lock(mutex_);
    failures_before = failures_[tenant];
  }
  auto next = AfterRun(it->second, clock_.NowMs(), failures_before, report, random01_());
  {
    std::lock_guard lock(mutex_);
    failures_[tenant] = next.failures;
  }
  store_.Record(tenant, settings_.owner, next, report);
}

}  // namespace concord::daemon
