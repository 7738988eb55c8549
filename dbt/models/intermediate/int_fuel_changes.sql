-- Consecutive measurements of one trip, ordered by time: how much fuel and distance changed between them.
-- The refuel and anomaly rules (macros/fuel_rules.sql) classify each change; fct_refuels,
-- fct_fuel_anomalies and the fuel test all read their flags from here, so they cannot disagree.
with ordered as (
    select
        t.*,
        lag(measurement_key)        over w as previous_measurement_key,
        lag(measured_at)            over w as previous_measured_at,
        lag(fuel_remaining_gallons) over w as previous_fuel_gallons,
        lag(trip_miles)             over w as previous_trip_miles
    from {{ ref('stg_trips') }} as t
    window w as (partition by vehicle_id, trip_id order by measured_at, measurement_sequence)
),

changes as (
    select
        measurement_key,
        previous_measurement_key,
        trip_key,
        vehicle_id,
        trip_id,
        measurement_sequence,
        previous_measured_at,
        measured_at,
        fuel_capacity_gallons,
        previous_fuel_gallons,
        fuel_remaining_gallons,
        fuel_remaining_gallons - previous_fuel_gallons  as fuel_delta_gallons,
        trip_miles - previous_trip_miles                as miles_delta,
        latitude,
        longitude
    from ordered
    where previous_measurement_key is not null
)

select
    *,
    {{ is_refuel('fuel_delta_gallons', 'miles_delta') }}          as is_refuel,
    {{ is_suspicious_drop('fuel_delta_gallons', 'miles_delta') }} as is_suspicious_drop
from changes
