-- The scheduler's state (issue 4, DESIGN.md §8): one row per tenant, shared by every replica
-- of `concord serve`. A replica claims due rows with FOR UPDATE SKIP LOCKED and holds the claim
-- until claimed_until_ms, so a dead replica's tenants are picked up by the others.
-- Times are ms since the epoch from the scheduler's (injectable) clock.
CREATE TABLE tenant_schedule (
  tenant_id        text PRIMARY KEY REFERENCES tenants (id),
  next_run_ms      bigint NOT NULL,
  next_full_ms     bigint NOT NULL,
  failures         integer NOT NULL DEFAULT 0,  -- consecutive failed runs (back-off)
  claimed_by       text,
  claimed_until_ms bigint,
  last_status      text,
  last_run_id      bigint,
  last_success_ms  bigint
);
CREATE INDEX tenant_schedule_due_idx ON tenant_schedule (next_run_ms);
