-- Deletes, export epochs and manifest-checked loading (fleetpipe load, docs/ARCHITECTURE.md "Batch lane").
--
-- Versions. Every raw row holds the newest event the loader has seen for its id, ordered by
-- (_source_epoch, _source_xid): an epoch is one source database's lifetime in the bucket (a restored or
-- recreated webapp database starts a new one with `fleetpipe export --new-epoch`), the xid the source
-- transaction that wrote the event. A row version replaces an event at the same or an older version; a
-- tombstone (the source deleted the id) replaces only an older one, so a delete and a re-insert in one
-- transaction end live. A deleted id keeps its last data with _deleted_xid/_deleted_at set; an id whose
-- tombstone arrived before any of its data (objects load in parallel, in any order) is a row of NULLs with
-- only the tombstone, so an older version loaded later cannot bring it back. Staging reads live rows only.
ALTER TABLE raw.drivers  ADD COLUMN _source_epoch integer NOT NULL DEFAULT 1,
                         ADD COLUMN _deleted_xid  bigint,
                         ADD COLUMN _deleted_at   timestamptz;
ALTER TABLE raw.vehicles ADD COLUMN _source_epoch integer NOT NULL DEFAULT 1,
                         ADD COLUMN _deleted_xid  bigint,
                         ADD COLUMN _deleted_at   timestamptz;
ALTER TABLE raw.trips    ADD COLUMN _source_epoch integer NOT NULL DEFAULT 1,
                         ADD COLUMN _deleted_xid  bigint,
                         ADD COLUMN _deleted_at   timestamptz;

ALTER TABLE raw.drivers ALTER COLUMN name DROP NOT NULL, ALTER COLUMN license_number DROP NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL,
    ADD CONSTRAINT drivers_live_rows_complete
        CHECK (_deleted_xid IS NOT NULL OR num_nulls(name, license_number, created_at) = 0),
    ADD CONSTRAINT drivers_deleted_together CHECK ((_deleted_xid IS NULL) = (_deleted_at IS NULL));
ALTER TABLE raw.vehicles ALTER COLUMN driver_id DROP NOT NULL, ALTER COLUMN make DROP NOT NULL,
    ALTER COLUMN model DROP NOT NULL, ALTER COLUMN fuel_capacity DROP NOT NULL,
    ALTER COLUMN color DROP NOT NULL, ALTER COLUMN created_at DROP NOT NULL,
    ADD CONSTRAINT vehicles_live_rows_complete CHECK (_deleted_xid IS NOT NULL OR
        num_nulls(driver_id, make, model, fuel_capacity, color, created_at) = 0),
    ADD CONSTRAINT vehicles_deleted_together CHECK ((_deleted_xid IS NULL) = (_deleted_at IS NULL));
ALTER TABLE raw.trips ALTER COLUMN vehicle_id DROP NOT NULL, ALTER COLUMN trip_id DROP NOT NULL,
    ALTER COLUMN measurement_sequence DROP NOT NULL, ALTER COLUMN measurement_time DROP NOT NULL,
    ALTER COLUMN latitude DROP NOT NULL, ALTER COLUMN longitude DROP NOT NULL,
    ALTER COLUMN fuel_capacity DROP NOT NULL, ALTER COLUMN distance_traveled DROP NOT NULL,
    ALTER COLUMN fuel_remaining_percent DROP NOT NULL, ALTER COLUMN fuel_remaining_gallon DROP NOT NULL,
    ALTER COLUMN color DROP NOT NULL,
    ADD CONSTRAINT trips_live_rows_complete CHECK (_deleted_xid IS NOT NULL OR
        num_nulls(vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
                  fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) = 0),
    ADD CONSTRAINT trips_deleted_together CHECK ((_deleted_xid IS NULL) = (_deleted_at IS NULL));

-- The live rows, for verify and the views: deletes are rare, so the partial indexes stay small.
CREATE INDEX raw_drivers_deleted_idx  ON raw.drivers (id)  WHERE _deleted_xid IS NOT NULL;
CREATE INDEX raw_vehicles_deleted_idx ON raw.vehicles (id) WHERE _deleted_xid IS NOT NULL;
CREATE INDEX raw_trips_deleted_idx    ON raw.trips (id)    WHERE _deleted_xid IS NOT NULL;

CREATE OR REPLACE VIEW raw.latest_locations AS
SELECT DISTINCT ON (vehicle_id, trip_id) *
FROM raw.trips
WHERE _deleted_xid IS NULL
ORDER BY vehicle_id, trip_id, measurement_sequence DESC;

-- What the loader checked an object against: the committed run manifest's entry (run, epoch, kind, sha256).
-- etag is the store's ETag at load time: a later listing with another ETag means the key was rewritten.
ALTER TABLE raw.load_manifest
    ADD COLUMN sha256 text,
    ADD COLUMN run    bigint,
    ADD COLUMN epoch  integer,
    ADD COLUMN kind   text NOT NULL DEFAULT 'rows' CHECK (kind IN ('rows', 'deletes'));

-- One row per committed export run the loader has finished (every object loaded or quarantined), so a load
-- reads only the manifests of runs it has not finished: its cost follows what is new, not the history.
-- An epoch's first run re-exports every live source row; once it is loaded, `swept_epoch` records that the
-- rows of older epochs it did not carry were marked deleted.
CREATE TABLE raw.load_runs (
    prefix        text        NOT NULL,
    run           bigint      NOT NULL,
    epoch         integer     NOT NULL,
    objects       integer     NOT NULL,
    superseded    boolean     NOT NULL DEFAULT false,  -- an older epoch's run, never loaded
    quarantined   integer     NOT NULL DEFAULT 0,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (prefix, run)
);
CREATE TABLE raw.load_epochs (
    prefix     text        NOT NULL,
    epoch      integer     NOT NULL,
    base_run   bigint      NOT NULL,
    swept_at   timestamptz NOT NULL DEFAULT now(),
    swept_rows bigint      NOT NULL,
    PRIMARY KEY (prefix, epoch)
);

-- Objects the loader refused (moved to quarantine/ in the bucket, with a .reason.txt beside them). A run
-- whose objects are all loaded or quarantined is finished; verify reports the rows a quarantined object
-- held as missing until a new epoch re-exports them.
CREATE TABLE raw.load_quarantine (
    object_key     text        PRIMARY KEY,
    run            bigint      NOT NULL,
    reason         text        NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
