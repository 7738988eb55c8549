-- Incremental marts (dbt/models/staging/stg_trip_changes.sql): each dbt build reads only the raw rows the
-- loader changed since the previous build, not the whole history.
--
-- _load_xid is the warehouse transaction that last wrote the row (the loader's insert, upsert, tombstone or
-- epoch sweep). A build reads the rows with _load_xid >= the xmin of the previous build's snapshot: every
-- transaction below that xmin had finished when the previous build looked, so its rows were seen then; one
-- still running then is at or above it and is read now. Rows written before this migration get xid 1 (seen
-- by the first, full, build). The default is set after the column exists so adding it rewrites no rows.
-- The loader writes the three tables alike, so all three carry it; only trips is read incrementally today.
ALTER TABLE raw.trips    ADD COLUMN _load_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE raw.vehicles ADD COLUMN _load_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE raw.drivers  ADD COLUMN _load_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE raw.trips    ALTER COLUMN _load_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE raw.vehicles ALTER COLUMN _load_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE raw.drivers  ALTER COLUMN _load_xid SET DEFAULT pg_current_xact_id();
-- Appends go to the right-hand edge of this index; a build reads one contiguous range of it.
CREATE INDEX raw_trips_load_xid_idx ON raw.trips (_load_xid);

-- How far each incremental model of the trips lane has read the change log (staging.stg_trip_changes):
-- written by the model's post-hook in the same transaction as its rows, so a model and its watermark never
-- disagree; a failed or skipped model keeps its watermark and catches up at its next build.
CREATE TABLE ops.dbt_watermarks (
    model      text        PRIMARY KEY,
    batch_id   bigint      NOT NULL CHECK (batch_id >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The marts were plain tables rebuilt on every run; they become incremental tables with more columns and
-- a watermark. Dropped here so the next build creates them afresh (they hold only derived data).
DROP TABLE IF EXISTS marts.fct_trips, marts.fct_vehicle_daily, marts.fct_refuels, marts.fct_fuel_anomalies;
DROP VIEW IF EXISTS staging.int_trip_summary;
