-- raw.trips partitioned by day (docs/ARCHITECTURE.md "Data lifecycle"): one range partition of
-- measurement_time per UTC day, made on demand before a load writes to the day, and a DEFAULT partition.
-- `fleetpipe retain` drops a day's partition once it is past FLEETPIPE_WAREHOUSE_RAW_RETENTION, the source no
-- longer holds its rows and the incremental marts have consumed every one of them (src/retain/raw_days.h);
-- the marts keep the day's figures.
--
-- What PostgreSQL cannot do across partitions is enforce a unique id (a unique index must hold the
-- partition key), and the loader's upsert relied on the primary key: ON CONFLICT (id), and a direct COPY
-- failing on an id already present. raw.trip_ids takes that role: one row per id, with where its row is
-- (its measurement_time, hence its partition) and its version (_source_epoch, _source_xid), kept in the
-- loader's transaction. Its primary key is the global unique id, so the direct COPY's conflict detection
-- and the upsert's decision are both one index probe per row, whatever the number of partitions.

-- 1. The id map. Filled from the existing rows once (a narrow copy: the rows themselves are not rewritten);
--    the primary key is built after the copy, which is faster than maintaining it row by row.
CREATE TABLE raw.trip_ids (
    id                   bigint  NOT NULL,
    -- The partition that holds the id's row is the one covering this time; NULL: trips_default (a
    -- tombstone for an id whose data never arrived carries no time).
    measurement_time     timestamp,
    _source_epoch        integer NOT NULL,
    _source_xid          bigint  NOT NULL,
    -- The row's natural key: dbt's stg_trips looks a measurement's raw rows up by it (one probe here, then
    -- each row by id and time in its own partition) rather than in every partition's index.
    vehicle_id           integer,
    trip_id              integer,
    measurement_sequence integer
);
INSERT INTO raw.trip_ids (id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id,
                          measurement_sequence)
SELECT id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id, measurement_sequence FROM raw.trips;
ALTER TABLE raw.trip_ids ADD CONSTRAINT trip_ids_pkey PRIMARY KEY (id);
CREATE INDEX trip_ids_natural_key_idx ON raw.trip_ids (vehicle_id, trip_id, measurement_sequence);

-- 2. The existing heap keeps its rows and becomes one partition (attached, not copied) over the days it
--    covers; its own primary key on id stays (a partition may have unique indexes of its own) and serves as
--    its id index. Its statement triggers go: the parent's fire for statements on raw.trips.
ALTER TABLE raw.trips RENAME TO trips_unpartitioned;
ALTER INDEX raw.trips_pkey RENAME TO trips_unpartitioned_pkey;
ALTER INDEX raw.raw_trips_vehicle_trip_idx RENAME TO trips_unpartitioned_vehicle_trip_idx;
ALTER INDEX raw.raw_trips_deleted_idx RENAME TO trips_unpartitioned_deleted_idx;
ALTER INDEX raw.raw_trips_load_xid_idx RENAME TO trips_unpartitioned_load_xid_idx;
ALTER INDEX raw.raw_trips_measurement_time_idx RENAME TO trips_unpartitioned_measurement_time_idx;
DROP TRIGGER raw_trips_updated_days ON raw.trips_unpartitioned;
DROP TRIGGER raw_trips_deleted_days ON raw.trips_unpartitioned;
DROP TRIGGER raw_trips_truncated ON raw.trips_unpartitioned;

CREATE TABLE raw.trips (LIKE raw.trips_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (measurement_time);
-- Rows of a day that has no partition yet (a row version moved to a new day by the staged upsert), and
-- tombstones for ids never seen (no time). raw.trip_partitions_ensure moves the former into their day's
-- partition when it makes it; retention never drops this one.
CREATE TABLE raw.trips_default PARTITION OF raw.trips DEFAULT;
CREATE INDEX trips_default_id_idx ON raw.trips_default (id);

-- The indexes every partition has, as 001, 005, 006 and 008 made them on the plain table. Made on the parent
-- before the heap is attached, so the heap's identical indexes are adopted, not built again.
CREATE INDEX raw_trips_vehicle_trip_idx ON raw.trips (vehicle_id, trip_id, measurement_sequence);
CREATE INDEX raw_trips_deleted_idx ON raw.trips (id) WHERE _deleted_xid IS NOT NULL;
CREATE INDEX raw_trips_load_xid_idx ON raw.trips (_load_xid);
CREATE INDEX raw_trips_measurement_time_idx ON raw.trips (measurement_time);

-- 3. The partitions' ledger: the days each covers, and when it was dropped. The figures of a dropped
--    partition are kept per day in ops.raw_trip_drops, which verify adds to the warehouse side.
CREATE TABLE raw.trip_partitions (
    partition_name text        NOT NULL,
    range_start    date        NOT NULL,
    range_end      date        NOT NULL CHECK (range_end > range_start),
    created_at     timestamptz NOT NULL DEFAULT now(),
    dropped_at     timestamptz,
    dropped_xid    xid8,
    CHECK ((dropped_at IS NULL) = (dropped_xid IS NULL)),
    -- A day dropped and written again (a late row) gets a new partition and a new ledger row.
    EXCLUDE USING gist (daterange(range_start, range_end) WITH &&) WHERE (dropped_at IS NULL)
);
CREATE UNIQUE INDEX trip_partitions_live_name_idx ON raw.trip_partitions (partition_name)
    WHERE dropped_at IS NULL;

CREATE TABLE ops.raw_trip_drops (
    day            date        NOT NULL,
    partition_name text        NOT NULL,
    rows           bigint      NOT NULL CHECK (rows >= 0),  -- live rows (verify's warehouse side)
    checksum       numeric     NOT NULL,  -- sum(hashtext(verify's canonical row text)) of those rows
    dropped_at     timestamptz NOT NULL DEFAULT now(),
    dropped_xid    xid8        NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (day, partition_name, dropped_xid)
);
CREATE INDEX raw_trip_drops_xid_idx ON ops.raw_trip_drops (dropped_xid);

-- The view 005 made now reads the parent (a view binds to a table, not to its
-- name), before the heap may be dropped below.
CREATE OR REPLACE VIEW raw.latest_locations AS
SELECT DISTINCT ON (vehicle_id, trip_id) *
FROM raw.trips
WHERE _deleted_xid IS NULL
ORDER BY vehicle_id, trip_id, measurement_sequence DESC;

-- Tombstone-only rows (no time) cannot be in a range partition: they move to the default one first.
INSERT INTO raw.trips_default SELECT * FROM raw.trips_unpartitioned WHERE measurement_time IS NULL;
DELETE FROM raw.trips_unpartitioned WHERE measurement_time IS NULL;
DO $$
DECLARE
    lo date;
    hi date;
BEGIN
    SELECT min(measurement_time)::date, max(measurement_time)::date + 1 INTO lo, hi FROM raw.trips_unpartitioned;
    IF lo IS NULL THEN
        DROP TABLE raw.trips_unpartitioned;
        RETURN;
    END IF;
    -- A valid CHECK that implies the partition constraint spares ATTACH its own validation scan.
    EXECUTE format('ALTER TABLE raw.trips_unpartitioned ADD CONSTRAINT trips_unpartitioned_range '
                   'CHECK (measurement_time IS NOT NULL AND measurement_time >= %L AND measurement_time < %L)',
                   lo, hi);
    EXECUTE format('ALTER TABLE raw.trips ATTACH PARTITION raw.trips_unpartitioned FOR VALUES FROM (%L) TO (%L)',
                   lo, hi);
    ALTER TABLE raw.trips_unpartitioned DROP CONSTRAINT trips_unpartitioned_range;
    INSERT INTO raw.trip_partitions (partition_name, range_start, range_end) VALUES ('trips_unpartitioned', lo, hi);
END $$;

-- 4. Triggers on the parent. 008's changed-days log, as before. The id map follows every statement on
--    raw.trips (the loader's staged inserts, upserts and tombstones, an epoch's sweep, a change by hand): an
--    INSERT of an id the map holds fails with a unique violation, as it did on the unpartitioned table's
--    primary key. The loader's direct COPY goes into a day's partition, not through the parent (COPY into a
--    partitioned table with an INSERT transition table would insert row by row), and writes the map itself
--    in the same transaction (src/load/trips_apply.h).
CREATE TRIGGER raw_trips_updated_days AFTER UPDATE ON raw.trips
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.log_raw_changed_days();
CREATE TRIGGER raw_trips_deleted_days AFTER DELETE ON raw.trips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ops.log_raw_changed_days();
CREATE TRIGGER raw_trips_truncated AFTER TRUNCATE ON raw.trips
    FOR EACH STATEMENT EXECUTE FUNCTION ops.log_raw_changed_days();

-- An UPDATE moves an entry with its row (a new time, a new version); an id changed by hand moves too.
CREATE FUNCTION raw.trip_ids_after_update() RETURNS trigger LANGUAGE plpgsql
SET search_path = raw, pg_temp AS $$
BEGIN
    DELETE FROM raw.trip_ids m USING old_rows o
    WHERE m.id = o.id AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id);
    INSERT INTO raw.trip_ids AS m (id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id,
                                   measurement_sequence)
    SELECT id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id, measurement_sequence
    FROM new_rows
    ON CONFLICT (id) DO UPDATE SET measurement_time = EXCLUDED.measurement_time,
        _source_epoch = EXCLUDED._source_epoch, _source_xid = EXCLUDED._source_xid,
        vehicle_id = EXCLUDED.vehicle_id, trip_id = EXCLUDED.trip_id,
        measurement_sequence = EXCLUDED.measurement_sequence
    WHERE (m.measurement_time, m._source_epoch, m._source_xid, m.vehicle_id, m.trip_id, m.measurement_sequence)
          IS DISTINCT FROM (EXCLUDED.measurement_time, EXCLUDED._source_epoch, EXCLUDED._source_xid,
                            EXCLUDED.vehicle_id, EXCLUDED.trip_id, EXCLUDED.measurement_sequence);
    RETURN NULL;
END $$;

CREATE FUNCTION raw.trip_ids_after_insert() RETURNS trigger LANGUAGE plpgsql
SET search_path = raw, pg_temp AS $$
BEGIN
    INSERT INTO raw.trip_ids (id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id,
                              measurement_sequence)
    SELECT id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id, measurement_sequence
    FROM new_rows ORDER BY id;
    RETURN NULL;
END $$;

CREATE FUNCTION raw.trip_ids_after_delete() RETURNS trigger LANGUAGE plpgsql
SET search_path = raw, pg_temp AS $$
BEGIN
    DELETE FROM raw.trip_ids m USING old_rows o WHERE m.id = o.id;
    RETURN NULL;
END $$;

CREATE FUNCTION raw.trip_ids_after_truncate() RETURNS trigger LANGUAGE plpgsql
SET search_path = raw, pg_temp AS $$
BEGIN
    TRUNCATE raw.trip_ids;
    RETURN NULL;
END $$;

CREATE TRIGGER raw_trips_ids_ins AFTER INSERT ON raw.trips
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION raw.trip_ids_after_insert();
CREATE TRIGGER raw_trips_ids_upd AFTER UPDATE ON raw.trips
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION raw.trip_ids_after_update();
CREATE TRIGGER raw_trips_ids_del AFTER DELETE ON raw.trips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION raw.trip_ids_after_delete();
CREATE TRIGGER raw_trips_ids_truncate AFTER TRUNCATE ON raw.trips
    FOR EACH STATEMENT EXECUTE FUNCTION raw.trip_ids_after_truncate();

-- 5. Partitions are made on demand: the loader asks for an object's day (its manifest entry's dt) before
--    the object's transaction, and once more (with no day) after a staged object, for the rows that went to
--    days without a partition. Runs as the owner: the pipeline's role cannot create tables. Returns the
--    partition holding each day asked for, or each day of a row waiting in trips_default when no day is
--    given; a missing one is made: a table like the parent with an id index, the day's rows moved out of
--    trips_default into it, attached (the parent locked SHARE UPDATE EXCLUSIVE, which loads do not wait for)
--    and given the parent's grants, so the loader may COPY into it directly.
--    Locks in one order: the makers' advisory lock, then trips_default; nothing here reads trips_default
--    before holding both (a read's lock lasts to the end of the transaction: a session holding it while it
--    waits for the advisory lock would deadlock with the maker waiting to lock trips_default exclusively).
--    A loader's staged statement, which may route rows to trips_default, locks trips_default first
--    (src/load/trips_apply.h): a partition attached while it runs would otherwise leave it routing by the
--    partitions it saw at its start, into a trips_default that no longer accepts the day.
CREATE FUNCTION raw.trip_partitions_ensure(days date[])
RETURNS TABLE (day date, partition_name text) LANGUAGE plpgsql SECURITY DEFINER
SET search_path = raw, pg_temp AS $$
DECLARE
    d date;
    nm text;
    locked boolean := false;
    g record;
BEGIN
    IF cardinality(days) IS DISTINCT FROM 0 THEN
        days := ARRAY(SELECT DISTINCT x FROM unnest(days) x WHERE x IS NOT NULL ORDER BY 1);
    ELSE
        -- The days of the rows waiting in trips_default, read under both locks (one homer at a time).
        PERFORM pg_advisory_xact_lock(hashtext('fleetpipe.raw_trip_partitions'));
        LOCK TABLE raw.trips_default IN ACCESS EXCLUSIVE MODE;
        locked := true;
        days := ARRAY(SELECT DISTINCT measurement_time::date FROM raw.trips_default
                      WHERE measurement_time IS NOT NULL ORDER BY 1);
    END IF;
    FOREACH d IN ARRAY days LOOP
        LOOP
            SELECT p.partition_name INTO nm FROM raw.trip_partitions p
            WHERE p.dropped_at IS NULL AND p.range_start <= d AND d < p.range_end;
            EXIT WHEN FOUND OR locked;
            -- One maker at a time, and no writer in trips_default while its rows move (ATTACH takes that
            -- lock anyway); then look again, another may have made it meanwhile.
            PERFORM pg_advisory_xact_lock(hashtext('fleetpipe.raw_trip_partitions'));
            LOCK TABLE raw.trips_default IN ACCESS EXCLUSIVE MODE;
            locked := true;
        END LOOP;
        IF nm IS NULL THEN
            nm := 'trips_p' || to_char(d, 'YYYYMMDD');
            EXECUTE format('CREATE TABLE raw.%I (LIKE raw.trips INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', nm);
            EXECUTE format('CREATE INDEX %I ON raw.%I (id)', nm || '_id_idx', nm);
            EXECUTE format('WITH moved AS (DELETE FROM raw.trips_default WHERE measurement_time >= %L '
                           'AND measurement_time < %L RETURNING *) INSERT INTO raw.%I SELECT * FROM moved',
                           d, d + 1, nm);
            EXECUTE format('ALTER TABLE raw.trips ATTACH PARTITION raw.%I FOR VALUES FROM (%L) TO (%L)',
                           nm, d, d + 1);
            FOR g IN SELECT a.privilege_type, a.grantee FROM pg_class c, aclexplode(c.relacl) a
                     WHERE c.oid = 'raw.trips'::regclass AND a.grantee <> c.relowner LOOP
                EXECUTE format('GRANT %s ON raw.%I TO %s', g.privilege_type, nm,
                               CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.grantee::regrole::text) END);
            END LOOP;
            INSERT INTO raw.trip_partitions (partition_name, range_start, range_end) VALUES (nm, d, d + 1);
        END IF;
        day := d;
        partition_name := nm;
        RETURN NEXT;
        nm := NULL;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION raw.trip_partitions_ensure(date[]) FROM PUBLIC;

-- 6. The drop. The caller (`fleetpipe retain`, as the pipeline's role) has checked that the partition is past
--    the retention, that the source holds no row of its days and that the marts have consumed every row
--    written before `consumed_below` (the snapshot xmin of the change-log batch every incremental model has
--    applied), and has read its live rows' figures per day in a snapshot whose xmin was `since`. Here, with
--    raw.trips locked exclusively for a moment (lock_timeout: else the next run tries), no row of the
--    partition may have been written since either, nor changed since the figures were read; then the
--    figures go to the ledger, the ids leave the map and the partition is dropped, in one transaction.
CREATE FUNCTION raw.trip_partition_drop(name text, since xid8, consumed_below xid8, fig_days date[],
                                        fig_rows bigint[], fig_checksums numeric[])
RETURNS text LANGUAGE plpgsql SECURITY DEFINER
SET search_path = raw, pg_temp SET lock_timeout = '250ms' AS $$
DECLARE
    p raw.trip_partitions%ROWTYPE;
    newest xid8;
BEGIN
    SELECT * INTO p FROM raw.trip_partitions WHERE partition_name = name AND dropped_at IS NULL;
    IF NOT FOUND THEN
        RETURN 'no such partition';
    END IF;
    LOCK TABLE raw.trips IN ACCESS EXCLUSIVE MODE;
    EXECUTE format('SELECT max(_load_xid) FROM raw.%I', name) INTO newest;
    IF newest >= since THEN
        RETURN 'rows were written since the comparison';
    END IF;
    IF newest >= consumed_below THEN
        RETURN 'the marts have not consumed every row yet';
    END IF;
    IF EXISTS (SELECT 1 FROM ops.raw_changed_days c WHERE c.table_name = 'trips' AND c.xid >= since
               AND (c.day IS NULL OR (c.day >= p.range_start AND c.day < p.range_end))) THEN
        RETURN 'rows were changed since the comparison';
    END IF;
    INSERT INTO ops.raw_trip_drops (day, partition_name, rows, checksum)
    SELECT f.d, name, f.r, f.c FROM unnest(fig_days, fig_rows, fig_checksums) AS f(d, r, c);
    EXECUTE format('DELETE FROM raw.trip_ids m USING raw.%I t WHERE m.id = t.id', name);
    UPDATE raw.trip_partitions SET dropped_at = now(), dropped_xid = pg_current_xact_id()
    WHERE partition_name = name AND dropped_at IS NULL;
    EXECUTE format('DROP TABLE raw.%I', name);
    RETURN 'dropped';
END $$;
REVOKE ALL ON FUNCTION raw.trip_partition_drop(text, xid8, xid8, date[], bigint[], numeric[]) FROM PUBLIC;
