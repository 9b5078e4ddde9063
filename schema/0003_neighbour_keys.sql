-- Incremental runs load only the neighbourhood of what changed (DESIGN.md §4 step 4, issue 6):
-- each source record keeps its neighbour keys (reconcile/neighbourhood.hpp) so records that
-- share a key are found by index, and persons are followed through merged_into.
ALTER TABLE finance_records ADD COLUMN match_keys text[];
ALTER TABLE portal_users ADD COLUMN match_keys text[];
-- fastupdate off: a pending list left by a bulk load would be scanned by every look-up until
-- the next vacuum (0.25 ms instead of 0.01 ms a key after a 100k full sync).
CREATE INDEX finance_records_keys_idx ON finance_records USING gin (match_keys)
  WITH (fastupdate = off);
CREATE INDEX portal_users_keys_idx ON portal_users USING gin (match_keys)
  WITH (fastupdate = off);
CREATE INDEX persons_merged_into_idx ON persons (tenant_id, merged_into)
  WHERE merged_into IS NOT NULL;

-- The rules (NeighbourKeyVersion) every stored key of the tenant was computed under. NULL or
-- different from the tenant's current rules: the next run loads everything and re-keys.
ALTER TABLE tenants ADD COLUMN neighbour_keys text;
