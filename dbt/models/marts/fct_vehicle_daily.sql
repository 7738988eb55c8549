-- Daily use per vehicle: miles and fuel are attributed to the day of the later measurement of each
-- consecutive pair, so a trip over midnight splits between the two days.
with measurements as (
    select vehicle_id, measured_at::date as activity_date, trip_key, measured_at
    from {{ ref('stg_trips') }}
),

changes as (
    select
        vehicle_id,
        measured_at::date                               as activity_date,
        sum(greatest(miles_delta, 0))                   as miles,
        sum(greatest(-fuel_delta_gallons, 0))           as fuel_used_gallons,
        count(*) filter (where is_refuel)::integer      as refuel_count
    from {{ ref('int_fuel_changes') }}
    group by 1, 2
),

days as (
    select
        vehicle_id,
        activity_date,
        count(*)::integer                   as measurement_count,
        count(distinct trip_key)::integer   as trip_count,
        min(measured_at)                    as first_measured_at,
        max(measured_at)                    as last_measured_at
    from measurements
    group by 1, 2
)

select
    {{ dbt.concat(["d.vehicle_id::text", "'-'", "to_char(d.activity_date, 'YYYY-MM-DD')"]) }} as vehicle_day_key,
    d.vehicle_id,
    d.activity_date,
    d.trip_count,
    d.measurement_count,
    round(coalesce(c.miles, 0)::numeric, 2)                 as miles,
    round(coalesce(c.fuel_used_gallons, 0)::numeric, 3)     as fuel_used_gallons,
    coalesce(c.refuel_count, 0)                             as refuel_count,
    d.first_measured_at,
    d.last_measured_at
from days as d
left join changes as c on c.vehicle_id = d.vehicle_id and c.activity_date = d.activity_date
