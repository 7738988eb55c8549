-- The web app's "/" shows each vehicle's most recent measurement. The DISTINCT ON form of
-- vehicle_latest_locations sorts every row of trip_latest (one per trip: millions at 10 M trip rows) and joins
-- each to trips before keeping one per vehicle. With this index each vehicle is one index probe instead: the
-- view walks vehicles and takes the first trip_latest entry per vehicle in (time, trip) order.
CREATE INDEX trip_latest_vehicle_time_idx
    ON trip_latest (vehicle_id, measurement_time DESC, trip_id DESC);

-- Same columns and meaning as before (the newest trip per vehicle by measurement time, ties to the higher
-- trip id), now planned as one index probe per vehicle.
CREATE OR REPLACE VIEW vehicle_latest_locations AS
SELECT t.*
FROM vehicles v
CROSS JOIN LATERAL (
    SELECT tl.trip_row_id
    FROM trip_latest tl
    WHERE tl.vehicle_id = v.id
    ORDER BY tl.measurement_time DESC, tl.trip_id DESC
    LIMIT 1) l
JOIN trips t ON t.id = l.trip_row_id;
