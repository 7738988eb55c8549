-- One row per trip: when, how long, how far, how much fuel, how economical, how fast. The driver is the
-- vehicle's driver (the source records drivers per vehicle, not per trip).
select
    s.trip_key,
    s.vehicle_id,
    v.driver_id,
    s.trip_id,
    s.started_at,
    s.ended_at,
    s.duration_seconds,
    round(s.distance_miles::numeric, 2)                                     as distance_miles,
    round(s.fuel_used_gallons::numeric, 3)                                  as fuel_used_gallons,
    round((s.distance_miles / nullif(s.fuel_used_gallons, 0))::numeric, 2)  as miles_per_gallon,
    round((s.distance_miles / nullif(s.duration_seconds / 3600.0, 0))::numeric, 2) as average_speed_mph,
    s.measurement_count,
    s.refuel_count,
    s.anomaly_count
from {{ ref('int_trip_summary') }} as s
left join {{ ref('stg_vehicles') }} as v on v.vehicle_id = s.vehicle_id
