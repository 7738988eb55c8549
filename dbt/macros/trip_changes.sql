{#- The incremental trips lane (how it works: models/staging/stg_trip_changes.sql).

    Every incremental model of the lane reads the change log's batches after its own watermark and up to
    its upstream model's, recomputes only the trips (from the earliest changed position on) that those
    batches touched, and records the upstream's watermark in ops.dbt_watermarks in the same transaction. -#}

{#- The batch a model has read up to (NULL before its first build), as a literal read when the model
    runs: the planner then estimates a predicate on it from the column's statistics (a newer batch than any
    analyzed is a small range; with only common values and no histogram, about one row), where an unknown
    parameter would be estimated at a third of the table and planned as a scan. Joins the slice drives are
    written to be right on a one-row estimate too (fenced laterals). At parse time the equivalent subquery. -#}
{% macro watermark(model_name) -%}
    {%- set sql = "select w.batch_id from ops.dbt_watermarks as w where w.model = '" ~ model_name ~ "'" -%}
    {%- if execute -%}
        {#- Read once per model and phase (its SQL, then its hooks): the lane's macros ask for the same
            watermarks a dozen times per model, and each query is a round trip through dbt's Python. A
            model's hooks never read a watermark after writing it (record_watermark comes last), and each
            phase and each test renders with a new `model`, so a cached value is never stale. -#}
        {%- set cache = model.setdefault('fleetpipe_watermarks', {}) -%}
        {%- if model_name not in cache -%}
            {%- set found = run_query(sql) -%}
            {%- do cache.update({model_name: found.rows[0][0] if found.rows | length > 0 else 'null'}) -%}
        {%- endif -%}
        {{- cache[model_name] -}}
    {%- else -%}
        ({{ sql }})
    {%- endif -%}
{%- endmacro %}

{#- The snapshot xmin of a change-log batch (its header row), as a literal: the raw rows written at or after
    it are newer than the batch. '1' (everything) when there is no such batch. -#}
{% macro batch_xmin(log, batch_id) -%}
    {%- if execute and batch_id != 'null' -%}
        {%- set found = run_query("select batch_xmin::text from " ~ log ~ " where batch_id = " ~ batch_id
                                  ~ " and source_id is null") -%}
        {{- found.rows[0][0] if found.rows | length > 0 else '1' -}}
    {%- else -%}
        1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: this model has now read up to `batch_sql` (a scalar subquery). -#}
{% macro record_watermark(batch_sql) -%}
    insert into ops.dbt_watermarks (model, batch_id, updated_at)
    select '{{ this.identifier }}', {{ batch_sql }}, now()
    on conflict (model) do update set batch_id = excluded.batch_id, updated_at = excluded.updated_at
{%- endmacro %}

{#- True when the model reads only the new batches: it exists, is not being full-refreshed, and has a
    watermark. A table without a watermark (the change log was rebuilt alone, or the row was lost) cannot be
    caught up safely: the build stops and says how to rebuild it. -#}
{% macro trip_changes_incremental() %}
    {%- if not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- if execute -%}
        {%- set found = run_query("select 1 from ops.dbt_watermarks where model = '" ~ this.identifier ~ "'") -%}
        {%- if found.rows | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                this.identifier ~ " has no watermark in ops.dbt_watermarks, so the changes it has not read are
                unknown; rebuild it with `scripts/dbt.sh build --full-refresh --vars '{full_refresh_from_raw: true}' --select "
                ~ this.identifier ~ "+` (refused once `fleetpipe retain` has dropped raw days)") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(true) }}
{% endmacro %}

{#- The change-log rows this model has not read yet, up to what its upstream model has applied. -#}
{% macro unread_changes(upstream) -%}
    select c.*
    from {{ ref('stg_trip_changes') }} as c
    where c.batch_id > {{ watermark(this.identifier) }}
      and c.batch_id <= {{ watermark(upstream) }}
      and c.source_id is not null
{%- endmacro %}

{#- The natural keys of the measurements the unread changes name, where they are now and where they were. -#}
{% macro changed_trip_keys() -%}
    select vehicle_id, trip_id, measurement_sequence
    from ({{ unread_changes('stg_trip_changes') }}) as n
    where vehicle_id is not null
    union
    select old_vehicle_id, old_trip_id, old_measurement_sequence
    from ({{ unread_changes('stg_trip_changes') }}) as o
    where old_vehicle_id is not null
{%- endmacro %}

{#- Per touched trip, the earliest position (measured_at, measurement_sequence) any unread change moved a
    measurement from or to: the trip is unchanged before it. -#}
{% macro touched_trips(upstream) -%}
    select distinct on (vehicle_id, trip_id)
        vehicle_id,
        trip_id,
        measured_at             as from_measured_at,
        measurement_sequence    as from_sequence
    from (
        select vehicle_id, trip_id, measured_at, measurement_sequence
        from ({{ unread_changes(upstream) }}) as n
        where vehicle_id is not null
        union all
        select old_vehicle_id, old_trip_id, old_measured_at, old_measurement_sequence
        from ({{ unread_changes(upstream) }}) as o
        where old_vehicle_id is not null
    ) as positions
    order by vehicle_id, trip_id, measured_at, measurement_sequence
{%- endmacro %}

{#- Per vehicle with a touched trip, the day of its earliest changed position: its days before are unchanged. -#}
{% macro touched_vehicle_days() -%}
    select vehicle_id, min(from_measured_at)::date as from_date
    from ({{ touched_trips('int_trip_days') }}) as t
    group by vehicle_id
{%- endmacro %}

{#- Post-hook: rows of the touched trips at or after their earliest changed position that this build did
    not rewrite are gone from the trip (deleted or moved measurements). `at` is the row's time column. -#}
{% macro delete_untouched_after(upstream, at, sequence='measurement_sequence') -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where ctid in (
        select d.ctid
        from ({{ touched_trips(upstream) }}) as t
        cross join lateral (
            select d.ctid, d._batch_id
            from {{ this }} as d
            where d.vehicle_id = t.vehicle_id
              and d.trip_id = t.trip_id
              and (d.{{ at }}, d.{{ sequence }}) >= (t.from_measured_at, t.from_sequence)
            offset 0  -- a fence: one index lookup per touched trip, never a scan of the whole table
        ) as d
        where d._batch_id < {{ watermark(upstream) }}
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of the facts that carry the vehicle's driver: the driver is the vehicle's current one (the
    source assigns drivers to vehicles), so a reassignment rewrites the vehicle's rows. Reads the fact's
    (vehicle_id, driver_id) pairs, not the history of measurements. -#}
{% macro refresh_drivers() -%}
    {%- if is_incremental() -%}
    update {{ this }} as f
    set driver_id = v.driver_id
    from (
        select f2.vehicle_id, v2.driver_id
        from (select distinct vehicle_id, driver_id from {{ this }}) as f2
        left join {{ ref('stg_vehicles') }} as v2 on v2.vehicle_id = f2.vehicle_id
        where f2.driver_id is distinct from v2.driver_id
    ) as v
    where f.vehicle_id = v.vehicle_id
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The rows a test checks. Tests carry `where: __new_slice__` (dbt_project.yml); on a trip-lane model it
    becomes the rows its latest build wrote, on raw.trips the rows written since the last build; any other relation is
    small and checked whole. `--vars '{full_tests: true}'` (the scheduler's full-test schedule) checks every
    relation whole. -#}
{% macro new_slice(relation) -%}
    {%- if var('full_tests') -%}
        1 = 1
    {%- elif relation.identifier in var('trip_lane_models') -%}
        _batch_id = {{ watermark(relation.identifier) }}
    {%- elif relation.schema == 'raw' and relation.identifier == 'trips' -%}
        {#- Source tests run before the change log is built: the rows written since the previous build. -#}
        {%- set log = adapter.get_relation(target.database, 'staging', 'stg_trip_changes') -%}
        {%- if log is none -%}
        1 = 1
        {%- else -%}
        _load_xid >= '{{ batch_xmin(log, watermark('stg_trip_changes')) }}'::xid8
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__new_slice__' in where -%}
        {%- set where = where | replace('__new_slice__', new_slice(relation)) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
