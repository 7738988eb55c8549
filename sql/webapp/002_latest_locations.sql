-- The latest measurement of every (vehicle, trip), kept current by statement-level triggers in the same
-- transaction as the write. The seed computed this with a GROUP BY over all trips on every read; here a read
-- touches one row per trip, and a bulk COPY pays one set-based upsert per statement, not one per row.

CREATE TABLE trip_latest (
    vehicle_id           integer   NOT NULL,
    trip_id              integer   NOT NULL,
    trip_row_id          bigint    NOT NULL,
    measurement_sequence integer   NOT NULL,
    measurement_time     timestamp NOT NULL,
    PRIMARY KEY (vehicle_id, trip_id)
);
CREATE INDEX trip_latest_time_idx ON trip_latest (measurement_time DESC);

CREATE FUNCTION trip_latest_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trip_latest AS tl (vehicle_id, trip_id, trip_row_id, measurement_sequence, measurement_time)
    SELECT DISTINCT ON (vehicle_id, trip_id) vehicle_id, trip_id, id, measurement_sequence, measurement_time
    FROM new_rows
    ORDER BY vehicle_id, trip_id, measurement_sequence DESC
    ON CONFLICT (vehicle_id, trip_id) DO UPDATE
        SET trip_row_id = EXCLUDED.trip_row_id,
            measurement_sequence = EXCLUDED.measurement_sequence,
            measurement_time = EXCLUDED.measurement_time
        WHERE EXCLUDED.measurement_sequence >= tl.measurement_sequence;
    RETURN NULL;
END $$;

-- Updates and deletes are rare; recompute the affected trips from the natural-key index. (PL/pgSQL plans a
-- statement only when it runs, so the UPDATE branch may name new_rows although DELETE triggers lack it.)
CREATE FUNCTION trip_latest_recompute() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM trip_latest tl
        USING (SELECT vehicle_id, trip_id FROM old_rows UNION SELECT vehicle_id, trip_id FROM new_rows) k
        WHERE tl.vehicle_id = k.vehicle_id AND tl.trip_id = k.trip_id;
        INSERT INTO trip_latest (vehicle_id, trip_id, trip_row_id, measurement_sequence, measurement_time)
        SELECT k.vehicle_id, k.trip_id, t.id, t.measurement_sequence, t.measurement_time
        FROM (SELECT vehicle_id, trip_id FROM old_rows UNION SELECT vehicle_id, trip_id FROM new_rows) k
        CROSS JOIN LATERAL (
            SELECT id, measurement_sequence, measurement_time FROM trips
            WHERE trips.vehicle_id = k.vehicle_id AND trips.trip_id = k.trip_id
            ORDER BY measurement_sequence DESC LIMIT 1) t;
    ELSE
        DELETE FROM trip_latest tl
        USING (SELECT DISTINCT vehicle_id, trip_id FROM old_rows) k
        WHERE tl.vehicle_id = k.vehicle_id AND tl.trip_id = k.trip_id;
        INSERT INTO trip_latest (vehicle_id, trip_id, trip_row_id, measurement_sequence, measurement_time)
        SELECT k.vehicle_id, k.trip_id, t.id, t.measurement_sequence, t.measurement_time
        FROM (SELECT DISTINCT vehicle_id, trip_id FROM old_rows) k
        CROSS JOIN LATERAL (
            SELECT id, measurement_sequence, measurement_time FROM trips
            WHERE trips.vehicle_id = k.vehicle_id AND trips.trip_id = k.trip_id
            ORDER BY measurement_sequence DESC LIMIT 1) t;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trips_latest_ins AFTER INSERT ON trips
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION trip_latest_after_insert();
CREATE TRIGGER trips_latest_upd AFTER UPDATE ON trips
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION trip_latest_recompute();
CREATE TRIGGER trips_latest_del AFTER DELETE ON trips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION trip_latest_recompute();

-- The seed's view: the last measurement of each vehicle's each trip.
CREATE VIEW latest_locations AS
SELECT t.*
FROM trip_latest tl
JOIN trips t ON t.id = tl.trip_row_id;

-- One row per vehicle: its most recent measurement across trips (what the web app's "/" shows).
CREATE VIEW vehicle_latest_locations AS
SELECT DISTINCT ON (t.vehicle_id) t.*
FROM trip_latest tl
JOIN trips t ON t.id = tl.trip_row_id
ORDER BY t.vehicle_id, t.measurement_time DESC, t.trip_id DESC;
