-- concord's canonical store. One schema per database; every row carries its tenant.

CREATE TABLE tenants (
  id         text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- DESIGN.md §4 step 1: one row per tenant, taken and prolonged by a conditional upsert.
-- fence grows on every take-over; the apply transaction re-checks owner and fence.
CREATE TABLE tenant_leases (
  tenant_id  text PRIMARY KEY REFERENCES tenants (id),
  owner      text NOT NULL,
  fence      bigint NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE TABLE runs (
  id          bigserial PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  trigger     text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'webhook', 'startup')),
  -- admin: an admin's decision applied (review resolved, merge undone), no source read
  mode        text NOT NULL CHECK (mode IN ('incremental', 'full', 'admin')),
  dry_run     boolean NOT NULL DEFAULT false,
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'succeeded_with_warnings',
                                              'failed', 'held')),
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  counts      jsonb NOT NULL DEFAULT '{}',
  error       text,
  plan        jsonb
);
CREATE INDEX runs_tenant_idx ON runs (tenant_id, id DESC);

-- The reconciliation log: one row per decision, in the order it was made.
CREATE TABLE events (
  run_id    bigint NOT NULL REFERENCES runs (id),
  seq       integer NOT NULL,
  tenant_id text NOT NULL,
  kind      text NOT NULL,
  person_id text,
  subjects  jsonb NOT NULL DEFAULT '[]',
  rule      text NOT NULL DEFAULT '',
  reason    text NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX events_person_idx ON events (tenant_id, person_id);

-- Source records as the connectors delivered them, raw JSON kept for audit.
CREATE TABLE finance_records (
  tenant_id    text NOT NULL,
  source       text NOT NULL,
  remote_id    text NOT NULL,
  account_id   text NOT NULL DEFAULT '',
  account_name text NOT NULL DEFAULT '',
  given_name   text NOT NULL DEFAULT '',
  family_name  text NOT NULL DEFAULT '',
  email        text NOT NULL DEFAULT '',
  email2       text NOT NULL DEFAULT '',
  status       text NOT NULL,
  updated_at   bigint NOT NULL,  -- ms since epoch, the source's own clock
  raw          text,  -- the source JSON as delivered
  last_run     bigint NOT NULL,
  PRIMARY KEY (tenant_id, source, remote_id)
);

CREATE TABLE portal_users (
  tenant_id    text NOT NULL,
  source       text NOT NULL,
  remote_id    text NOT NULL,
  user_name    text NOT NULL DEFAULT '',
  email        text NOT NULL DEFAULT '',
  given_name   text NOT NULL DEFAULT '',
  family_name  text NOT NULL DEFAULT '',
  display_name text NOT NULL DEFAULT '',
  active       boolean NOT NULL,
  deleted      boolean NOT NULL DEFAULT false,  -- a full sync no longer saw it
  updated_at   bigint NOT NULL,
  groups       text[] NOT NULL DEFAULT '{}',  -- SCIM groups: accounts the login reaches
  entitlements text[] NOT NULL DEFAULT '{}',  -- SCIM entitlements and roles
  raw          text,  -- the source JSON as delivered
  last_run     bigint NOT NULL,
  PRIMARY KEY (tenant_id, source, remote_id)
);

-- Records a connector could not read (no id, wrong types): kept with the reason.
CREATE TABLE quarantine (
  id        bigserial PRIMARY KEY,
  tenant_id text NOT NULL,
  run_id    bigint NOT NULL REFERENCES runs (id),
  side      text NOT NULL,
  source    text NOT NULL,
  remote_id text NOT NULL DEFAULT '',
  reason    text NOT NULL,
  raw       text
);

CREATE TABLE persons (
  tenant_id    text NOT NULL,
  id           text NOT NULL,
  status       text NOT NULL CHECK (status IN ('active', 'inactive', 'erased')),
  origin       text NOT NULL CHECK (origin IN ('finance', 'portal')),
  email        text,
  given_name   text NOT NULL DEFAULT '',
  family_name  text NOT NULL DEFAULT '',
  display_name text NOT NULL DEFAULT '',
  created_run  bigint NOT NULL,
  merged_into  text,
  merged_from  text[] NOT NULL DEFAULT '{}',
  memberships  jsonb NOT NULL DEFAULT '[]',  -- [{side, source, account_id, account_name}]
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX persons_email_idx ON persons (tenant_id, email);

CREATE TABLE links (
  tenant_id text NOT NULL,
  side      text NOT NULL CHECK (side IN ('finance', 'portal')),
  source    text NOT NULL,
  remote_id text NOT NULL,
  person_id text NOT NULL,
  rule      text NOT NULL CHECK (rule IN ('email_exact', 'no_email', 'portal_origin', 'manual')),
  status    text NOT NULL CHECK (status IN ('active', 'archived', 'deleted', 'erased')),
  evidence  text NOT NULL DEFAULT '',
  permissions text[] NOT NULL DEFAULT '{}',  -- portal links: what the portal grants the login
  run_id    bigint NOT NULL,  -- the run that made or last changed the link
  PRIMARY KEY (tenant_id, side, source, remote_id)
);
CREATE INDEX links_person_idx ON links (tenant_id, person_id);

-- Every merge keeps the loser as it was, so it can be explained and undone.
CREATE TABLE merges (
  id          bigserial PRIMARY KEY,
  tenant_id   text NOT NULL,
  run_id      bigint NOT NULL REFERENCES runs (id),
  loser_id    text NOT NULL,
  survivor_id text NOT NULL,
  reason      text NOT NULL,
  snapshot    jsonb NOT NULL,
  undone_at   timestamptz
);
CREATE INDEX merges_tenant_idx ON merges (tenant_id, survivor_id);

-- Admin decisions that two persons are different people (a merge undone, a review item
-- resolved "keep separate"); reconcile never merges them again. person_a < person_b.
CREATE TABLE keep_separate (
  tenant_id  text NOT NULL,
  person_a   text NOT NULL,
  person_b   text NOT NULL,
  reason     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, person_a, person_b)
);

-- Source records erased on request (Xero GDPRREQUEST): their personal data is gone from
-- every table, and later copies from the source are not imported again.
CREATE TABLE tombstones (
  tenant_id  text NOT NULL,
  side       text NOT NULL,
  source     text NOT NULL,
  remote_id  text NOT NULL,
  run_id     bigint NOT NULL,
  erased_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, side, source, remote_id)
);

-- dedup_key names "the same situation": one open item per situation, across runs.
CREATE TABLE review_items (
  id          bigserial PRIMARY KEY,
  tenant_id   text NOT NULL,
  kind        text NOT NULL,
  dedup_key   text NOT NULL,
  reason      text NOT NULL,
  email       text,
  subjects    jsonb NOT NULL,
  person_ids  jsonb NOT NULL,
  status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'resolved')),
  opened_run  bigint NOT NULL,
  closed_run  bigint,
  resolution  jsonb
);
CREATE UNIQUE INDEX review_items_open_idx ON review_items (tenant_id, dedup_key)
  WHERE status = 'open';

-- A source's cursor: its own clock at the run's first request, minus the overlap window.
CREATE TABLE cursors (
  tenant_id  text NOT NULL,
  side       text NOT NULL CHECK (side IN ('finance', 'portal')),
  value_ms   bigint NOT NULL,
  run_id     bigint NOT NULL,
  PRIMARY KEY (tenant_id, side)
);
