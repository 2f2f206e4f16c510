{#-
  Date window of a run, from dbt vars (never from now()):
    --vars '{run_date: 2026-07-15}'                         one day (the daily DAG)
    --vars '{date_from: 2026-07-01, date_to: 2026-07-31}'   a range in ONE invocation (backfill)
  With neither set, models rebuild full history.
-#}
{% macro window_from() -%}
  {{- var('date_from', none) or var('run_date', none) -}}
{%- endmacro %}

{% macro window_to() -%}
  {{- var('date_to', none) or var('run_date', none) -}}
{%- endmacro %}

{% macro has_window() -%}
  {{- return(window_from() | length > 0 and window_from() != 'None') -}}
{%- endmacro %}

{#- SQL predicate: column (date or timestamp) falls in the run window, or true without a window. -#}
{% macro in_window(column, lookback_days=0) -%}
  {%- if has_window() -%}
    ({{ column }} >= date '{{ window_from() }}' - {{ lookback_days }} and {{ column }} < date '{{ window_to() }}' + 1)
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}

{#- pre_hook for partition-overwrite models: delete the window's partition before inserting it. -#}
{% macro delete_window(column, lookback_days=0) -%}
  {%- if is_incremental() and has_window() -%}
    delete from {{ this }} where {{ in_window(column, lookback_days) }}
  {%- else -%}
    select 1
  {%- endif -%}
{%- endmacro %}

{#- Appeal dates a run must (re)count: the window (plus late_days before it) and every date of an
    appeal whose latest version was loaded in the window — a status update can re-label an old
    order (new text version, newer model), so its day's counts must be rebuilt too. -#}
{% macro affected_appeal_dates() -%}
    select distinct accepted_date from {{ ref('fct_appeals') }} where {{ in_window('loaded_for_date') }}
    union
    select generate_series(date '{{ window_from() }}' - {{ var('late_days', 3) }}, date '{{ window_to() }}', interval '1 day')::date
{%- endmacro %}
