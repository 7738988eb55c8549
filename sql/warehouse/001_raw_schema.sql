-- The warehouse's landing tables: the source's rows as exported to the object store, plus where each came from.
CREATE SCHEMA raw;

-- One row per object loaded, written in the same transaction as the object's rows: loading twice is a no-op.
CREATE TABLE raw.load_manifest (
    object_key  text        PRIMARY KEY,
    etag        text        NOT NULL,
    table_name  text        NOT NULL,
    row_count   bigint      NOT NULL CHECK (row_count >= 0),
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE raw.drivers (
    id             integer PRIMARY KEY,
    name           text        NOT NULL,
    license_number text        NOT NULL,
    created_at     timestamptz NOT NULL,
    _object_key    text        NOT NULL REFERENCES raw.load_manifest (object_key),
    _loaded_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE raw.vehicles (
    id            integer PRIMARY KEY,
    driver_id     integer          NOT NULL,
    make          text             NOT NULL,
    model         text             NOT NULL,
    fuel_capacity double precision NOT NULL,
    color         text             NOT NULL,
    created_at    timestamptz      NOT NULL,
    _object_key   text             NOT NULL REFERENCES raw.load_manifest (object_key),
    _loaded_at    timestamptz      NOT NULL DEFAULT now()
);

CREATE TABLE raw.trips (
    id                     bigint PRIMARY KEY,
    vehicle_id             integer          NOT NULL,
    trip_id                integer          NOT NULL,
    measurement_sequence   integer          NOT NULL,
    measurement_time       timestamp        NOT NULL,
    latitude               double precision NOT NULL,
    longitude              double precision NOT NULL,
    fuel_capacity          double precision NOT NULL,
    distance_traveled      double precision NOT NULL,
    fuel_remaining_percent double precision NOT NULL,
    fuel_remaining_gallon  double precision NOT NULL,
    color                  text             NOT NULL,
    _object_key            text             NOT NULL REFERENCES raw.load_manifest (object_key),
    _loaded_at             timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX raw_trips_vehicle_trip_idx ON raw.trips (vehicle_id, trip_id, measurement_sequence);

-- The seed's warehouse view of the latest location per vehicle and trip.
CREATE VIEW raw.latest_locations AS
SELECT DISTINCT ON (vehicle_id, trip_id) *
FROM raw.trips
ORDER BY vehicle_id, trip_id, measurement_sequence DESC;
