-- What `fleetpipe verify` keeps between whole-history checks (src/load/verify_days.h): the per-day row
-- counts and checksums of both sides of its source->warehouse stage, per bucket prefix and table, and the
-- positions they were read at. The next check reads again only the days changed since those positions.
CREATE TABLE ops.verify_days (
    prefix          text    NOT NULL,
    table_name      text    NOT NULL,
    day             date    NOT NULL,
    source_rows     bigint  NOT NULL,
    source_sum      numeric NOT NULL,  -- sum(hashtext(canonical row text)) of the source's rows that day
    warehouse_rows  bigint  NOT NULL,
    warehouse_sum   numeric NOT NULL,
    PRIMARY KEY (prefix, table_name, day)
);

CREATE TABLE ops.verify_checkpoints (
    prefix           text        NOT NULL,
    table_name       text        NOT NULL,
    source_watermark xid8        NOT NULL,  -- the export watermark the source side was read below
    warehouse_xmin   xid8        NOT NULL,  -- the warehouse's snapshot xmin when the check began
    checked_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (prefix, table_name)
);

-- Which days of raw.* a statement changed other than by inserting (an insert stamps its rows' _load_xid,
-- indexed on raw.trips): every UPDATE and DELETE, the loader's or anyone's, logs the days of the rows it
-- changed (old and new), a TRUNCATE logs NULL (every day). So a change made behind the loader's back is read
-- by the next check too. Entries older than every checkpoint are pruned by verify.
CREATE TABLE ops.raw_changed_days (
    table_name text NOT NULL,
    day        date,                                      -- NULL: every day
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX raw_changed_days_xid_idx ON ops.raw_changed_days (table_name, xid);

-- The day of a raw row: trips by measurement_time, drivers and vehicles by created_at in UTC (the day
-- export and verify give them).
CREATE FUNCTION ops.log_raw_changed_days() RETURNS trigger LANGUAGE plpgsql
SET search_path = ops, pg_temp AS $$
DECLARE
    day_of text := CASE WHEN TG_TABLE_NAME = 'trips' THEN 'measurement_time::date'
                        ELSE '(created_at AT TIME ZONE ''UTC'')::date' END;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO ops.raw_changed_days (table_name, day) VALUES (TG_TABLE_NAME, NULL);
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('INSERT INTO ops.raw_changed_days (table_name, day) SELECT DISTINCT %L, d FROM '
                       '(SELECT %s AS d FROM old_rows UNION SELECT %s FROM new_rows) x WHERE d IS NOT NULL',
                       TG_TABLE_NAME, day_of, day_of);
    ELSE
        EXECUTE format('INSERT INTO ops.raw_changed_days (table_name, day) SELECT DISTINCT %L, %s FROM old_rows '
                       'WHERE %s IS NOT NULL', TG_TABLE_NAME, day_of, day_of);
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['trips', 'vehicles', 'drivers'] LOOP
        EXECUTE format('CREATE TRIGGER raw_%1$s_updated_days AFTER UPDATE ON raw.%1$I '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ops.log_raw_changed_days()', t);
        EXECUTE format('CREATE TRIGGER raw_%1$s_deleted_days AFTER DELETE ON raw.%1$I '
                       'REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ops.log_raw_changed_days()', t);
        EXECUTE format('CREATE TRIGGER raw_%1$s_truncated AFTER TRUNCATE ON raw.%1$I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ops.log_raw_changed_days()', t);
    END LOOP;
END $$;

-- A day of raw trips read as a range (verify's days, and the ids of one that differs), not a scan.
CREATE INDEX raw_trips_measurement_time_idx ON raw.trips (measurement_time);
