-- The operational ("webapp") database: drivers, vehicles and their trip measurements.
-- Constraints encode what the values mean, so a bad row is refused at the door whichever client writes it.

CREATE TABLE drivers (
    id             integer PRIMARY KEY CHECK (id >= 1),
    name           varchar(100) NOT NULL CHECK (length(btrim(name)) > 0),
    license_number varchar(32)  NOT NULL UNIQUE,
    created_at     timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE vehicles (
    id            integer PRIMARY KEY CHECK (id >= 1),
    driver_id     integer      NOT NULL REFERENCES drivers (id),
    make          varchar(50)  NOT NULL,
    model         varchar(50)  NOT NULL,
    fuel_capacity double precision NOT NULL CHECK (fuel_capacity > 0 AND fuel_capacity <= 1000),
    color         varchar(50)  NOT NULL CHECK (color ~ '^[a-z]{1,20}$'),
    created_at    timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX vehicles_driver_id_idx ON vehicles (driver_id);

CREATE TABLE trips (
    id                     bigserial PRIMARY KEY,
    vehicle_id             integer   NOT NULL REFERENCES vehicles (id),
    trip_id                integer   NOT NULL CHECK (trip_id >= 1),
    measurement_sequence   integer   NOT NULL CHECK (measurement_sequence >= 1),
    measurement_time       timestamp NOT NULL,
    latitude               double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude              double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    fuel_capacity          double precision NOT NULL CHECK (fuel_capacity > 0),
    distance_traveled      double precision NOT NULL CHECK (distance_traveled >= 0),
    fuel_remaining_percent double precision NOT NULL CHECK (fuel_remaining_percent BETWEEN 0 AND 100),
    fuel_remaining_gallon  double precision NOT NULL
        CHECK (fuel_remaining_gallon >= 0 AND fuel_remaining_gallon <= fuel_capacity),
    color                  varchar(50) NOT NULL CHECK (color ~ '^[a-z]{1,20}$'),
    -- The natural key: re-sending a measurement can never duplicate it.
    CONSTRAINT trips_natural_key UNIQUE (vehicle_id, trip_id, measurement_sequence)
);
CREATE INDEX trips_measurement_time_idx ON trips (measurement_time);

-- Debezium emits full before-images for updates and deletes only with REPLICA IDENTITY FULL.
ALTER TABLE drivers  REPLICA IDENTITY FULL;
ALTER TABLE vehicles REPLICA IDENTITY FULL;
ALTER TABLE trips    REPLICA IDENTITY FULL;
