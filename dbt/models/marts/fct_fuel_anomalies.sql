-- Suspicious fuel drops: between two consecutive measurements of a trip more fuel disappeared than the
-- distance covered can explain even at anomaly_gallons_per_mile (0.5 gal/mile = 2 mpg, worse than any
-- vehicle in the fleet), plus anomaly_slack_gallons of gauge slack (macros/fuel_rules.sql). A drop while
-- standing still points at theft or a leak; one while driving at a leak or a faulty gauge.
--
-- Incremental: the changes of each touched trip from its earliest changed position on are selected again
-- (int_fuel_changes recomputed exactly those); rows there that no longer qualify are deleted, and a vehicle
-- given another driver has its rows' driver_id rewritten (post-hooks).
-- depends_on: {{ ref('stg_trip_changes') }}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    unique_key='anomaly_key',
    incremental_strategy='upsert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['anomaly_key'], 'unique': True},
        {'columns': ['vehicle_id', 'trip_id', 'to_measured_at', 'measurement_sequence']},
        {'columns': ['_batch_id']},
    ],
    post_hook=[
        "{{ delete_untouched_after('int_fuel_changes', 'to_measured_at') }}",
        "{{ refresh_drivers() }}",
        "{{ record_watermark(watermark('int_fuel_changes')) }}",
    ],
) }}
select
    c.measurement_key                                       as anomaly_key,
    c.trip_key,
    c.vehicle_id,
    v.driver_id,
    c.trip_id,
    c.measurement_sequence,
    c.previous_measured_at                                  as from_measured_at,
    c.measured_at                                           as to_measured_at,
    c.latitude,
    c.longitude,
    round(c.miles_delta::numeric, 2)                        as miles_driven,
    round((-c.fuel_delta_gallons)::numeric, 3)              as gallons_dropped,
    round((greatest(c.miles_delta, 0) * {{ var('anomaly_gallons_per_mile') }}
           + {{ var('anomaly_slack_gallons') }})::numeric, 3) as gallons_explainable,
    case when c.miles_delta <= {{ var('refuel_max_miles') }} then 'drop_while_stopped'
         else 'drop_while_moving' end                       as anomaly_kind,
    {{ watermark('int_fuel_changes') }}::bigint                    as _batch_id
{%- if trip_changes_incremental() %}
from ({{ touched_trips('int_fuel_changes') }}) as t
cross join lateral (
    select *
    from {{ ref('int_fuel_changes') }} as c
    where c.vehicle_id = t.vehicle_id
      and c.trip_id = t.trip_id
      and (c.measured_at, c.measurement_sequence) >= (t.from_measured_at, t.from_sequence)
    offset 0  -- a fence: one index lookup per touched trip, never a scan of the whole table
) as c
{%- else %}
from {{ ref('int_fuel_changes') }} as c
{%- endif %}
left join {{ ref('stg_vehicles') }} as v on v.vehicle_id = c.vehicle_id
where c.is_suspicious_drop
