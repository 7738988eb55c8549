-- Each measurement of a trip, ordered by time, with how much fuel and distance changed since the one before
-- it (none for a trip's first measurement). The refuel and anomaly rules (macros/fuel_rules.sql) classify
-- each change; fct_refuels, fct_fuel_anomalies and the fuel test all read their flags from here, so they
-- cannot disagree, and int_trip_days sums the changes per trip and day.
--
-- Incremental: for each trip the unread change-log batches touched, the measurements from its earliest
-- changed position on are recomputed against the one measurement before that position, read from
-- stg_trips through its (vehicle, trip, time, sequence) index; for new points at a trip's end that is the
-- new points and one more. Rows left behind by deleted or moved measurements are removed by the post-hook.
-- depends_on: {{ ref('stg_trip_changes') }}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    unique_key=['vehicle_id', 'trip_id', 'measurement_sequence'],
    incremental_strategy='upsert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['vehicle_id', 'trip_id', 'measurement_sequence'], 'unique': True},
        {'columns': ['vehicle_id', 'trip_id', 'measured_at', 'measurement_sequence']},
        {'columns': ['_batch_id']},
    ],
    post_hook=[
        "{{ delete_untouched_after('stg_trips', 'measured_at') }}",
        "{{ record_watermark(watermark('stg_trips')) }}",
    ],
) }}

with points as (
{%- if trip_changes_incremental() %}
    -- the touched part of each trip
    select s.*, false as is_context
    from ({{ touched_trips('stg_trips') }}) as t
    cross join lateral (
        select *
        from {{ ref('stg_trips') }} as s
        where s.vehicle_id = t.vehicle_id
          and s.trip_id = t.trip_id
          and (s.measured_at, s.measurement_sequence) >= (t.from_measured_at, t.from_sequence)
        offset 0  -- a fence: one index lookup per touched trip, never a scan of the whole table
    ) as s
    union all
    -- and the measurement just before it, to take the first difference from
    select p.*, true as is_context
    from ({{ touched_trips('stg_trips') }}) as t
    cross join lateral (
        select *
        from {{ ref('stg_trips') }} as s
        where s.vehicle_id = t.vehicle_id
          and s.trip_id = t.trip_id
          and (s.measured_at, s.measurement_sequence) < (t.from_measured_at, t.from_sequence)
        order by s.measured_at desc, s.measurement_sequence desc
        limit 1
    ) as p
{%- else %}
    select s.*, false as is_context
    from {{ ref('stg_trips') }} as s
{%- endif %}
),

ordered as (
    select
        p.*,
        lag(measurement_key)        over w as previous_measurement_key,
        lag(measured_at)            over w as previous_measured_at,
        lag(fuel_remaining_gallons) over w as previous_fuel_gallons,
        lag(trip_miles)             over w as previous_trip_miles
    from points as p
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
        trip_miles,
        trip_miles - previous_trip_miles                as miles_delta,
        latitude,
        longitude
    from ordered
    where not is_context
)

select
    *,
    coalesce({{ is_refuel('fuel_delta_gallons', 'miles_delta') }}, false)          as is_refuel,
    coalesce({{ is_suspicious_drop('fuel_delta_gallons', 'miles_delta') }}, false) as is_suspicious_drop,
    {{ watermark('stg_trips') }}::bigint                                                   as _batch_id
from changes
