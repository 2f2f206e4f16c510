{#- Join predicate: the time-limit rule `rule` (an alias of the time_limit_rules seed) is the rule
    `rule_code` in force on `on_date` — and, for limits that differ by area (repair arrival and
    restoration: urban / rural / remote), the one for `area_type`. Rules are versioned by effective
    date, so an order is always judged by the rule of its own acceptance day, never today's. -#}
{% macro rule_in_force(rule, rule_code, on_date, area_type=none) -%}
    {{ rule }}.rule_code = {{ rule_code }}
    {%- if area_type is not none %}
        and {{ rule }}.area_type = {{ area_type }}
    {%- endif %}
        and {{ on_date }} between {{ rule }}.effective_from and coalesce({{ rule }}.effective_to, date '9999-12-31')
{%- endmacro %}
