{#- The change log of the trips lane: what each dbt build found changed in raw.trips since the previous one.

    One batch per build: a header row (source_id NULL) and one row per raw measurement whose newest version
    differs from what stg_trips holds, with where the measurement is now (NULL when deleted) and where
    stg_trips had it (NULL when new). Raw rows are found through raw.trips._load_xid: the build reads the
    rows written at or after the previous batch's snapshot xmin (sql/warehouse/006_incremental_marts.sql),
    and drops those stg_trips already holds in that exact version, so a re-read row changes nothing.

    Every incremental model downstream (stg_trips, int_fuel_changes, int_trip_days and the facts) reads the
    batches after its own watermark (ops.dbt_watermarks) up to its upstream's and recomputes each touched
    trip from its earliest changed position on (macros/trip_changes.sql). Batches every model has read are
    pruned. Rebuild this log only together with its consumers (`--full-refresh --vars
    '{full_refresh_from_raw: true}' --select stg_trip_changes+`, refused once raw days were dropped:
    macros/raw_retention.sql):
    a full build of the log alone clears their watermarks, and they then refuse to build incrementally.
    Two builds at once (the scheduler's and a manual one) take their batches one after the other (an
    advisory lock held by this model's transaction); the models downstream are idempotent over a batch read
    twice (int_trip_days re-checks that an append really is one against its table as it is then). -#}
{{ config(
    materialized='incremental',
    full_refresh=lane_full_refresh(),
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['batch_id']}],
    pre_hook=[
        "select pg_advisory_xact_lock(hashtext('fleetpipe.stg_trip_changes'))",
        "{% if is_incremental() %}delete from {{ this }}
         where batch_id < (select min(batch_id) from ops.dbt_watermarks){% endif %}",
    ],
    post_hook=[
        "{% if not is_incremental() %}delete from ops.dbt_watermarks where model <> '{{ this.identifier }}'{% endif %}",
        "{{ record_watermark('(select max(batch_id) from ' ~ this ~ ')') }}",
    ],
) }}
{%- set stg_trips = adapter.get_relation(this.database, 'staging', 'stg_trips') if execute else none -%}
{#- Until stg_trips is an incremental table (first build, or an older install's view) it is built whole. -#}
{%- set diffing = is_incremental() and stg_trips is not none and stg_trips.is_table %}

with batch as (
    select
        coalesce((select max(batch_id) from ops.dbt_watermarks), 0) + 1   as batch_id,
{%- if diffing %}
        '{{ batch_xmin(this, watermark('stg_trip_changes')) }}'::xid8        as from_xmin,
{%- else %}
        '1'::xid8                                                          as from_xmin,
{%- endif %}
        pg_snapshot_xmin(pg_current_snapshot())                            as batch_xmin,
        pg_current_snapshot()                                              as batch_snapshot,
        now()                                                              as built_at
)
{%- if diffing %},

written as (
    select t.*
    from raw.trips as t
    where t._load_xid >= '{{ batch_xmin(this, watermark('stg_trip_changes')) }}'::xid8
),

-- The batches' header rows, read once: a handful of rows, whatever the planner expects of the rest. (Joined
-- inline, a stale statistic saying "one written row" once planned a scan of the whole log per written row.)
headers as materialized (
    select batch_id, batch_snapshot
    from {{ this }}
    where source_id is null
),

changes as (
    select
        w.id                                                                as source_id,
        case when w._deleted_xid is null then w.vehicle_id end              as vehicle_id,
        case when w._deleted_xid is null then w.trip_id end                 as trip_id,
        case when w._deleted_xid is null then w.measurement_sequence end    as measurement_sequence,
        case when w._deleted_xid is null then w.measurement_time end        as measured_at,
        s.vehicle_id                                                        as old_vehicle_id,
        s.trip_id                                                           as old_trip_id,
        s.measurement_sequence                                              as old_measurement_sequence,
        s.measured_at                                                       as old_measured_at
    from written as w
    left join {{ stg_trips }} as s on s.source_id = w.id
    -- the batch that wrote the stg_trips row: a version committed after its snapshot reached stg_trips
    -- without being logged (a load racing the build), so it is logged now
    left join headers as h on h.batch_id = s._batch_id
    -- unchanged: stg_trips holds this very version, seen by the log when it got there; or the id is deleted
    -- and stg_trips never held it
    where not (w._deleted_xid is null and s._load_xid is not distinct from w._load_xid
               and (h.batch_snapshot is null or pg_visible_in_snapshot(w._load_xid, h.batch_snapshot)))
      and not (w._deleted_xid is not null and s.source_id is null)
)
{%- endif %}

select
    b.batch_id,
    b.from_xmin,
    b.batch_xmin,
    b.batch_snapshot,
    b.built_at,
    null::bigint        as source_id,
    null::integer       as vehicle_id,
    null::integer       as trip_id,
    null::integer       as measurement_sequence,
    null::timestamp     as measured_at,
    null::integer       as old_vehicle_id,
    null::integer       as old_trip_id,
    null::integer       as old_measurement_sequence,
    null::timestamp     as old_measured_at
from batch as b
{%- if diffing %}
union all
select b.batch_id, b.from_xmin, b.batch_xmin, b.batch_snapshot, b.built_at, c.*
from batch as b
cross join changes as c
{%- endif %}
