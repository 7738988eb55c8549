-- Refuel events: fuel rose by more than gauge noise between two consecutive measurements of a trip while
-- the vehicle stood still (macros/fuel_rules.sql, is_refuel). Keyed on the measurement after the refuel.
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
                                                            as fill_level
from {{ ref('int_fuel_changes') }} as c
left join {{ ref('stg_vehicles') }} as v on v.vehicle_id = c.vehicle_id
where c.is_refuel
