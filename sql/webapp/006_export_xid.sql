-- The batch export's watermark (fleetpipe export, docs/ARCHITECTURE.md "Batch lane"). Every row carries the id
-- of the transaction that last wrote it. An export takes a snapshot and exports the rows whose transaction id
-- lies in [previous watermark, snapshot xmin): every transaction below the snapshot's xmin has finished, so
-- nothing can still appear in that range, and a transaction that inserted a row with a low `id` but committed
-- late has an xid >= the xmin it held back, so it falls into a later run instead of being skipped.
-- Writers must leave the column to its default; the trigger keeps it current on UPDATE so changed rows are
-- exported again (change detection for vehicles and drivers, corrections for trips).
ALTER TABLE drivers  ADD COLUMN _export_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE vehicles ADD COLUMN _export_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE trips    ADD COLUMN _export_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX drivers_export_xid_idx  ON drivers (_export_xid);
CREATE INDEX vehicles_export_xid_idx ON vehicles (_export_xid);
CREATE INDEX trips_export_xid_idx    ON trips (_export_xid);

CREATE FUNCTION export_xid_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW._export_xid := pg_current_xact_id();
    RETURN NEW;
END $$;

CREATE TRIGGER drivers_export_xid  BEFORE UPDATE ON drivers  FOR EACH ROW EXECUTE FUNCTION export_xid_touch();
CREATE TRIGGER vehicles_export_xid BEFORE UPDATE ON vehicles FOR EACH ROW EXECUTE FUNCTION export_xid_touch();
CREATE TRIGGER trips_export_xid    BEFORE UPDATE ON trips    FOR EACH ROW EXECUTE FUNCTION export_xid_touch();
