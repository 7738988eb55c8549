{#- Fails on every row whose column is not strictly greater than the previous row's, taking rows in
    order_by order within each partition_by group; a tie in order_by also fails (the order is then
    undefined). Used for: measurement_sequence strictly increasing within a trip, by measurement time. -#}
{% test strictly_increasing(model, column_name, partition_by, order_by) %}
with ordered as (
    select
        {{ column_name }}                                                          as value,
        {{ order_by }}                                                             as ordered_by,
        lag({{ column_name }}) over (partition by {{ partition_by | join(', ') }}
                                     order by {{ order_by }}, {{ column_name }})    as previous_value,
        lag({{ order_by }})    over (partition by {{ partition_by | join(', ') }}
                                     order by {{ order_by }}, {{ column_name }})    as previous_ordered_by,
        {{ partition_by | join(', ') }}
    from {{ model }}
)
select *
from ordered
where previous_value is not null
  and (value <= previous_value or ordered_by = previous_ordered_by)
{% endtest %}
