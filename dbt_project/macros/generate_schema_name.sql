{#- Use the folder's schema name as-is (staging, intermediate, marts, snapshots) instead of dbt's
    default "<target>_<custom>", so the warehouse layers match the bootstrap's schemas and roles. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
