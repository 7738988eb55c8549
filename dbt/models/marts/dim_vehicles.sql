-- One row per vehicle, its current driver, tank size class and lifetime use. Rebuilt on every run from
-- fct_trips (one row per trip, not per measurement), so it costs the number of trips.
{{ config(indexes=[{'columns': ['vehicle_id'], 'unique': True}]) }}
with use as (
    select
        vehicle_id,
        count(*)::integer       as trip_count,
        sum(distance_miles)     as total_miles,
        min(started_at)         as first_trip_at,
        max(ended_at)           as last_trip_at
    from {{ ref('fct_trips') }}
    group by vehicle_id
)

select
    v.vehicle_id,
    v.driver_id,
    v.make,
    v.model,
    v.color,
    v.fuel_capacity_gallons,
    case
        when v.fuel_capacity_gallons < 20 then 'small'
        when v.fuel_capacity_gallons < 60 then 'medium'
        else 'large'
    end                                     as tank_size_class,
    v.created_at,
    coalesce(u.trip_count, 0)               as trip_count,
    coalesce(u.total_miles, 0)              as total_miles,
    u.first_trip_at,
    u.last_trip_at
from {{ ref('stg_vehicles') }} as v
left join use as u on u.vehicle_id = v.vehicle_id
