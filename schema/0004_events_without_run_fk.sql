-- The reconciliation log is written only by the apply transaction that also finishes its run
-- (store/canonical_store.cpp), so an event can never point at a missing run. The foreign key
-- checked that again with a look-up into runs for every event row: inserting 20,000 events
-- took 640 ms with it and 350 ms without (a tenant of 1,000 persons writes 3,300; issue 6).
ALTER TABLE events DROP CONSTRAINT events_run_id_fkey;
