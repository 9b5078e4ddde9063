-- OAuth2 tokens of a tenant's connector (issue 5 part 4, wire-formats §1.8). The refresh token
-- rotates on every use: a refresh reads the row FOR UPDATE, calls the token endpoint, and
-- writes the new tokens in the same transaction, guarded by the old refresh token, so two
-- replicas can never both spend it. Stored in plain text: see docs/operations.md.
CREATE TABLE oauth_tokens (
  tenant_id         text NOT NULL REFERENCES tenants (id),
  connector         text NOT NULL,
  refresh_token     text NOT NULL,
  access_token      text NOT NULL DEFAULT '',
  access_expires_ms bigint NOT NULL DEFAULT 0,  -- Unix ms; 0: no access token
  -- Fingerprint of the configured initial refresh token these descend from; a different one
  -- configured means the tenant was re-authorised.
  seed_fingerprint  text NOT NULL DEFAULT '',
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, connector)
);
