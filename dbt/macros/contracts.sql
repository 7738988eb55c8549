{#- Model contracts (models/*/schema.yml): to compare a model's columns with the declared ones, dbt selects
    NULL cast to each declared type. Its default also warns on every `numeric` declared without precision
    and scale, a rounding risk where NUMERIC defaults to scale 0 (Snowflake, BigQuery); PostgreSQL's numeric
    is exact at any scale, so the marts' sums stay plain numeric and that warning, printed by every build,
    would only hide real ones. -#}
{% macro postgres__get_empty_schema_sql(columns) %}
    {%- set untyped = [] -%}
    {%- for name in columns if columns[name]['data_type'] is not defined -%}
        {%- do untyped.append(columns[name]['name']) -%}
    {%- endfor -%}
    {%- if untyped -%}
        {{ exceptions.column_type_missing(column_names=untyped) }}
    {%- endif -%}
    select
    {%- for name in columns %}
        {%- set col = columns[name] %}
        {{ cast('null', col['data_type']) }} as {{ adapter.quote(col['name']) if col.get('quote') else col['name'] }}
        {{- ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}
