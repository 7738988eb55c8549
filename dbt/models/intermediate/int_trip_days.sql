-- Per trip and day: its measurements that day, the first and last of them, and the miles, fuel burnt,
-- refuels and suspicious drops of the changes that ended that day (a trip over midnight splits between the
-- two days). fct_trips adds up a trip's days and fct_vehicle_daily a vehicle's trips of one day, so neither
-- reads measurements. Sums are numeric, so adding days up in any grouping gives the same result.
--
-- Incremental, for each trip the unread change-log batches touched: when every change lies after the end
-- the trip had at the last build (the usual case: new points), the new changes are added to the trip's
-- last day row; otherwise the trip's days from the one of its earliest changed position on are recomputed
-- from int_fuel_changes (a late or corrected point costs the rest of that trip, never the history).
-- depends_on: {{ ref('stg_trip_changes') }}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    unique_key='trip_day_key',
    incremental_strategy='upsert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['trip_day_key'], 'unique': True},
        {'columns': ['vehicle_id', 'trip_id', 'activity_date']},
        {'columns': ['vehicle_id', 'activity_date']},
        {'columns': ['_batch_id']},
    ],
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where ctid in (
           select d.ctid from ({{ touched_trips('int_fuel_changes') }}) as t
           cross join lateral (select d.ctid, d._batch_id from {{ this }} as d
                               where (d.vehicle_id, d.trip_id) = (t.vehicle_id, t.trip_id)
                                 and d.activity_date >= t.from_measured_at::date offset 0) as d
           where d._batch_id < {{ watermark('int_fuel_changes') }}){% endif %}",
        "{{ record_watermark(watermark('int_fuel_changes')) }}",
    ],
) }}
{%- set incremental = trip_changes_incremental() %}

with
{%- if incremental %}
scope as (
    -- appends: every change is after the trip's last measurement as of the last build; they are read
    -- from their position on, anything else from the start of its day
    select
        t.vehicle_id,
        t.trip_id,
        a.appends,
        case when a.appends then t.from_measured_at else t.from_measured_at::date::timestamp end as start_at,
        case when a.appends then t.from_sequence else -2147483648 end                           as start_sequence
    from ({{ touched_trips('int_fuel_changes') }}) as t
    left join lateral (
        select d.last_measured_at, d.last_sequence
        from {{ this }} as d
        where d.vehicle_id = t.vehicle_id and d.trip_id = t.trip_id
        order by d.activity_date desc
        limit 1
    ) as e on true
    cross join lateral (
        select e.last_measured_at is null
            or (t.from_measured_at, t.from_sequence) > (e.last_measured_at, e.last_sequence) as appends
    ) as a
),

changes as (
    select c.*, s.appends
    from scope as s
    cross join lateral (
        select *
        from {{ ref('int_fuel_changes') }} as c
        where c.vehicle_id = s.vehicle_id
          and c.trip_id = s.trip_id
          and (c.measured_at, c.measurement_sequence) >= (s.start_at, s.start_sequence)
        offset 0  -- a fence: one index lookup per touched trip, never a scan of the whole table
    ) as c
),
{%- else %}
changes as (
    select c.*, false as appends
    from {{ ref('int_fuel_changes') }} as c
),
{%- endif %}

days as (
    select
        trip_key,
        vehicle_id,
        trip_id,
        measured_at::date                                                               as activity_date,
        bool_and(appends)                                                               as appends,
        count(*)::integer                                                               as measurement_count,
        min(measured_at)                                                                as first_measured_at,
        (array_agg(measurement_sequence order by measured_at, measurement_sequence))[1] as first_sequence,
        (array_agg(trip_miles order by measured_at, measurement_sequence))[1]           as first_trip_miles,
        max(measured_at)                                                                as last_measured_at,
        (array_agg(measurement_sequence order by measured_at desc, measurement_sequence desc))[1]
                                                                                        as last_sequence,
        (array_agg(trip_miles order by measured_at desc, measurement_sequence desc))[1]  as last_trip_miles,
        coalesce(sum(greatest(miles_delta, 0)::numeric), 0)                             as miles,
        coalesce(sum(greatest(-fuel_delta_gallons, 0)::numeric), 0)                     as fuel_used_gallons,
        count(*) filter (where is_refuel)::integer                                      as refuel_count,
        count(*) filter (where is_suspicious_drop)::integer                             as anomaly_count
    from changes
    group by trip_key, vehicle_id, trip_id, measured_at::date
)

select
    {{ dbt.concat(["n.trip_key", "'-'", "to_char(n.activity_date, 'YYYY-MM-DD')"]) }} as trip_day_key,
    n.trip_key,
    n.vehicle_id,
    n.trip_id,
    n.activity_date,
{%- if incremental %}
    -- an append continues the day's row as the last build left it (o), if the day had one
    n.measurement_count + coalesce(o.measurement_count, 0)      as measurement_count,
    coalesce(o.first_measured_at, n.first_measured_at)          as first_measured_at,
    coalesce(o.first_sequence, n.first_sequence)                as first_sequence,
    coalesce(o.first_trip_miles, n.first_trip_miles)            as first_trip_miles,
    n.last_measured_at,
    n.last_sequence,
    n.last_trip_miles,
    n.miles + coalesce(o.miles, 0)                              as miles,
    n.fuel_used_gallons + coalesce(o.fuel_used_gallons, 0)      as fuel_used_gallons,
    n.refuel_count + coalesce(o.refuel_count, 0)                as refuel_count,
    n.anomaly_count + coalesce(o.anomaly_count, 0)              as anomaly_count,
{%- else %}
    n.measurement_count,
    n.first_measured_at,
    n.first_sequence,
    n.first_trip_miles,
    n.last_measured_at,
    n.last_sequence,
    n.last_trip_miles,
    n.miles,
    n.fuel_used_gallons,
    n.refuel_count,
    n.anomaly_count,
{%- endif %}
    {{ watermark('int_fuel_changes') }}::bigint                         as _batch_id
from days as n
{%- if incremental %}
left join {{ this }} as o
    on n.appends
   and o.vehicle_id = n.vehicle_id
   and o.trip_id = n.trip_id
   and o.activity_date = n.activity_date
{%- endif %}
