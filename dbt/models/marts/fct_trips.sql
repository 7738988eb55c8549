-- One row per trip: when, how long, how far, how much fuel, how economical, how fast, added up from the
-- trip's days (int_trip_days). The driver is the vehicle's driver (the source records drivers per vehicle,
-- not per trip).
--
-- Incremental: only the trips the unread change-log batches touched are added up again (from their one or
-- two day rows); a trip left with no measurement is deleted, and a vehicle given another driver has its
-- trips' driver_id rewritten (post-hooks).
-- depends_on: {{ ref('stg_trip_changes') }}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    unique_key='trip_key',
    incremental_strategy='upsert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['trip_key'], 'unique': True},
        {'columns': ['vehicle_id', 'trip_id']},
        {'columns': ['_batch_id']},
    ],
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where ctid in (
           select d.ctid from ({{ touched_trips('int_trip_days') }}) as t
           cross join lateral (select d.ctid, d._batch_id from {{ this }} as d
                               where (d.vehicle_id, d.trip_id) = (t.vehicle_id, t.trip_id) offset 0) as d
           where d._batch_id < {{ watermark('int_trip_days') }}){% endif %}",
        "{{ refresh_drivers() }}",
        "{{ record_watermark(watermark('int_trip_days')) }}",
    ],
) }}

with days as (
{%- if trip_changes_incremental() %}
    select d.*
    from (select distinct vehicle_id, trip_id from ({{ touched_trips('int_trip_days') }}) as p) as t
    cross join lateral (
        select *
        from {{ ref('int_trip_days') }} as d
        where d.vehicle_id = t.vehicle_id and d.trip_id = t.trip_id
        offset 0  -- a fence: one index lookup per touched trip, never a scan of the whole table
    ) as d
{%- else %}
    select d.*
    from {{ ref('int_trip_days') }} as d
{%- endif %}
),

trips as (
    select
        trip_key,
        vehicle_id,
        trip_id,
        sum(measurement_count)::integer                                     as measurement_count,
        min(first_measured_at)                                              as started_at,
        max(last_measured_at)                                               as ended_at,
        (array_agg(first_trip_miles order by activity_date))[1]             as first_trip_miles,
        (array_agg(last_trip_miles order by activity_date desc))[1]         as last_trip_miles,
        sum(fuel_used_gallons)                                              as fuel_used_gallons,
        sum(refuel_count)::integer                                          as refuel_count,
        sum(anomaly_count)::integer                                         as anomaly_count
    from days
    group by trip_key, vehicle_id, trip_id
),

summary as (
    select
        *,
        extract(epoch from (ended_at - started_at))::bigint                 as duration_seconds,
        greatest(last_trip_miles - first_trip_miles, 0)                     as distance_miles
    from trips
)

select
    s.trip_key,
    s.vehicle_id,
    v.driver_id,
    s.trip_id,
    s.started_at,
    s.ended_at,
    s.duration_seconds,
    round(s.distance_miles::numeric, 2)                                     as distance_miles,
    round(s.fuel_used_gallons, 3)                                           as fuel_used_gallons,
    round((s.distance_miles / nullif(s.fuel_used_gallons, 0))::numeric, 2)  as miles_per_gallon,
    round((s.distance_miles / nullif(s.duration_seconds / 3600.0, 0))::numeric, 2) as average_speed_mph,
    s.measurement_count,
    s.refuel_count,
    s.anomaly_count,
    {{ watermark('int_trip_days') }}::bigint                                        as _batch_id
from summary as s
left join {{ ref('stg_vehicles') }} as v on v.vehicle_id = s.vehicle_id
