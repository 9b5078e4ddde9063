#pragma once
// Every SQL statement the store runs, as named constants with $n parameters (STYLE.md 6).

#include <string_view>

namespace concord::store::sql {

// --- migrations -------------------------------------------------------------------------
inline constexpr std::string_view kCreateMigrationsTable = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))";
// Serialises concurrent `concord migrate` runs; the key is arbitrary but fixed.
inline constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(7382001)";
inline constexpr std::string_view kAppliedVersions = "SELECT version FROM schema_migrations";
inline constexpr std::string_view kRecordMigration =
    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)";
inline constexpr std::string_view kSchemaVersion = R"(
SELECT coalesce(max(version), 0) FROM schema_migrations)";
inline constexpr std::string_view kMigrationsTableExists =
    "SELECT to_regclass('schema_migrations') IS NOT NULL";

// --- tenants, leases, runs ----------------------------------------------------------------
inline constexpr std::string_view kEnsureTenant =
    "INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING";

// Takes the lease when it is free, expired, or already ours; a take-over bumps the fence.
inline constexpr std::string_view kTakeLease = R"(
INSERT INTO tenant_leases AS l (tenant_id, owner, fence, expires_at)
VALUES ($1, $2, 1, now() + make_interval(secs => $3::double precision))
ON CONFLICT (tenant_id) DO UPDATE
  SET owner = EXCLUDED.owner, fence = l.fence + 1, expires_at = EXCLUDED.expires_at
  WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner
RETURNING fence)";
inline constexpr std::string_view kProlongLease = R"(
UPDATE tenant_leases SET expires_at = now() + make_interval(secs => $4::double precision)
WHERE tenant_id = $1 AND owner = $2 AND fence = $3)";
// Expires rather than deletes, so the fence keeps growing across owners.
inline constexpr std::string_view kReleaseLease = R"(
UPDATE tenant_leases SET expires_at = now() - interval '1 millisecond'
WHERE tenant_id = $1 AND owner = $2 AND fence = $3)";
// Every lease of one process (owners "host:pid/N"); waits for an apply holding the row.
inline constexpr std::string_view kReleaseLeasesOf = R"(
UPDATE tenant_leases SET expires_at = now() - interval '1 millisecond'
WHERE starts_with(owner, $1) AND expires_at > now())";
// Fencing: the apply transaction holds the lease row until commit.
inline constexpr std::string_view kCheckLease = R"(
SELECT 1 FROM tenant_leases
WHERE tenant_id = $1 AND owner = $2 AND fence = $3 AND expires_at > now()
FOR UPDATE)";

inline constexpr std::string_view kInsertRun = R"(
INSERT INTO runs (tenant_id, trigger, mode, dry_run, status)
VALUES ($1, $2, $3, $4, 'running') RETURNING id)";
// Runs still `running` while we hold the tenant's lease were left by a process that died.
inline constexpr std::string_view kAbandonRuns = R"(
UPDATE runs SET status = 'failed', finished_at = now(),
                error = 'abandoned: the process running it stopped before it finished'
WHERE tenant_id = $1 AND status = 'running' AND id <> $2)";
inline constexpr std::string_view kFinishRun = R"(
UPDATE runs SET status = $2, counts = $3::jsonb, error = $4, plan = $5::jsonb,
                finished_at = now()
WHERE id = $1)";

inline constexpr std::string_view kLoadCursors =
    "SELECT side, value_ms FROM cursors WHERE tenant_id = $1";
inline constexpr std::string_view kSaveCursor = R"(
INSERT INTO cursors (tenant_id, side, value_ms, run_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, side) DO UPDATE SET value_ms = EXCLUDED.value_ms, run_id = EXCLUDED.run_id)";

// --- loading the canonical state ---------------------------------------------------------
inline constexpr std::string_view kLoadFinance = R"(
SELECT source, remote_id, account_id, account_name, given_name, family_name, email, email2,
       status, updated_at
FROM finance_records WHERE tenant_id = $1)";
inline constexpr std::string_view kLoadPortal = R"(
SELECT source, remote_id, user_name, email, given_name, family_name, display_name, active,
       updated_at, groups, entitlements, deleted
FROM portal_users WHERE tenant_id = $1)";
// kLoadPersons and kExportPersons share their columns (CanonicalStore reads both alike).
inline constexpr std::string_view kLoadPersons = R"(
SELECT id, status, origin, email, given_name, family_name, display_name, created_run,
       merged_into, merged_from, memberships
FROM persons WHERE tenant_id = $1)";
inline constexpr std::string_view kLoadLinks = R"(
SELECT side, source, remote_id, person_id, rule, status, evidence, permissions
FROM links WHERE tenant_id = $1)";
// Every hop of a neighbourhood reads one snapshot. JIT is off for them: a few thousand index
// probes are estimated dear enough to be compiled, and compiling (inlining, optimising) cost
// 0.2-0.3 s a statement where running them takes 0.03 s.
inline constexpr std::string_view kBeginHood = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
inline constexpr std::string_view kHoodWithoutJit = "SELECT set_config('jit', 'off', true)";
// The neighbourhood (reconcile/neighbourhood.hpp), one hop at a time: records sharing a key
// with $2, or named by ($2 source, $3 remote_id); links of records ($2 side, $3, $4) or of
// persons $5; persons $2 and the persons merged into them. Columns as the kLoad* above, plus
// the record's match_keys. Every look-up is a probe of one index per key or id, made so by
// `OFFSET 0`: without it the planner flattens the LATERAL subquery into a join and, for a few
// thousand ids, hashes the whole table (a sequential scan of 100,000 records or 200,000 links
// spilling to disk: 0.4-0.7 s a statement at 100k). An OR, or `match_keys && $2` with thousands
// of keys, scan the table too. A row found twice is skipped by the caller.
inline constexpr std::string_view kHoodFinanceByKey = R"(
SELECT f.* FROM unnest($2::text[]) AS k (key) CROSS JOIN LATERAL (
  SELECT source, remote_id, account_id, account_name, given_name, family_name, email, email2,
         status, updated_at, match_keys
  FROM finance_records WHERE tenant_id = $1 AND match_keys @> ARRAY[k.key] OFFSET 0) f)";
inline constexpr std::string_view kHoodFinanceById = R"(
SELECT f.* FROM unnest($2::text[], $3::text[]) AS r (source, remote_id) CROSS JOIN LATERAL (
  SELECT source, remote_id, account_id, account_name, given_name, family_name, email, email2,
         status, updated_at, match_keys
  FROM finance_records
  WHERE tenant_id = $1 AND source = r.source AND remote_id = r.remote_id OFFSET 0) f)";
inline constexpr std::string_view kHoodPortalByKey = R"(
SELECT u.* FROM unnest($2::text[]) AS k (key) CROSS JOIN LATERAL (
  SELECT source, remote_id, user_name, email, given_name, family_name, display_name, active,
         updated_at, groups, entitlements, deleted, match_keys
  FROM portal_users WHERE tenant_id = $1 AND match_keys @> ARRAY[k.key] OFFSET 0) u)";
inline constexpr std::string_view kHoodPortalById = R"(
SELECT u.* FROM unnest($2::text[], $3::text[]) AS r (source, remote_id) CROSS JOIN LATERAL (
  SELECT source, remote_id, user_name, email, given_name, family_name, display_name, active,
         updated_at, groups, entitlements, deleted, match_keys
  FROM portal_users
  WHERE tenant_id = $1 AND source = r.source AND remote_id = r.remote_id OFFSET 0) u)";
inline constexpr std::string_view kHoodLinks = R"(
SELECT l.* FROM unnest($5::text[]) AS p (person_id) CROSS JOIN LATERAL (
  SELECT side, source, remote_id, person_id, rule, status, evidence, permissions
  FROM links WHERE tenant_id = $1 AND person_id = p.person_id OFFSET 0) l
UNION ALL
SELECT l.* FROM unnest($2::text[], $3::text[], $4::text[]) AS r (side, source, remote_id)
CROSS JOIN LATERAL (
  SELECT side, source, remote_id, person_id, rule, status, evidence, permissions
  FROM links
  WHERE tenant_id = $1 AND side = r.side AND source = r.source AND remote_id = r.remote_id
  OFFSET 0) l)";
inline constexpr std::string_view kHoodPersons = R"(
SELECT p.* FROM unnest($2::text[]) AS i (id) CROSS JOIN LATERAL (
  SELECT id, status, origin, email, given_name, family_name, display_name, created_run,
         merged_into, merged_from, memberships
  FROM persons WHERE tenant_id = $1 AND id = i.id OFFSET 0) p
UNION ALL
SELECT p.* FROM unnest($2::text[]) AS i (id) CROSS JOIN LATERAL (
  SELECT id, status, origin, email, given_name, family_name, display_name, created_run,
         merged_into, merged_from, memberships
  FROM persons WHERE tenant_id = $1 AND merged_into = i.id OFFSET 0) p)";
// After a large apply: fresh statistics, so the next run's look-ups are planned on the real
// sizes rather than on an empty table's (autovacuum would get there, but a minute later).
inline constexpr std::string_view kAnalyzeCanonical =
    "ANALYZE finance_records, portal_users, persons, links, review_items";
inline constexpr std::string_view kCountActivePersons = R"(
SELECT count(*) FROM persons
WHERE tenant_id = $1 AND status = 'active' AND merged_into IS NULL)";
inline constexpr std::string_view kLoadNeighbourKeys =
    "SELECT neighbour_keys FROM tenants WHERE id = $1";
inline constexpr std::string_view kSaveNeighbourKeys =
    "UPDATE tenants SET neighbour_keys = $2 WHERE id = $1";
// Re-keying every stored record of a tenant under new rules.
inline constexpr std::string_view kStageRekey = R"(
CREATE TEMP TABLE stage_rekey (side text, source text, remote_id text, match_keys text[])
ON COMMIT DROP)";
inline constexpr std::string_view kCopyRekey = "COPY stage_rekey FROM STDIN";
inline constexpr std::string_view kRekeyFinance = R"(
UPDATE finance_records f SET match_keys = k.match_keys FROM stage_rekey k
WHERE f.tenant_id = $1 AND k.side = 'finance' AND f.source = k.source
  AND f.remote_id = k.remote_id)";
inline constexpr std::string_view kRekeyPortal = R"(
UPDATE portal_users u SET match_keys = k.match_keys FROM stage_rekey k
WHERE u.tenant_id = $1 AND k.side = 'portal' AND u.source = k.source
  AND u.remote_id = k.remote_id)";
inline constexpr std::string_view kLoadKeepSeparate =
    "SELECT person_a, person_b FROM keep_separate WHERE tenant_id = $1";
inline constexpr std::string_view kInsertKeepSeparate = R"(
INSERT INTO keep_separate (tenant_id, person_a, person_b, reason)
VALUES ($1, least($2, $3), greatest($2, $3), $4) ON CONFLICT DO NOTHING)";

// --- applying a run: COPY straight in, or into staging and one set-based statement ------
// Which canonical tables hold no row of the tenant yet. Those are written by COPY straight into
// the table (a tenant's first sync): no staging copy, no upsert.
inline constexpr std::string_view kTenantTablesEmpty = R"(
SELECT NOT EXISTS (SELECT 1 FROM finance_records WHERE tenant_id = $1),
       NOT EXISTS (SELECT 1 FROM portal_users WHERE tenant_id = $1),
       NOT EXISTS (SELECT 1 FROM persons WHERE tenant_id = $1),
       NOT EXISTS (SELECT 1 FROM links WHERE tenant_id = $1))";
// The direct COPYs take the columns of the staging tables below, in the same order.
inline constexpr std::string_view kCopyFinanceDirect = R"(
COPY finance_records (source, remote_id, account_id, account_name, given_name, family_name,
                      email, email2, status, updated_at, raw, match_keys, tenant_id, last_run)
FROM STDIN)";
inline constexpr std::string_view kCopyPortalDirect = R"(
COPY portal_users (source, remote_id, user_name, email, given_name, family_name, display_name,
                   active, deleted, updated_at, groups, entitlements, raw, match_keys, tenant_id,
                   last_run)
FROM STDIN)";
inline constexpr std::string_view kCopyPersonsDirect = R"(
COPY persons (id, status, origin, email, given_name, family_name, display_name, created_run,
              merged_into, merged_from, memberships, tenant_id)
FROM STDIN)";
inline constexpr std::string_view kCopyLinksDirect = R"(
COPY links (side, source, remote_id, person_id, rule, status, evidence, permissions, tenant_id,
            run_id)
FROM STDIN)";

inline constexpr std::string_view kStageFinance = R"(
CREATE TEMP TABLE stage_finance (
  source text, remote_id text, account_id text, account_name text, given_name text,
  family_name text, email text, email2 text, status text, updated_at bigint, raw text,
  match_keys text[], tenant_id text, last_run bigint
) ON COMMIT DROP)";
inline constexpr std::string_view kCopyFinance = "COPY stage_finance FROM STDIN";
inline constexpr std::string_view kUpsertFinance = R"(
INSERT INTO finance_records (tenant_id, source, remote_id, account_id, account_name, given_name,
                             family_name, email, email2, status, updated_at, raw, last_run,
                             match_keys)
SELECT tenant_id, source, remote_id, account_id, account_name, given_name, family_name, email,
       email2, status, updated_at, raw, last_run, match_keys
FROM stage_finance
ON CONFLICT (tenant_id, source, remote_id) DO UPDATE SET
  account_id = EXCLUDED.account_id, account_name = EXCLUDED.account_name,
  given_name = EXCLUDED.given_name, family_name = EXCLUDED.family_name,
  email = EXCLUDED.email, email2 = EXCLUDED.email2, status = EXCLUDED.status,
  updated_at = EXCLUDED.updated_at, last_run = EXCLUDED.last_run,
  match_keys = EXCLUDED.match_keys,
  -- A record a full sync no longer saw comes without its JSON: keep what it was last seen
  -- with. An erased record's JSON goes (rule 7).
  raw = CASE WHEN EXCLUDED.raw = '' AND EXCLUDED.status <> 'erased' THEN finance_records.raw
             ELSE EXCLUDED.raw END)";

inline constexpr std::string_view kStagePortal = R"(
CREATE TEMP TABLE stage_portal (
  source text, remote_id text, user_name text, email text, given_name text, family_name text,
  display_name text, active boolean, deleted boolean, updated_at bigint, groups text[],
  entitlements text[], raw text, match_keys text[], tenant_id text, last_run bigint
) ON COMMIT DROP)";
inline constexpr std::string_view kCopyPortal = "COPY stage_portal FROM STDIN";
inline constexpr std::string_view kUpsertPortal = R"(
INSERT INTO portal_users (tenant_id, source, remote_id, user_name, email, given_name, family_name,
                          display_name, active, deleted, updated_at, groups, entitlements, raw,
                          last_run, match_keys)
SELECT tenant_id, source, remote_id, user_name, email, given_name, family_name, display_name,
       active, deleted, updated_at, groups, entitlements, raw, last_run, match_keys
FROM stage_portal
ON CONFLICT (tenant_id, source, remote_id) DO UPDATE SET
  user_name = EXCLUDED.user_name, email = EXCLUDED.email, given_name = EXCLUDED.given_name,
  family_name = EXCLUDED.family_name, display_name = EXCLUDED.display_name,
  active = EXCLUDED.active, deleted = EXCLUDED.deleted, updated_at = EXCLUDED.updated_at,
  groups = EXCLUDED.groups,
  entitlements = EXCLUDED.entitlements, last_run = EXCLUDED.last_run,
  match_keys = EXCLUDED.match_keys,
  -- A user a full sync no longer saw comes without its JSON: keep what it was last seen with.
  raw = CASE WHEN EXCLUDED.raw = '' THEN portal_users.raw ELSE EXCLUDED.raw END)";

inline constexpr std::string_view kStagePersons = R"(
CREATE TEMP TABLE stage_persons (
  id text, status text, origin text, email text, given_name text, family_name text,
  display_name text, created_run bigint, merged_into text, merged_from text[], memberships jsonb,
  tenant_id text
) ON COMMIT DROP)";
inline constexpr std::string_view kCopyPersons = "COPY stage_persons FROM STDIN";
inline constexpr std::string_view kUpsertPersons = R"(
INSERT INTO persons (tenant_id, id, status, origin, email, given_name, family_name, display_name,
                     created_run, merged_into, merged_from, memberships)
SELECT tenant_id, id, status, origin, email, given_name, family_name, display_name, created_run,
       merged_into, merged_from, memberships
FROM stage_persons
ON CONFLICT (tenant_id, id) DO UPDATE SET
  status = EXCLUDED.status, origin = EXCLUDED.origin, email = EXCLUDED.email,
  given_name = EXCLUDED.given_name, family_name = EXCLUDED.family_name,
  display_name = EXCLUDED.display_name, merged_into = EXCLUDED.merged_into,
  merged_from = EXCLUDED.merged_from, memberships = EXCLUDED.memberships, updated_at = now())";

inline constexpr std::string_view kStageLinks = R"(
CREATE TEMP TABLE stage_links (
  side text, source text, remote_id text, person_id text, rule text, status text, evidence text,
  permissions text[], tenant_id text, run_id bigint
) ON COMMIT DROP)";
inline constexpr std::string_view kCopyLinks = "COPY stage_links FROM STDIN";
inline constexpr std::string_view kUpsertLinks = R"(
INSERT INTO links (tenant_id, side, source, remote_id, person_id, rule, status, evidence,
                   permissions, run_id)
SELECT tenant_id, side, source, remote_id, person_id, rule, status, evidence, permissions, run_id
FROM stage_links
ON CONFLICT (tenant_id, side, source, remote_id) DO UPDATE SET
  person_id = EXCLUDED.person_id, rule = EXCLUDED.rule, status = EXCLUDED.status,
  evidence = EXCLUDED.evidence, permissions = EXCLUDED.permissions, run_id = EXCLUDED.run_id)";

inline constexpr std::string_view kInsertMerge = R"(
INSERT INTO merges (tenant_id, run_id, loser_id, survivor_id, reason, snapshot)
VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id)";

inline constexpr std::string_view kCopyQuarantine =
    "COPY quarantine (tenant_id, run_id, side, source, remote_id, reason, raw) FROM STDIN";
inline constexpr std::string_view kCopyEvents =
    "COPY events (run_id, seq, tenant_id, kind, person_id, subjects, rule, reason) FROM STDIN";

// Review items: the plan holds every situation that needs review now. New situations are
// opened, situations that went away are closed; open ones stay as they are.
inline constexpr std::string_view kStageReview = R"(
CREATE TEMP TABLE stage_review (
  kind text, dedup_key text, reason text, email text, subjects jsonb, person_ids jsonb
) ON COMMIT DROP)";
inline constexpr std::string_view kCopyReview = "COPY stage_review FROM STDIN";
inline constexpr std::string_view kOpenReview = R"(
INSERT INTO review_items (tenant_id, kind, dedup_key, reason, email, subjects, person_ids,
                          opened_run)
SELECT $1, kind, dedup_key, reason, email, subjects, person_ids, $2 FROM stage_review
  -- a situation an admin resolved stays resolved
  WHERE NOT EXISTS (SELECT 1 FROM review_items r
                    WHERE r.tenant_id = $1 AND r.dedup_key = stage_review.dedup_key
                      AND r.status = 'resolved')
ON CONFLICT (tenant_id, dedup_key) WHERE status = 'open' DO NOTHING
RETURNING kind, dedup_key, email, subjects, person_ids)";
inline constexpr std::string_view kCloseReview = R"(
UPDATE review_items r SET status = 'closed', closed_run = $2
WHERE r.tenant_id = $1 AND r.status = 'open'
  AND NOT EXISTS (SELECT 1 FROM stage_review s WHERE s.dedup_key = r.dedup_key)
RETURNING kind, dedup_key, email, subjects, person_ids)";
// The plan saw only a neighbourhood (stage_scope holds its records): only items about those
// records can have gone away. A join, not `id IN (...)`: the planner does not hash a subquery
// it overestimates (jsonb_array_elements counts as 100 rows) and rescans it per item.
inline constexpr std::string_view kCloseReviewInScope = R"(
UPDATE review_items r SET status = 'closed', closed_run = $2
FROM (SELECT DISTINCT o.id FROM review_items o
      CROSS JOIN LATERAL jsonb_array_elements(o.subjects) j
      JOIN stage_scope c ON c.side = j->>'side' AND c.source = j->>'source'
                        AND c.remote_id = j->>'remote_id'
      WHERE o.tenant_id = $1 AND o.status = 'open') touched
WHERE r.id = touched.id
  AND NOT EXISTS (SELECT 1 FROM stage_review s WHERE s.dedup_key = r.dedup_key)
RETURNING r.kind, r.dedup_key, r.email, r.subjects, r.person_ids)";
inline constexpr std::string_view kStageScope = R"(
CREATE TEMP TABLE stage_scope (side text, source text, remote_id text) ON COMMIT DROP)";
inline constexpr std::string_view kCopyScope = "COPY stage_scope FROM STDIN";
// Closing looks every open item up in stage_review. A fresh temp table has no statistics, and
// items opened in this very transaction (a first sync) are not in review_items' either, so the
// planner may scan stage_review once per item: 2.5 s for 3,000 open items against 3,000
// staged, 6 s for 9,000 (growing with their square). With the index each look-up is a probe
// whatever the estimates (12 ms for 9,000, 28 ms for 9,000 open against 3,000 staged), so
// stage_review needs no ANALYZE.
inline constexpr std::string_view kIndexReview = "CREATE INDEX ON stage_review (dedup_key)";
// Fresh temp tables have no statistics; stage_scope is joined, so it gets them.
inline constexpr std::string_view kAnalyzeScope = "ANALYZE stage_scope";

// --- admin decisions ---------------------------------------------------------------------
inline constexpr std::string_view kLoadMerge = R"(
SELECT id, tenant_id, loser_id, survivor_id, reason, snapshot, undone_at IS NOT NULL
FROM merges WHERE id = $1)";
inline constexpr std::string_view kMarkMergeUndone =
    "UPDATE merges SET undone_at = now() WHERE id = $1 AND undone_at IS NULL";
inline constexpr std::string_view kLoadReviewItem = R"(
SELECT id, tenant_id, kind, dedup_key, reason, email, subjects, person_ids, status
FROM review_items WHERE id = $1)";
inline constexpr std::string_view kResolveReview = R"(
UPDATE review_items SET status = 'resolved', closed_run = $2, resolution = $3::jsonb
WHERE id = $1 AND status = 'open')";
inline constexpr std::string_view kInsertTombstone = R"(
INSERT INTO tombstones (tenant_id, side, source, remote_id, run_id) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING)";
inline constexpr std::string_view kLoadTombstones =
    "SELECT side, source, remote_id FROM tombstones WHERE tenant_id = $1";
// Erasure: what concord copied of an erased record goes, wherever it was copied.
inline constexpr std::string_view kEraseEvents = R"(
UPDATE events SET reason = '[erased on request]'
WHERE tenant_id = $1 AND subjects @> jsonb_build_array(
  jsonb_build_object('side', $2::text, 'source', $3::text, 'remote_id', $4::text)))";
inline constexpr std::string_view kEraseQuarantine = R"(
DELETE FROM quarantine WHERE tenant_id = $1 AND side = $2 AND source = $3 AND remote_id = $4)";

// --- reading --------------------------------------------------------------------------------
inline constexpr std::string_view kExportPersons = R"(
SELECT id, status, origin, email, given_name, family_name, display_name, created_run,
       merged_into, merged_from, memberships
FROM persons WHERE tenant_id = $1 AND merged_into IS NULL)";
inline constexpr std::string_view kExportFinanceLinks = R"(
SELECT l.person_id, l.source, l.remote_id, f.account_id, f.account_name, f.email, l.status,
       l.rule
FROM links l JOIN finance_records f
  ON f.tenant_id = l.tenant_id AND f.source = l.source AND f.remote_id = l.remote_id
WHERE l.tenant_id = $1 AND l.side = 'finance')";
inline constexpr std::string_view kExportPortalLinks = R"(
SELECT l.person_id, l.source, l.remote_id, u.user_name, u.email, u.active, l.status, l.rule
FROM links l JOIN portal_users u
  ON u.tenant_id = l.tenant_id AND u.source = l.source AND u.remote_id = l.remote_id
WHERE l.tenant_id = $1 AND l.side = 'portal')";
inline constexpr std::string_view kPersonsByEmail = R"(
SELECT id, status, origin, email, given_name, family_name, display_name, created_run,
       merged_into, merged_from, memberships
FROM persons WHERE tenant_id = $1 AND email = $2 AND merged_into IS NULL ORDER BY id)";
inline constexpr std::string_view kPersonLinks = R"(
SELECT l.side, l.source, l.remote_id, l.rule, l.status, l.evidence, l.run_id, l.permissions
FROM links l WHERE l.tenant_id = $1 AND l.person_id = $2 ORDER BY l.side, l.source, l.remote_id)";
// The events that made a person: about it, or about one of its source records.
inline constexpr std::string_view kPersonEvents = R"(
SELECT e.run_id, e.seq, e.kind, e.person_id, e.subjects, e.rule, e.reason
FROM events e
WHERE e.tenant_id = $1 AND (e.person_id = $2 OR e.subjects @> ANY (
  SELECT jsonb_build_array(jsonb_build_object('side', l.side, 'source', l.source,
                                              'remote_id', l.remote_id))
  FROM links l WHERE l.tenant_id = $1 AND l.person_id = $2))
ORDER BY e.run_id, e.seq)";
inline constexpr std::string_view kPersonMerges = R"(
SELECT id, loser_id, reason, run_id, undone_at IS NOT NULL FROM merges
WHERE tenant_id = $1 AND survivor_id = $2 ORDER BY id)";
inline constexpr std::string_view kOpenReviewItems = R"(
SELECT id, kind, reason, email, subjects, person_ids
FROM review_items WHERE tenant_id = $1 AND status = 'open' ORDER BY id)";

}  // namespace concord::store::sql
