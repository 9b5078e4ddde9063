#pragma once
// Reading runs, their events and plans (the admin API), and the scheduler's shared state
// (schema/0002_schedule.sql). SQL lives in store/runs_sql.hpp.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/pg.hpp"

namespace concord::store {

struct RunRow {
  std::int64_t id = 0;
  std::string tenant_id, trigger, mode, status;
  bool dry_run = false;
  std::string started_at;                  // ISO 8601 UTC
  std::optional<std::string> finished_at;  // null while running
  std::string counts_json = "{}";
  std::optional<std::string> error;
  double duration_seconds = 0;  // so far, while running
  bool has_plan = false;
};

struct EventRow {
  int seq = 0;
  std::string kind;
  std::optional<std::string> person_id;
  std::string subjects_json = "[]";
  std::string rule, reason;
};

class RunsStore {
 public:
  explicit RunsStore(Connection& conn) : conn_(conn) {}

  [[nodiscard]] std::optional<RunRow> Run(std::int64_t run_id);
  // Newest first, only ids below `before` (paging); at most `limit`.
  [[nodiscard]] std::vector<RunRow> Runs(const std::string& tenant_id, std::int64_t before,
                                         int limit);
  [[nodiscard]] std::optional<RunRow> RunningRun(const std::string& tenant_id);
  [[nodiscard]] std::int64_t NewestRunId(const std::string& tenant_id);
  // The first run of the tenant with an id above `after` (a run started since).
  [[nodiscard]] std::optional<std::int64_t> FirstRunAfter(const std::string& tenant_id,
                                                          std::int64_t after);
  // The stored plan (JSON text) of a dry or held run; nullopt when it has none.
  [[nodiscard]] std::optional<std::string> Plan(std::int64_t run_id);
  // Events in order; `kind` filters when set; only seq > after; at most `limit`.
  [[nodiscard]] std::vector<EventRow> Events(std::int64_t run_id,
                                             const std::optional<std::string>& kind, int after,
                                             int limit);
  // Any process holds an unexpired lease on the tenant (a run is in progress).
  [[nodiscard]] bool LeaseHeld(const std::string& tenant_id);
  [[nodiscard]] std::map<std::string, std::int64_t> OpenReviewCounts();

 private:
  Connection& conn_;
};

// One tenant's row in tenant_schedule. Times are ms since the epoch.
struct ScheduleRow {
  std::string tenant_id;
  std::int64_t next_run_ms = 0, next_full_ms = 0;
  int failures = 0;
  std::optional<std::string> claimed_by, last_status;
  std::optional<std::int64_t> last_success_ms;
};

// A due tenant this replica claimed.
struct ScheduleClaim {
  std::string tenant_id;
  bool full_due = false;
  int failures = 0;
};

// What a finished run changes in the schedule.
struct ScheduleUpdate {
  std::int64_t next_run_ms = 0;
  std::optional<std::int64_t> next_full_ms;  // set when a full run succeeded
  int failures = 0;
  std::string last_status;
  std::int64_t last_run_id = 0;
  std::optional<std::int64_t> last_success_ms;
};

class ScheduleTable {
 public:
  explicit ScheduleTable(Connection& conn) : conn_(conn) {}

  // Creates the tenant's row when missing (an existing one keeps its state).
  void Ensure(const std::string& tenant_id, std::int64_t next_run_ms, std::int64_t next_full_ms);
  // Claims up to `limit` of `tenants` that are due at `now_ms` and not claimed by anyone, for
  // `claim_ms`. Rows locked by another replica's claim are skipped (FOR UPDATE SKIP LOCKED).
  [[nodiscard]] std::vector<ScheduleClaim> ClaimDue(const std::vector<std::string>& tenants,
                                                    const std::string& owner, std::int64_t now_ms,
                                                    std::int64_t claim_ms, int limit);
  // Records a finished run and drops `owner`'s claim, if it has one.
  void Record(const std::string& tenant_id, const std::string& owner, const ScheduleUpdate& update);
  void ReleaseClaim(const std::string& tenant_id, const std::string& owner);
  [[nodiscard]] std::optional<ScheduleRow> Load(const std::string& tenant_id);

 private:
  Connection& conn_;
};

}  // namespace concord::store
