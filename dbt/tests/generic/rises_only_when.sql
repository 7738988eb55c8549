{#- Fails on every row where the column (a change between consecutive measurements) rose by more than
    `tolerance` while `allowed_when` is false. Used for: fuel never rising except at a refuel, with
    allowed_when = is_refuel from int_fuel_changes (the same flag fct_refuels selects on). -#}
{% test rises_only_when(model, column_name, allowed_when, tolerance=0) %}
select *
from {{ model }}
where {{ column_name }} > {{ tolerance }}
  and not coalesce({{ allowed_when }}, false)
{% endtest %}
