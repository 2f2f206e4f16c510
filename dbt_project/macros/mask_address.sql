{#- Keep province/city/district/street, mask house numbers (号/栋/幢/单元/室/楼 numbers) — the same
    rule as grid_appeals.text.pii for free text. -#}
{% macro mask_address(column) -%}
    regexp_replace({{ column }}, '[0-9０-９]+(号|栋|幢|单元|室|楼|层|排|组)', '*\1', 'g')
{%- endmacro %}
