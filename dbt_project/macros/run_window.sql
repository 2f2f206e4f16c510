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

{#- First days of the months a run must rebuild in the monthly marts (delete+insert by year_month):
    the months of the window days (plus late_days), of every appeal whose latest version was loaded
    in the window, and of every appeal a call loaded in the window belongs to (a late first call
    can change the order's agent). A month is always rebuilt whole, so month-level ranks and
    averages equal a full rebuild; the cost is one or two months, whatever the length of history. -#}
{% macro affected_appeal_months() -%}
    select date_trunc('month', accepted_date)::date as month_start
    from {{ ref('fct_appeals') }} where {{ in_window('loaded_for_date') }}
    union
    select date_trunc('month', a.accepted_date)::date
    from {{ ref('stg_95598__calls') }} as c
    inner join {{ ref('fct_appeals') }} as a on a.work_order_id = c.work_order_id
    where {{ in_window('c.loaded_for_date') }}
    union
    select date_trunc('month', d)::date
    from generate_series(date '{{ window_from() }}' - {{ var('late_days', 3) }}, date '{{ window_to() }}', interval '1 day') as d
{%- endmacro %}

{#- fct_appeals rows of the months a windowed incremental run rebuilds (all rows otherwise); joined
    month by month so the planner range-scans the accepted_date index. -#}
{% macro appeals_of_affected_months() -%}
    {%- if is_incremental() and has_window() -%}
    select a.*
    from ({{ affected_appeal_months() }}) as m
    inner join {{ ref('fct_appeals') }} as a
        on a.accepted_date >= m.month_start and a.accepted_date < (m.month_start + interval '1 month')::date
    {%- else -%}
    select * from {{ ref('fct_appeals') }}
    {%- endif -%}
{%- endmacro %}
