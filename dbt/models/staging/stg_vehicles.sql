-- One row per live vehicle id, the newest version the loader has seen (raw rows the source deleted
-- carry _deleted_xid and stay out). A small table with a unique index rather than a view: every
-- measurement-sized model and test looks vehicles up here, and an index probe stays cheap whatever plan
-- the row estimates lead to.
{{ config(materialized='table', indexes=[{'columns': ['vehicle_id'], 'unique': True}]) }}
with ranked as (
    select
        v.*,
        row_number() over (partition by v.id order by v._source_epoch desc, v._source_xid desc) as version_rank
    from {{ source('raw', 'vehicles') }} as v
    where v._deleted_xid is null
)

select
    id::integer                         as vehicle_id,
    driver_id::integer                  as driver_id,
    trim(make)                          as make,
    trim(model)                         as model,
    fuel_capacity::double precision     as fuel_capacity_gallons,
    lower(color)                        as color,
    created_at                          as created_at,
    _loaded_at                          as loaded_at
from ranked
where version_rank = 1
