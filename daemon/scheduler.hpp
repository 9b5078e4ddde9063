#pragma once
// The scheduler (DESIGN.md §8, STYLE.md 11): per tenant an incremental run every `interval`
// with ±10% jitter, a full run every `full_interval`, a longer back-off after failed runs.
// The state lives in a shared table (ScheduleStore; PostgreSQL in production) that replicas
// claim rows of, so any replica can pick a tenant up and a dead one's tenants move on. The
// tenant lease still guarantees one run per tenant at a time; a manual trigger merges with a
// pending scheduled run in the runner. Time comes from an injected Clock; Step() is the
// synchronous "run one round" that the periodic loop and the tests call.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace concord::daemon {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  [[nodiscard]] virtual std::int64_t NowMs() = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowMs() override;
};

struct ScheduleTiming {
  std::chrono::milliseconds interval{std::chrono::minutes(15)};
  std::chrono::milliseconds full_interval{std::chrono::hours(24)};
  double jitter = 0.1;  // ± this fraction of the interval
  std::chrono::milliseconds max_backoff{std::chrono::hours(6)};
};

// How a run ended, as the schedule needs it.
struct RunReport {
  std::int64_t run_id = 0;
  // succeeded | succeeded_with_warnings | failed | held | busy | cancelled (shutdown)
  std::string status;
  bool full = false;
};

struct NextTimes {
  std::int64_t next_run_ms = 0;
  std::optional<std::int64_t> next_full_ms;  // only when it moves
  int failures = 0;
  std::optional<std::int64_t> last_success_ms;
};

// `base` ± jitter·base; `random01` in [0, 1). Pure.
[[nodiscard]] std::int64_t Jittered(std::int64_t base_ms, double jitter, double random01);

// When a tenant first enters the schedule: a random point within one interval (replicas
// restarting together do not all sync at once); the first full run one full interval later
// (a first incremental run without a cursor reads everything anyway). Pure.
[[nodiscard]] NextTimes FirstTimes(const ScheduleTiming& timing, std::int64_t now_ms,
                                   double random01);

// The schedule after a run that ended at `now_ms`. Success: next run one jittered interval
// later, failures reset, a full run pushes the next full one. Failure: interval · 2^failures
// (at most max_backoff, never less than the interval), jittered. A held run is not a failure
// (an admin must act; retrying sooner would not help). `busy` changes nothing but the claim.
[[nodiscard]] NextTimes AfterRun(const ScheduleTiming& timing, std::int64_t now_ms,
                                 int failures_before, const RunReport& report, double random01);

struct ScheduleClaimed {
  std::string tenant;
  bool full_due = false;
  int failures = 0;
};

// The shared schedule table. Implementations are thread-safe.
class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;
  // Adds the tenant with these times unless it is there already.
  virtual void Ensure(const std::string& tenant, const NextTimes& first) = 0;
  // Claims up to `limit` due tenants no one else holds, for `claim_ms`.
  [[nodiscard]] virtual std::vector<ScheduleClaimed> ClaimDue(
      const std::vector<std::string>& tenants, const std::string& owner, std::int64_t now_ms,
      std::int64_t claim_ms, int limit) = 0;
  virtual void Record(const std::string& tenant, const std::string& owner, const NextTimes& next,
                      const RunReport& report) = 0;
  virtual void Release(const std::string& tenant, const std::string& owner) = 0;
};

// Starts runs (TenantRunner in production). Thread-safe.
class RunLauncher {
 public:
  virtual ~RunLauncher() = default;
  // Queues a scheduled run; false when the tenant is busy (running) or the daemon stops. A run
  // already queued for the tenant counts as launched (the requests merge).
  [[nodiscard]] virtual bool Launch(const std::string& tenant, bool full) = 0;
  // How many more runs it can take now without them waiting long: the scheduler claims no
  // more, so claimed tenants do not sit in a queue while other replicas are idle.
  [[nodiscard]] virtual int Vacancies() = 0;
};

struct SchedulerSettings {
  std::map<std::string, ScheduleTiming> tenants;
  std::string owner;  // this replica, as written in claimed_by
  std::chrono::milliseconds claim_for{std::chrono::minutes(30)};
  int max_claims_per_step = 16;  // and never more than the launcher's vacancies
};

class Scheduler {
 public:
  // References must outlive the scheduler. `random01` returns values in [0, 1).
  Scheduler(SchedulerSettings settings, Clock& clock, ScheduleStore& store, RunLauncher& launcher,
            std::function<double()> random01);

  // Adds missing tenants to the schedule.
  void Init();
  // Replaces the tenants this replica schedules (a reload): new ones enter the shared table
  // as in Init(), removed ones are no longer claimed, changed timings apply from their next
  // run on (a time already in the table stays). Errors of the store propagate before anything
  // here has changed.
  void SetTenants(std::map<std::string, ScheduleTiming> tenants);
  // One round: claims the due tenants and launches them; returns how many were launched.
  // Errors of the store propagate (the periodic loop logs and counts them).
  int Step();
  // Every finished run of a scheduled tenant, scheduled or not, moves its schedule; a run of
  // a tenant removed meanwhile only gives its claim back.
  void RunFinished(const std::string& tenant, const RunReport& report);

 private:
  // Enters these tenants in the shared table unless they are there already.
  void Ensure(const std::map<std::string, ScheduleTiming>& tenants);

  const std::string owner_;
  const std::chrono::milliseconds claim_for_;
  const int max_claims_per_step_;
  Clock& clock_;
  ScheduleStore& store_;
  RunLauncher& launcher_;
  std::function<double()> random01_;
  std::mutex mutex_;  // guards the members below
  std::map<std::string, ScheduleTiming> tenants_;
  std::map<std::string, int> failures_;  // as last claimed or recorded here
};

}  // namespace concord::daemon
