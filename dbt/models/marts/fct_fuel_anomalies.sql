-- Suspicious fuel drops: between two consecutive measurements of a trip more fuel disappeared than the
-- distance covered can explain even at anomaly_gallons_per_mile (0.5 gal/mile = 2 mpg, worse than any
-- vehicle in the fleet), plus anomaly_slack_gallons of gauge slack (macros/fuel_rules.sql). A drop while
-- standing still points at theft or a leak; one while driving at a leak or a faulty gauge.
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
         else 'drop_while_moving' end                       as anomaly_kind
from {{ ref('int_fuel_changes') }} as c
left join {{ ref('stg_vehicles') }} as v on v.vehicle_id = c.vehicle_id
where c.is_suspicious_drop
