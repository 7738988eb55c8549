{#- The one definition of a refuel and of a suspicious drop, shared by the models and the tests. Both read a
    row of int_fuel_changes (consecutive measurements of one trip). -#}

{#- Fuel went up by more than gauge noise while the vehicle stood still: fuel was added at a stop. -#}
{% macro is_refuel(fuel_delta, miles_delta) -%}
    ({{ fuel_delta }} > {{ var('fuel_noise_gallons') }} and {{ miles_delta }} <= {{ var('refuel_max_miles') }})
{%- endmacro %}

{#- Fuel went down by more than the distance covered can explain at anomaly_gallons_per_mile, plus slack:
    a leak, theft (siphoning) or a faulty gauge. -#}
{% macro is_suspicious_drop(fuel_delta, miles_delta) -%}
    (-{{ fuel_delta }} > greatest({{ miles_delta }}, 0) * {{ var('anomaly_gallons_per_mile') }}
                         + {{ var('anomaly_slack_gallons') }})
{%- endmacro %}
