-- The source transaction id each row version was exported with (webapp column _export_xid). The loader upserts
-- only when the incoming version is at least as new, so objects loaded in any order converge on the newest
-- version of a row, and reloading an object is a no-op.
ALTER TABLE raw.drivers  ADD COLUMN _source_xid bigint NOT NULL DEFAULT 0;
ALTER TABLE raw.vehicles ADD COLUMN _source_xid bigint NOT NULL DEFAULT 0;
ALTER TABLE raw.trips    ADD COLUMN _source_xid bigint NOT NULL DEFAULT 0;
