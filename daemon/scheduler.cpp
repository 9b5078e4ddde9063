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
    : owner_(std::move(settings.owner)),
      claim_for_(settings.claim_for),
      max_claims_per_step_(settings.max_claims_per_step),
      clock_(clock),
      store_(store),
      launcher_(launcher),
      random01_(std::move(random01)),
      tenants_(std::move(settings.tenants)) {}

void Scheduler::Ensure(const std::map<std::string, ScheduleTiming>& tenants) {
  const auto now = clock_.NowMs();
  for (const auto& [id, timing] : tenants) store_.Ensure(id, FirstTimes(timing, now, random01_()));
}

void Scheduler::Init() {
  std::map<std::string, ScheduleTiming> tenants;
  {
    std::lock_guard lock(mutex_);
    tenants = tenants_;
  }
  Ensure(tenants);
}

void Scheduler::SetTenants(std::map<std::string, ScheduleTiming> tenants) {
  std::map<std::string, ScheduleTiming> added;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, timing] : tenants) {
      if (!tenants_.contains(id)) added.emplace(id, timing);
    }
  }
  // In the table before they can be claimed; the store is not called under the lock.
  Ensure(added);
  std::lock_guard lock(mutex_);
  std::erase_if(failures_, [&](const auto& entry) { return !tenants.contains(entry.first); });
  tenants_ = std::move(tenants);
}

int Scheduler::Step() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, timing] : tenants_) ids.push_back(id);
  }
  if (ids.empty()) return 0;
  const int limit = std::min(max_claims_per_step_, launcher_.Vacancies());
  if (limit <= 0) return 0;
  auto claims = store_.ClaimDue(ids, owner_, clock_.NowMs(), claim_for_.count(), limit);
  int launched = 0;
  for (const auto& claim : claims) {
    {
      std::lock_guard lock(mutex_);
      failures_[claim.tenant] = claim.failures;
    }
    if (launcher_.Launch(claim.tenant, claim.full_due)) {
      ++launched;
    } else {
      store_.Release(claim.tenant, owner_);
    }
  }
  return launched;
}

void Scheduler::RunFinished(const std::string& tenant, const RunReport& report) {
  std::optional<ScheduleTiming> timing;
  int failures_before = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto it = tenants_.find(tenant); it != tenants_.end()) {
      timing = it->second;
      failures_before = failures_[tenant];
    }
  }
  // Not a result of the tenant's (another replica ran it, or this one stopped mid-run), or a
  // tenant no longer scheduled here: only the claim goes back.
  if (!timing || report.status == "busy" || report.status == "cancelled") {
    store_.Release(tenant, owner_);
    return;
  }
  auto next = AfterRun(*timing, clock_.NowMs(), failures_before, report, random01_());
  {
    std::lock_guard lock(mutex_);
    failures_[tenant] = next.failures;
  }
  store_.Record(tenant, owner_, next, report);
}

}  // namespace concord::daemon
