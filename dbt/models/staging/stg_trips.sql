-- One row per measurement, keyed on the natural key (vehicle, trip, sequence). The loader keys raw.trips on
-- the source's surrogate id, so a row deleted and re-inserted in the webapp can reach the warehouse twice
-- under two ids: the newest version (highest epoch and source transaction, then highest id) wins. Rows the
-- source deleted (raw rows with _deleted_xid) stay out.
with ranked as (
    select
        t.*,
        row_number() over (
            partition by t.vehicle_id, t.trip_id, t.measurement_sequence
            order by t._source_epoch desc, t._source_xid desc, t.id desc
        ) as version_rank
    from {{ source('raw', 'trips') }} as t
    where t._deleted_xid is null
)

select
    {{ dbt.concat(["vehicle_id::text", "'-'", "trip_id::text", "'-'", "measurement_sequence::text"]) }}
                                                as measurement_key,
    {{ dbt.concat(["vehicle_id::text", "'-'", "trip_id::text"]) }}
                                                as trip_key,
    id::bigint                                  as source_id,
    vehicle_id::integer                         as vehicle_id,
    trip_id::integer                            as trip_id,
    measurement_sequence::integer               as measurement_sequence,
    measurement_time::timestamp                 as measured_at,
    latitude::double precision                  as latitude,
    longitude::double precision                 as longitude,
    fuel_capacity::double precision             as fuel_capacity_gallons,
    distance_traveled::double precision         as trip_miles,
    fuel_remaining_percent::double precision    as fuel_remaining_percent,
    fuel_remaining_gallon::double precision     as fuel_remaining_gallons,
    lower(color)                                as color,
    _object_key                                 as loaded_from_object,
    _loaded_at                                  as loaded_at
from ranked
where version_rank = 1
