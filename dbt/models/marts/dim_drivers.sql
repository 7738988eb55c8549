-- One row per driver, with the vehicles assigned to them.
{{ config(indexes=[{'columns': ['driver_id'], 'unique': True}]) }}
select
    d.driver_id,
    d.driver_name,
    d.license_number,
    d.created_at,
    count(v.vehicle_id)::integer as vehicle_count
from {{ ref('stg_drivers') }} as d
left join {{ ref('stg_vehicles') }} as v on v.driver_id = d.driver_id
group by d.driver_id, d.driver_name, d.license_number, d.created_at
