{#-
  Window-aware data tests. A daily incremental run rewrites one day's partition, so testing every
  row of a 365-day table costs the daily run time proportional to history. Generic tests whose
  `where` config is the placeholder `__run_window__` (set project-wide in dbt_project.yml) test
  only the rows the run (re)wrote — when the run has a window (vars run_date or date_from/date_to)
  and the tested model declares which column holds its partition date:

      config:
        meta:
          window_column: loaded_for_date   # the date the run window selects rows by
          window_lookback_days: 3          # optional: the run also rewrites this many days before

  Without a window (a full build) or for models without `window_column` (small dimensions, seeds)
  every row is tested. Uniqueness across the window boundary stays enforced by the unique indexes
  of the incremental models (and by the full builds).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__run_window__' in where -%}
        {%- set predicate = run_window_predicate(relation) -%}
        {%- set where = where | replace('__run_window__', predicate) -%}
        {%- if where | trim == 'true' -%}{%- set where = '' -%}{%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The run-window predicate for a tested relation, from its model's meta (`true` when none). -#}
{% macro run_window_predicate(relation) -%}
    {%- if not execute or not has_window() -%}{{ return('true') }}{%- endif -%}
    {%- set meta = window_meta(relation) -%}
    {%- if not meta.get('window_column') -%}{{ return('true') }}{%- endif -%}
    {{- return(in_window(meta['window_column'], meta.get('window_lookback_days', 0))) -}}
{%- endmacro %}

{#- meta of the model (or source table) behind a relation, looked up in the graph by name. -#}
{% macro window_meta(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type in ('model', 'snapshot', 'seed')
              and (node.alias or node.name) == relation.identifier and node.schema == relation.schema -%}
            {{- return(node.config.get('meta', {})) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- for src in graph.sources.values() -%}
        {%- if src.identifier == relation.identifier and src.schema == relation.schema -%}
            {{- return(src.meta or {}) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return({}) -}}
{%- endmacro %}
