-- Refuel events: fuel rose by more than gauge noise between two consecutive measurements of a trip while
-- the vehicle stood still (macros/fuel_rules.sql, is_refuel). Keyed on the measurement after the refuel.
--
-- Incremental: the changes of each touched trip from its earliest changed position on are selected again
-- (int_fuel_changes recomputed exactly those); rows there that no longer qualify are deleted, and a vehicle
-- given another driver has its rows' driver_id rewritten (post-hooks).
-- depends_on: {{ ref('stg_trip_changes') }}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    unique_key='refuel_key',
    incremental_strategy='upsert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['refuel_key'], 'unique': True},
        {'columns': ['vehicle_id', 'trip_id', 'refueled_at', 'measurement_sequence']},
        {'columns': ['_batch_id']},
    ],
    post_hook=[
        "{{ delete_untouched_after('int_fuel_changes', 'refueled_at') }}",
        "{{ refresh_drivers() }}",
        "{{ record_watermark(watermark('int_fuel_changes')) }}",
    ],
) }}
select
    c.measurement_key                                       as refuel_key,
    c.trip_key,
    c.vehicle_id,
    v.driver_id,
    c.trip_id,
    c.measurement_sequence,
    c.previous_measured_at                                  as stopped_at,
    c.measured_at                                           as refueled_at,
    c.latitude,
    c.longitude,
    c.previous_fuel_gallons                                 as gallons_before,
    c.fuel_remaining_gallons                                as gallons_after,
    round(c.fuel_delta_gallons::numeric, 3)                 as gallons_added,
    case when c.fuel_remaining_gallons >= 0.98 * c.fuel_capacity_gallons then 'full' else 'partial' end
                                                            as fill_level,
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
where c.is_refuel
