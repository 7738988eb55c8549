-- Per trip: its first and last measurement by time, and the fuel burnt (sum of the drops between
-- consecutive measurements, so a refuel in the middle of a trip does not hide what was used).
with bounds as (
    select
        trip_key,
        vehicle_id,
        trip_id,
        count(*)::integer                                           as measurement_count,
        min(measured_at)                                            as started_at,
        max(measured_at)                                            as ended_at,
        (array_agg(trip_miles order by measured_at, measurement_sequence))[1]        as first_trip_miles,
        (array_agg(trip_miles order by measured_at desc, measurement_sequence desc))[1] as last_trip_miles
    from {{ ref('stg_trips') }}
    group by trip_key, vehicle_id, trip_id
),

fuel as (
    select
        trip_key,
        sum(greatest(-fuel_delta_gallons, 0))           as fuel_used_gallons,
        count(*) filter (where is_refuel)::integer      as refuel_count,
        count(*) filter (where is_suspicious_drop)::integer as anomaly_count
    from {{ ref('int_fuel_changes') }}
    group by trip_key
)

select
    b.trip_key,
    b.vehicle_id,
    b.trip_id,
    b.measurement_count,
    b.started_at,
    b.ended_at,
    extract(epoch from (b.ended_at - b.started_at))::bigint    as duration_seconds,
    greatest(b.last_trip_miles - b.first_trip_miles, 0)        as distance_miles,
    coalesce(f.fuel_used_gallons, 0)                           as fuel_used_gallons,
    coalesce(f.refuel_count, 0)                                as refuel_count,
    coalesce(f.anomaly_count, 0)                               as anomaly_count
from bounds as b
left join fuel as f on f.trip_key = b.trip_key
