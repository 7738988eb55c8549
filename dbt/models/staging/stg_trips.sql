-- One row per measurement, keyed on the natural key (vehicle, trip, sequence). The loader keys raw.trips on
-- the source's surrogate id, so a row deleted and re-inserted in the webapp can reach the warehouse twice
-- under two ids: the newest version (highest epoch and source transaction, then highest id) wins. Rows the
-- source deleted (raw rows with _deleted_xid) stay out.
--
-- Incremental: a build recomputes only the natural keys the unread change-log batches name, where each
-- changed measurement is now and where it was (macros/trip_changes.sql), and upserts them (macros/upsert.sql);
-- a key with no live version left is deleted by the post-hook, which looks up only the named keys this build
-- did not write (a hashed EXCEPT against the build's rows, read through _batch_id: new keys, the usual
-- batch, cost no index probe). A full build ranks every raw row.
-- depends_on: {{ ref('stg_trip_changes') }}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    unique_key=['vehicle_id', 'trip_id', 'measurement_sequence'],
    incremental_strategy='upsert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['vehicle_id', 'trip_id', 'measurement_sequence'], 'unique': True},
        {'columns': ['source_id']},
        {'columns': ['vehicle_id', 'trip_id', 'measured_at', 'measurement_sequence']},
        {'columns': ['_batch_id']},
    ],
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where ctid in (
           select d.ctid
           from (select * from ({{ changed_trip_keys() }}) as c
                 except
                 select vehicle_id, trip_id, measurement_sequence from {{ this }}
                 where _batch_id = {{ watermark('stg_trip_changes') }}) as k
           cross join lateral (select d.ctid, d._batch_id from {{ this }} as d
                               where (d.vehicle_id, d.trip_id, d.measurement_sequence)
                                     = (k.vehicle_id, k.trip_id, k.measurement_sequence) offset 0) as d
           where d._batch_id < {{ watermark('stg_trip_changes') }}){% endif %}",
        "{{ record_watermark(watermark('stg_trip_changes')) }}",
    ],
) }}


with newest as (
{%- if trip_changes_incremental() %}
    {#- raw.trips is partitioned by day (sql/warehouse/011_raw_trips_partitioned.sql): a natural key's rows are
        found in its id map (one probe of its natural-key index), then each by id in the one partition its
        time names (pruned at run time), not by a probe of every partition's index. -#}
    select t.*
    from ({{ changed_trip_keys() }}) as k
    cross join lateral (
        select r.*
        from raw.trip_ids as m
        cross join lateral (
            select r.*
            from {{ source('raw', 'trips') }} as r
            where r.id = m.id
              and r.measurement_time = m.measurement_time
        ) as r
        where m.vehicle_id = k.vehicle_id
          and m.trip_id = k.trip_id
          and m.measurement_sequence = k.measurement_sequence
          and r._deleted_xid is null
        order by r._source_epoch desc, r._source_xid desc, r.id desc
        limit 1
    ) as t
{%- else %}
    select distinct on (r.vehicle_id, r.trip_id, r.measurement_sequence) r.*
    from {{ source('raw', 'trips') }} as r
    where r._deleted_xid is null
    order by r.vehicle_id, r.trip_id, r.measurement_sequence, r._source_epoch desc, r._source_xid desc, r.id desc
{%- endif %}
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
    _loaded_at                                  as loaded_at,
    _load_xid                                   as _load_xid,
    {{ watermark('stg_trip_changes') }}::bigint         as _batch_id
from newest
