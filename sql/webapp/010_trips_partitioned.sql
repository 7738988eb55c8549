-- A hot window for the operational database (docs/ARCHITECTURE.md "Data lifecycle"). `trips` becomes a table
-- partitioned by measurement_time: each partition covers one interval (a day by default). Once the batch lane
-- has exported, loaded and verified every row of a partition older than the hot window, `fleetpipe retain`
-- drops it: dropping a partition is not a DELETE, so no trigger fires, nothing is logged for export and
-- logical decoding sees nothing (no tombstones downstream), and the space returns to the file system at once.
--
-- What PostgreSQL cannot do across partitions: a unique index must contain the partition key. The primary
-- key is (id, measurement_time) and the natural key (vehicle_id, trip_id, measurement_sequence,
-- measurement_time): a re-sent measurement carries its time and is refused as before; a different
-- measurement under an existing key at another time is not refused here (dbt's tests on the marts report it).

-- 1. trip_latest carries the whole latest row of every trip, so the latest positions (latest_locations,
--    vehicle_latest_locations: the web app's "/" and the realtime view's rebuild) outlive the partition
--    that held them.
ALTER TABLE trip_latest
    ADD COLUMN latitude               double precision,
    ADD COLUMN longitude              double precision,
    ADD COLUMN fuel_capacity          double precision,
    ADD COLUMN distance_traveled      double precision,
    ADD COLUMN fuel_remaining_percent double precision,
    ADD COLUMN fuel_remaining_gallon  double precision,
    ADD COLUMN color                  varchar(50);
UPDATE trip_latest tl
SET latitude = t.latitude, longitude = t.longitude, fuel_capacity = t.fuel_capacity,
    distance_traveled = t.distance_traveled, fuel_remaining_percent = t.fuel_remaining_percent,
    fuel_remaining_gallon = t.fuel_remaining_gallon, color = t.color
FROM trips t
WHERE t.id = tl.trip_row_id;
DELETE FROM trip_latest WHERE latitude IS NULL;  -- an entry without its row (none unless edited by hand)
ALTER TABLE trip_latest
    ALTER COLUMN latitude SET NOT NULL, ALTER COLUMN longitude SET NOT NULL,
    ALTER COLUMN fuel_capacity SET NOT NULL, ALTER COLUMN distance_traveled SET NOT NULL,
    ALTER COLUMN fuel_remaining_percent SET NOT NULL, ALTER COLUMN fuel_remaining_gallon SET NOT NULL,
    ALTER COLUMN color SET NOT NULL;

-- The rows of `src` (a transition table or a query) that become the latest of their trip.
CREATE OR REPLACE FUNCTION trip_latest_after_insert() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO trip_latest AS tl (vehicle_id, trip_id, trip_row_id, measurement_sequence, measurement_time,
        latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon,
        color)
    SELECT DISTINCT ON (vehicle_id, trip_id) vehicle_id, trip_id, id, measurement_sequence, measurement_time,
        latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon,
        color
    FROM new_rows
    ORDER BY vehicle_id, trip_id, measurement_sequence DESC
    ON CONFLICT (vehicle_id, trip_id) DO UPDATE
        SET trip_row_id = EXCLUDED.trip_row_id,
            measurement_sequence = EXCLUDED.measurement_sequence,
            measurement_time = EXCLUDED.measurement_time,
            latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
            fuel_capacity = EXCLUDED.fuel_capacity, distance_traveled = EXCLUDED.distance_traveled,
            fuel_remaining_percent = EXCLUDED.fuel_remaining_percent,
            fuel_remaining_gallon = EXCLUDED.fuel_remaining_gallon,
            color = EXCLUDED.color
        WHERE EXCLUDED.measurement_sequence >= tl.measurement_sequence;
    RETURN NULL;
END $$;

-- Updates and deletes recompute the trips they touched from trips' natural-key index. A trip whose rows are
-- all gone loses its entry; its rows in a dropped partition are not touched by any statement, so a
-- retention drop leaves the entry (and the vehicle's last position) in place.
CREATE OR REPLACE FUNCTION trip_latest_recompute() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    -- The trips the statement touched. Only UPDATE triggers have new_rows: the text names it for them alone
    -- (the transition tables are visible to EXECUTE as to static SQL).
    touched text := CASE WHEN TG_OP = 'UPDATE'
                         THEN '(SELECT vehicle_id, trip_id FROM old_rows UNION SELECT vehicle_id, trip_id FROM new_rows)'
                         ELSE '(SELECT DISTINCT vehicle_id, trip_id FROM old_rows)' END;
BEGIN
    EXECUTE format('DELETE FROM trip_latest tl USING %s k '
                   'WHERE tl.vehicle_id = k.vehicle_id AND tl.trip_id = k.trip_id', touched);
    EXECUTE format(
        'INSERT INTO trip_latest (vehicle_id, trip_id, trip_row_id, measurement_sequence, measurement_time, '
        '    latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, '
        '    fuel_remaining_gallon, color) '
        'SELECT k.vehicle_id, k.trip_id, t.id, t.measurement_sequence, t.measurement_time, t.latitude, '
        '    t.longitude, t.fuel_capacity, t.distance_traveled, t.fuel_remaining_percent, '
        '    t.fuel_remaining_gallon, t.color '
        'FROM %s k CROSS JOIN LATERAL ('
        '    SELECT * FROM trips WHERE trips.vehicle_id = k.vehicle_id AND trips.trip_id = k.trip_id '
        '    ORDER BY measurement_sequence DESC LIMIT 1) t', touched);
    RETURN NULL;
END $$;

-- The views read trip_latest alone, no longer joined to the rows a drop can take away. Same columns, in the
-- same order, as before.
CREATE OR REPLACE VIEW latest_locations AS
SELECT trip_row_id AS id, vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
       fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color
FROM trip_latest;

CREATE OR REPLACE VIEW vehicle_latest_locations AS
SELECT l.*
FROM vehicles v
CROSS JOIN LATERAL (
    SELECT tl.trip_row_id AS id, tl.vehicle_id, tl.trip_id, tl.measurement_sequence, tl.measurement_time,
           tl.latitude, tl.longitude, tl.fuel_capacity, tl.distance_traveled, tl.fuel_remaining_percent,
           tl.fuel_remaining_gallon, tl.color
    FROM trip_latest tl
    WHERE tl.vehicle_id = v.id
    ORDER BY tl.measurement_time DESC, tl.trip_id DESC
    LIMIT 1) l;

-- 2. The partitioned table. The existing heap keeps its rows and becomes the first partition (attached, not
--    copied: nothing is rewritten, re-exported or re-published); its own triggers go, the parent's apply.
ALTER TABLE trips RENAME TO trips_unpartitioned;
ALTER INDEX trips_pkey RENAME TO trips_unpartitioned_pkey;
ALTER TABLE trips_unpartitioned RENAME CONSTRAINT trips_natural_key TO trips_unpartitioned_natural_key;
ALTER INDEX trips_measurement_time_idx RENAME TO trips_unpartitioned_measurement_time_idx;
ALTER INDEX trips_export_xid_idx RENAME TO trips_unpartitioned_export_xid_idx;
DO $$
DECLARE
    tg text;
BEGIN
    FOR tg IN SELECT tgname FROM pg_trigger
              WHERE tgrelid = 'trips_unpartitioned'::regclass AND NOT tgisinternal LOOP
        EXECUTE format('DROP TRIGGER %I ON trips_unpartitioned', tg);
    END LOOP;
END $$;
ALTER PUBLICATION webapp_cdc DROP TABLE trips_unpartitioned;

CREATE TABLE trips (LIKE trips_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (measurement_time);
ALTER SEQUENCE trips_id_seq OWNED BY trips.id;
ALTER TABLE trips
    ADD CONSTRAINT trips_pkey PRIMARY KEY (id, measurement_time),
    ADD CONSTRAINT trips_natural_key UNIQUE (vehicle_id, trip_id, measurement_sequence, measurement_time),
    ADD CONSTRAINT trips_vehicle_id_fkey FOREIGN KEY (vehicle_id) REFERENCES vehicles (id);
CREATE INDEX trips_measurement_time_idx ON trips (measurement_time);
CREATE INDEX trips_export_xid_idx ON trips (_export_xid);
-- Not inherited: every partition sets it too (trip_partitions_ensure), so Debezium gets before-images.
ALTER TABLE trips REPLICA IDENTITY FULL;

-- The parent's triggers, as 002, 006 and 007 defined them on the plain table. Row triggers are cloned onto
-- every partition; statement triggers (with their transition tables) fire for statements on the parent, the
-- only way services reach trips (partitions are granted to nobody).
CREATE TRIGGER trips_latest_ins AFTER INSERT ON trips
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION trip_latest_after_insert();
CREATE TRIGGER trips_latest_upd AFTER UPDATE ON trips
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION trip_latest_recompute();
CREATE TRIGGER trips_latest_del AFTER DELETE ON trips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION trip_latest_recompute();
CREATE TRIGGER trips_export_xid BEFORE UPDATE ON trips FOR EACH ROW EXECUTE FUNCTION export_xid_touch();
CREATE TRIGGER trips_export_xid_ins BEFORE INSERT ON trips FOR EACH ROW
    WHEN (NEW._export_xid <> pg_current_xact_id()) EXECUTE FUNCTION export_xid_touch();
CREATE TRIGGER trips_export_delete AFTER DELETE ON trips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION export_log_deletes();
CREATE TRIGGER trips_no_truncate BEFORE TRUNCATE ON trips FOR EACH STATEMENT
    EXECUTE FUNCTION export_refuse_truncate();

-- 3. The partitions' ledger: which range each covers, and for a dropped one what it held (its row count and
--    checksum as verify computes them, src/load/verify_days.h), so verify's source side still counts them.
CREATE TABLE trip_partition_settings (
    id              smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    -- Whole minutes that divide a day: partitions then never straddle a day, the unit verify counts in.
    interval_length interval NOT NULL DEFAULT '1 day' CHECK (
        interval_length >= interval '1 minute' AND interval_length <= interval '1 day'
        AND extract(epoch FROM interval_length)::bigint % 60 = 0
        AND 86400 % extract(epoch FROM interval_length)::bigint = 0)
);
INSERT INTO trip_partition_settings DEFAULT VALUES;

CREATE TABLE trip_partitions (
    partition_name   text        NOT NULL,
    range_start      timestamp   NOT NULL,
    range_end        timestamp   NOT NULL CHECK (range_end > range_start),
    created_at       timestamptz NOT NULL DEFAULT now(),
    dropped_at       timestamptz,
    dropped_rows     bigint,
    dropped_checksum numeric,
    dropped_xid      xid8,
    CHECK ((dropped_at IS NULL) = (dropped_rows IS NULL) AND (dropped_at IS NULL) = (dropped_checksum IS NULL)
           AND (dropped_at IS NULL) = (dropped_xid IS NULL)),
    -- Live partitions never overlap (PostgreSQL refuses it too); a range dropped and needed again by a late
    -- row gets a new partition and a new ledger row.
    EXCLUDE USING gist (tsrange(range_start, range_end) WITH &&) WHERE (dropped_at IS NULL)
);
CREATE UNIQUE INDEX trip_partitions_live_name_idx ON trip_partitions (partition_name) WHERE dropped_at IS NULL;
CREATE INDEX trip_partitions_dropped_idx ON trip_partitions (dropped_xid) WHERE dropped_at IS NOT NULL;

-- Rows no partition covers (a client that inserted without trip_partitions_ensure, e.g. by hand in pgAdmin)
-- land here instead of failing. Retention never drops it; status and the console report its rows.
CREATE TABLE trips_default PARTITION OF trips DEFAULT;
ALTER TABLE trips_default REPLICA IDENTITY FULL;

-- The old heap's rows, if any, as one partition over the days they cover.
DO $$
DECLARE
    lo timestamp;
    hi timestamp;
BEGIN
    SELECT min(measurement_time)::date, max(measurement_time)::date + 1 INTO lo, hi FROM trips_unpartitioned;
    IF lo IS NULL THEN
        DROP TABLE trips_unpartitioned;
        RETURN;
    END IF;
    ALTER TABLE trips_unpartitioned DROP CONSTRAINT trips_unpartitioned_pkey,
        DROP CONSTRAINT trips_unpartitioned_natural_key, DROP CONSTRAINT trips_vehicle_id_fkey;
    EXECUTE format('ALTER TABLE trips_unpartitioned ADD CONSTRAINT trips_unpartitioned_range '
                   'CHECK (measurement_time >= %L AND measurement_time < %L)', lo, hi);
    EXECUTE format('ALTER TABLE trips ATTACH PARTITION trips_unpartitioned FOR VALUES FROM (%L) TO (%L)', lo, hi);
    ALTER TABLE trips_unpartitioned DROP CONSTRAINT trips_unpartitioned_range;
    INSERT INTO trip_partitions (partition_name, range_start, range_end)
    VALUES ('trips_unpartitioned', lo, hi);
END $$;

ALTER PUBLICATION webapp_cdc ADD TABLE trips;
ALTER PUBLICATION webapp_cdc SET (publish_via_partition_root = true);

-- 4. Partitions are made on demand. Writers call trip_partitions_ensure with the times they are about to
--    write (fleetpipe's generator and web app do; src/common/trip/partitions.h); `up` and `retain` keep the
--    next intervals ready. Runs as the owner: writers cannot create tables. Returns the partitions created.
CREATE FUNCTION trip_partitions_ensure(times timestamp[]) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    step interval := (SELECT interval_length FROM trip_partition_settings);
    bin timestamp;
    lo timestamp;
    hi timestamp;
    e timestamp;
    nm text;
    made integer := 0;
    locked boolean := false;
BEGIN
    FOR bin IN SELECT DISTINCT date_bin(step, t, timestamp '2000-01-01') FROM unnest(times) t
               WHERE t IS NOT NULL ORDER BY 1 LOOP
        lo := bin;
        WHILE lo < bin + step LOOP
            SELECT range_end INTO e FROM trip_partitions
            WHERE dropped_at IS NULL AND range_start <= lo AND lo < range_end;
            IF FOUND THEN
                lo := e;
                CONTINUE;
            END IF;
            IF NOT locked THEN
                -- One creator at a time; then look again, another may have made it meanwhile.
                PERFORM pg_advisory_xact_lock(hashtext('fleetpipe.trip_partitions'));
                locked := true;
                CONTINUE;
            END IF;
            SELECT least(min(range_start), bin + step) INTO hi FROM trip_partitions
            WHERE dropped_at IS NULL AND range_start > lo AND range_start < bin + step;
            hi := coalesce(hi, bin + step);
            -- Rows of this range already in the default partition would make ATTACH fail; they stay there.
            IF EXISTS (SELECT 1 FROM trips_default WHERE measurement_time >= lo AND measurement_time < hi) THEN
                RAISE NOTICE 'trips_default holds rows in [%, %): no partition made for them', lo, hi;
                lo := hi;
                CONTINUE;
            END IF;
            nm := 'trips_p' || to_char(lo, 'YYYYMMDD') ||
                  CASE WHEN lo::time = '00:00' AND hi - lo = interval '1 day' THEN ''
                       ELSE '_' || to_char(lo, 'HH24MI') END;
            -- CREATE then ATTACH: attaching locks the parent SHARE UPDATE EXCLUSIVE, which writers' inserts
            -- do not conflict with (CREATE TABLE ... PARTITION OF would lock it exclusively).
            EXECUTE format('CREATE TABLE %I (LIKE trips INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', nm);
            EXECUTE format('ALTER TABLE %I REPLICA IDENTITY FULL', nm);
            EXECUTE format('ALTER TABLE trips ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', nm, lo, hi);
            INSERT INTO trip_partitions (partition_name, range_start, range_end) VALUES (nm, lo, hi);
            made := made + 1;
            lo := hi;
        END LOOP;
    END LOOP;
    RETURN made;
END $$;
REVOKE ALL ON FUNCTION trip_partitions_ensure(timestamp[]) FROM PUBLIC;

-- 5. The drop. The caller (`fleetpipe retain`, as the pipeline's role) has compared the partition's rows with
--    the warehouse's, reading both in snapshots whose source xmin was `since`; here, with the parent locked
--    exclusively for a moment, nothing may have been written to or deleted from the range since then,
--    or the drop is refused and tried again at the next run. Records what was dropped, keeps each vehicle's
--    newest trip in trip_latest and forgets the older trips of the dropped range, then drops.
CREATE FUNCTION trip_partition_drop(name text, since xid8, expect_rows bigint, expect_checksum numeric)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET lock_timeout = '250ms' AS $$
DECLARE
    p trip_partitions%ROWTYPE;
BEGIN
    SELECT * INTO p FROM trip_partitions WHERE partition_name = name AND dropped_at IS NULL;
    IF NOT FOUND THEN
        RETURN 'no such partition';
    END IF;
    -- DROP locks the parent exclusively anyway; taking it first keeps the order writers use (parent, then
    -- partition), and lock_timeout bounds how long writers queue behind it (the caller tries again later).
    LOCK TABLE trips IN ACCESS EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM trips WHERE measurement_time >= p.range_start AND measurement_time < p.range_end
               AND _export_xid >= since) THEN
        RETURN 'rows were written since the comparison';
    END IF;
    IF EXISTS (SELECT 1 FROM export_deletes WHERE table_name = 'trips' AND _export_xid >= since
               AND day >= p.range_start::date AND day <= (p.range_end - interval '1 microsecond')::date) THEN
        RETURN 'rows were deleted since the comparison';
    END IF;
    UPDATE trip_partitions SET dropped_at = now(), dropped_rows = expect_rows, dropped_checksum = expect_checksum,
                               dropped_xid = pg_current_xact_id()
    WHERE partition_name = name AND dropped_at IS NULL;
    DELETE FROM trip_latest tl
    WHERE tl.measurement_time >= p.range_start AND tl.measurement_time < p.range_end
      AND (tl.trip_id, tl.measurement_time) <> (
          SELECT n.trip_id, n.measurement_time FROM trip_latest n WHERE n.vehicle_id = tl.vehicle_id
          ORDER BY n.measurement_time DESC, n.trip_id DESC LIMIT 1);
    EXECUTE format('DROP TABLE %I', name);
    RETURN 'dropped';
END $$;
REVOKE ALL ON FUNCTION trip_partition_drop(text, xid8, bigint, numeric) FROM PUBLIC;

