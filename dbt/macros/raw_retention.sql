{#- The marts are kept whole (docs/ARCHITECTURE.md "Data lifecycle"). `fleetpipe retain` may drop raw.trips'
    day partitions past FLEETPIPE_WAREHOUSE_RAW_RETENTION once every incremental model has consumed their
    rows; rebuilding the lane from raw.trips after that would rebuild the marts without those days. So every
    model of the incremental trips lane is configured `full_refresh: false`: `dbt build --full-refresh`
    builds them incrementally like any build (their history stays), and the flag still rebuilds the small
    tables. A rebuild from raw is asked for with `--vars '{full_refresh_from_raw: true}'`, which the
    on-run-start check refuses as soon as one raw day has been dropped. -#}
{% macro lane_full_refresh() -%}
    {{- return(none if var('full_refresh_from_raw', false) else false) -}}
{%- endmacro %}

{#- on-run-start: a rebuild of the lane from raw.trips once raw days are gone would lose them. -#}
{% macro refuse_rebuild_from_trimmed_raw() -%}
    {%- if execute and var('full_refresh_from_raw', false) -%}
        {%- set found = run_query("select count(*) from ops.raw_trip_drops") -%}
        {%- if found.rows[0][0] > 0 -%}
            {{ exceptions.raise_compiler_error(
                "full_refresh_from_raw: raw.trips no longer holds every day (" ~ found.rows[0][0] ~ " day(s) in
                ops.raw_trip_drops, dropped by `fleetpipe retain`); a rebuild from it would take those days out
                of the marts. Build without the variable: the lane's models stay incremental.") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
