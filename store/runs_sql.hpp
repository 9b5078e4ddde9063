#pragma once
// SQL of store/runs.cpp: reading runs, events and plans for the admin API, and the scheduler's
// tenant_schedule table (schema/0002_schedule.sql). Named constants with $n parameters.

#include <string_view>

#include "store/sql.hpp"

namespace concord::store::sql {

// Run columns, in the order RunsStore reads them.
#define CONCORD_RUN_COLUMNS                                                             \
  "id, tenant_id, trigger, mode, dry_run, status, "                                     \
  "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "       \
  "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "      \
  "counts::text, error, "                                                               \
  "extract(epoch FROM (coalesce(finished_at, now()) - started_at))::double precision, " \
  "plan IS NOT NULL"

inline constexpr std::string_view kRunById =
    "SELECT " CONCORD_RUN_COLUMNS " FROM runs WHERE id = $1";
// Newest first; $2: only runs with a smaller id (paging), $3: page size.
inline constexpr std::string_view kRunsOfTenant = "SELECT " CONCORD_RUN_COLUMNS
                                                  " FROM runs WHERE tenant_id = $1 AND id < $2 "
                                                  "ORDER BY id DESC LIMIT $3";
inline constexpr std::string_view kRunningRun = "SELECT " CONCORD_RUN_COLUMNS
                                                " FROM runs WHERE tenant_id = $1 AND "
                                                "status = 'running' ORDER BY id DESC LIMIT 1";
#undef CONCORD_RUN_COLUMNS

inline constexpr std::string_view kNewestRunId =
    "SELECT coalesce(max(id), 0) FROM runs WHERE tenant_id = $1";
inline constexpr std::string_view kFirstRunAfter =
    "SELECT id FROM runs WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT 1";
inline constexpr std::string_view kRunPlan = "SELECT plan::text FROM runs WHERE id = $1";

// $2: kind or NULL for every kind; $3: only seq > $3 (paging); $4: page size.
inline constexpr std::string_view kRunEvents = R"(
SELECT seq, kind, person_id, subjects::text, rule, reason FROM events
WHERE run_id = $1 AND ($2::text IS NULL OR kind = $2) AND seq > $3
ORDER BY seq LIMIT $4)";

// Someone (this process or another) holds an unexpired lease on the tenant.
inline constexpr std::string_view kLeaseHeld = R"(
SELECT EXISTS (SELECT 1 FROM tenant_leases WHERE tenant_id = $1 AND expires_at > now()))";

inline constexpr std::string_view kOpenReviewCounts = R"(
SELECT tenant_id, count(*) FROM review_items WHERE status = 'open' GROUP BY tenant_id)";

// --- the schedule ---------------------------------------------------------------------------
// kEnsureTenant is in store/sql.hpp.
inline constexpr std::string_view kEnsureSchedule = R"(
INSERT INTO tenant_schedule (tenant_id, next_run_ms, next_full_ms) VALUES ($1, $2, $3)
ON CONFLICT (tenant_id) DO NOTHING)";
// Claims up to $5 due tenants of $1 for $2 until $3 + $4; rows another replica is claiming
// right now are skipped, not waited for. Returns the tenant, whether a full run is due, and
// the consecutive failures so far.
inline constexpr std::string_view kClaimDue = R"(
UPDATE tenant_schedule s SET claimed_by = $2, claimed_until_ms = $3 + $4
FROM (SELECT tenant_id FROM tenant_schedule
      WHERE tenant_id = ANY ($1::text[]) AND next_run_ms <= $3
        AND (claimed_until_ms IS NULL OR claimed_until_ms < $3)
      ORDER BY next_run_ms LIMIT $5
      FOR UPDATE SKIP LOCKED) due
WHERE s.tenant_id = due.tenant_id
RETURNING s.tenant_id, s.next_full_ms <= $3, s.failures)";
// Records a finished run: the next times, the failure streak, and drops our claim.
// $4: next full time or NULL to keep it; $8: last success time or NULL to keep it.
inline constexpr std::string_view kRecordRun = R"(
UPDATE tenant_schedule SET
  next_run_ms = $3, next_full_ms = coalesce($4, next_full_ms), failures = $5,
  last_status = $6, last_run_id = $7, last_success_ms = coalesce($8, last_success_ms),
  claimed_by = CASE WHEN claimed_by = $2 THEN NULL ELSE claimed_by END,
  claimed_until_ms = CASE WHEN claimed_by = $2 THEN NULL ELSE claimed_until_ms END
WHERE tenant_id = $1)";
// Gives a claim back unused (the tenant was busy, or we are shutting down).
inline constexpr std::string_view kReleaseClaim = R"(
UPDATE tenant_schedule SET claimed_by = NULL, claimed_until_ms = NULL
WHERE tenant_id = $1 AND claimed_by = $2)";
inline constexpr std::string_view kLoadSchedule = R"(
SELECT tenant_id, next_run_ms, next_full_ms, failures, claimed_by, last_status, last_success_ms
FROM tenant_schedule WHERE tenant_id = $1)";

}  // namespace concord::store::sql
