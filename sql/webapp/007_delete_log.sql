-- Deletes and an honest watermark for the batch lane (fleetpipe export, docs/ARCHITECTURE.md "Batch lane").
--
-- A DELETE leaves no row behind to carry an _export_xid, so each delete is written to export_deletes by a
-- statement-level trigger in the deleting transaction: the row's key, the day of its date column (objects
-- are cut by day) and that transaction's id. Export ships the entries of its xid range as tombstones beside
-- the changed rows; the loader applies them by the same "newest transaction wins" rule as updates.
CREATE TABLE export_deletes (
    table_name  text        NOT NULL CHECK (table_name IN ('drivers', 'vehicles', 'trips')),
    id          bigint      NOT NULL,
    day         date        NOT NULL,
    _export_xid xid8        NOT NULL DEFAULT pg_current_xact_id(),
    deleted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX export_deletes_xid_idx ON export_deletes (table_name, _export_xid);

-- SECURITY DEFINER: whoever may delete a trip (the web app, an operator in pgAdmin) has it logged without
-- being granted anything on the log itself.
CREATE FUNCTION export_log_deletes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'trips' THEN
        INSERT INTO export_deletes (table_name, id, day)
        SELECT 'trips', id, measurement_time::date FROM old_rows;
    ELSE
        -- created_at is timestamptz: its day in UTC, the exporter's session time zone.
        EXECUTE format('INSERT INTO export_deletes (table_name, id, day) '
                       'SELECT %L, id, (created_at AT TIME ZONE ''UTC'')::date FROM old_rows', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER drivers_export_delete AFTER DELETE ON drivers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION export_log_deletes();
CREATE TRIGGER vehicles_export_delete AFTER DELETE ON vehicles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION export_log_deletes();
CREATE TRIGGER trips_export_delete AFTER DELETE ON trips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION export_log_deletes();

-- TRUNCATE fires no DELETE trigger: it would empty a table behind the batch lane's back. Refuse it; delete
-- the rows (logged), or after a deliberate reset (the benchmarks, with SET fleetpipe.allow_truncate = on)
-- start a new export epoch (README "Recovering the batch lane").
CREATE FUNCTION export_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('fleetpipe.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'TRUNCATE % would bypass the batch lane''s delete log; use DELETE', TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported';
END $$;
CREATE TRIGGER drivers_no_truncate  BEFORE TRUNCATE ON drivers  FOR EACH STATEMENT
    EXECUTE FUNCTION export_refuse_truncate();
CREATE TRIGGER vehicles_no_truncate BEFORE TRUNCATE ON vehicles FOR EACH STATEMENT
    EXECUTE FUNCTION export_refuse_truncate();
CREATE TRIGGER trips_no_truncate    BEFORE TRUNCATE ON trips    FOR EACH STATEMENT
    EXECUTE FUNCTION export_refuse_truncate();

-- The watermark cannot be fooled by a client: an INSERT that sends its own _export_xid (a restored dump
-- does) gets the inserting transaction's id like any other row. The WHEN clause keeps the ordinary insert,
-- which leaves the column to its default, out of PL/pgSQL altogether.
CREATE TRIGGER drivers_export_xid_ins  BEFORE INSERT ON drivers  FOR EACH ROW
    WHEN (NEW._export_xid <> pg_current_xact_id()) EXECUTE FUNCTION export_xid_touch();
CREATE TRIGGER vehicles_export_xid_ins BEFORE INSERT ON vehicles FOR EACH ROW
    WHEN (NEW._export_xid <> pg_current_xact_id()) EXECUTE FUNCTION export_xid_touch();
CREATE TRIGGER trips_export_xid_ins    BEFORE INSERT ON trips    FOR EACH ROW
    WHEN (NEW._export_xid <> pg_current_xact_id()) EXECUTE FUNCTION export_xid_touch();
