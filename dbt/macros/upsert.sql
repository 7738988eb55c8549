{#- Incremental strategy `upsert` (`incremental_strategy='upsert'`): the new rows go in with one
    INSERT ... ON CONFLICT (unique_key) DO UPDATE, so a key already in the table is rewritten in place and a
    new one is inserted, through the unique index the model declares on its unique_key (required: without it
    PostgreSQL refuses the statement, SQLSTATE 42P10).

    Why not dbt's delete+insert: it first deletes every key of the batch with a join of the whole batch
    against the table, and the trips lane's batches are mostly new keys: that join finds nothing and costs
    about as much as the insert, which probes the same unique index anyway. Same result otherwise: a batch
    with a key twice fails either way (here SQLSTATE 21000, there 23505). -#}
{% macro get_incremental_upsert_sql(arg_dict) %}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- if not keys -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'upsert' needs a unique_key with a unique index") }}
    {%- endif -%}
    {%- set key_names = keys | map('lower') | list -%}
    {%- set columns = arg_dict['dest_columns'] -%}
    insert into {{ arg_dict['target_relation'] }} ({{ columns | map(attribute='quoted') | join(', ') }})
    select {{ columns | map(attribute='quoted') | join(', ') }}
    from {{ arg_dict['temp_relation'] }}
    on conflict ({{ keys | map('lower') | map('string') | join(', ') }}) do update set
    {%- for c in columns if c.name | lower not in key_names %}
        {{ c.quoted }} = excluded.{{ c.quoted }}{{ ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}
