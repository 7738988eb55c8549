-- One row per live driver id, the newest version the loader has seen (raw rows the source deleted
-- carry _deleted_xid and stay out).
with ranked as (
    select
        d.*,
        row_number() over (partition by d.id order by d._source_epoch desc, d._source_xid desc) as version_rank
    from {{ source('raw', 'drivers') }} as d
    where d._deleted_xid is null
)

select
    id::integer             as driver_id,
    trim(name)              as driver_name,
    upper(license_number)   as license_number,
    created_at              as created_at,
    _loaded_at              as loaded_at
from ranked
where version_rank = 1
