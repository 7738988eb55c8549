-- Daily use per vehicle: miles and fuel are attributed to the day of the later measurement of each
-- consecutive pair, so a trip over midnight splits between the two days. Added up from the vehicle's trip
-- days (int_trip_days).
--
-- Incremental: for each vehicle with a touched trip, its days from the earliest changed one on are added
-- up again (for new points: today); a day left with no measurement is deleted (post-hook).
-- depends_on: {{ ref('stg_trip_changes') }}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    unique_key='vehicle_day_key',
    incremental_strategy='upsert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['vehicle_day_key'], 'unique': True},
        {'columns': ['vehicle_id', 'activity_date']},
        {'columns': ['_batch_id']},
    ],
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where ctid in (
           select d.ctid from ({{ touched_vehicle_days() }}) as t
           cross join lateral (select d.ctid, d._batch_id from {{ this }} as d
                               where d.vehicle_id = t.vehicle_id and d.activity_date >= t.from_date offset 0) as d
           where d._batch_id < {{ watermark('int_trip_days') }}){% endif %}",
        "{{ record_watermark(watermark('int_trip_days')) }}",
    ],
) }}

with trip_days as (
{%- if trip_changes_incremental() %}
    select d.*
    from ({{ touched_vehicle_days() }}) as t
    cross join lateral (
        select *
        from {{ ref('int_trip_days') }} as d
        where d.vehicle_id = t.vehicle_id and d.activity_date >= t.from_date
        offset 0  -- a fence: one index lookup per touched vehicle, never a scan of the whole table
    ) as d
{%- else %}
    select d.*
    from {{ ref('int_trip_days') }} as d
{%- endif %}
)

select
    {{ dbt.concat(["vehicle_id::text", "'-'", "to_char(activity_date, 'YYYY-MM-DD')"]) }} as vehicle_day_key,
    vehicle_id,
    activity_date,
    count(*)::integer                       as trip_count,
    sum(measurement_count)::integer         as measurement_count,
    round(sum(miles), 2)                    as miles,
    round(sum(fuel_used_gallons), 3)        as fuel_used_gallons,
    sum(refuel_count)::integer              as refuel_count,
    min(first_measured_at)                  as first_measured_at,
    max(last_measured_at)                   as last_measured_at,
    {{ watermark('int_trip_days') }}::bigint        as _batch_id
from trip_days
group by vehicle_id, activity_date
