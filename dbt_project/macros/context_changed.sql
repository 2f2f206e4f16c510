{#-
  Late context. Some columns of an appeal are computed from OTHER rows that can arrive after the
  appeal was built: a customer's earlier orders that reach the source days late (or whose later
  version turns them into a complaint) change prior_contacts_30d / prior_same_area_30d /
  prior_complaints_365d / is_repeat_appeal of the customer's LATER orders; an outage whose restore
  event arrives the next day (or a notice-only outage replaced by the measured one) changes the
  linked_outage_* columns of the orders called in within 24 h after it. A windowed run therefore
  also rebuilds exactly those orders, bounded by the look-backs the columns use — the daily cost
  follows the day's loads, not the length of history.
-#}

{#- work_order_id of fct_appeals rows (already built) whose context the run's loads changed. Only
    valid inside fct_appeals (reads {{ this }}) in an incremental run with a window. -#}
{% macro context_changed_orders() -%}
    {%- set late = var('late_days', 3) -%}
    {%- set orders = ref('stg_95598__work_orders') -%}
    -- orders (re)loaded in the window, in their new state and in the state built before this run
    select x.work_order_id
    from (
        select customer_id, accepted_at, business_type = '投诉' as is_complaint
        from {{ orders }}
        where {{ in_window('loaded_for_date') }} and customer_id is not null
        union
        select t.customer_id, t.accepted_at, t.is_complaint
        from {{ this }} as t
        inner join {{ orders }} as n on n.work_order_id = t.work_order_id
        where {{ in_window('n.loaded_for_date') }} and t.customer_id is not null
    ) as l
    -- … change the prior_* counts of the customer's later orders: 30 days, 365 for complaints
    inner join {{ this }} as x
        on x.customer_id = l.customer_id
        and x.accepted_at > l.accepted_at
        and x.accepted_at <= l.accepted_at + case when l.is_complaint then interval '365 days'
                                                  else interval '30 days' end
    union
    -- outages this run re-pairs (int_outages_paired rebuilds [from − late_days, to]) are linked
    -- to the area's orders accepted within 24 h after their start
    select x.work_order_id
    from {{ ref('int_outages_paired') }} as o
    inner join {{ this }} as x
        on x.transformer_area_id = o.transformer_area_id
        and x.accepted_at between o.started_at and o.started_at + interval '24 hours'
    where {{ in_window('o.outage_date', late) }}
    union
    -- … and an order linked before may have lost its outage (a notice replaced by the measured one)
    select x.work_order_id
    from {{ this }} as x
    where x.linked_outage_count > 0
      and x.accepted_date between date '{{ window_from() }}' - {{ late }} and date '{{ window_to() }}' + 1
{%- endmacro %}

{#- (as_of_date, transformer_area_id) cells of fct_frequent_outage_areas BEFORE the run window whose
    late context the run's loads changed — the window's own days are rebuilt for every area anyway:
    * an appeal (re)loaded in the window counts in its area's 60-day appeal columns from its day on;
    * an outage the run re-pairs (int_outages_paired rebuilds [from − late_days, to]) counts in its
      area's outage columns from its day on.
    Used by the model (to rebuild) and by its pre_hook (to delete first); reads only upstream
    models, so both see the same cells. -#}
{% macro frequent_outage_context_cells(lookback_days) -%}
    {%- set late = var('late_days', 3) -%}
    {%- set span = [lookback_days, 60] | max -%}
    select distinct d.date_day as as_of_date, s.transformer_area_id
    from (
        select transformer_area_id, accepted_date as first_day
        from {{ ref('fct_appeals') }}
        where {{ in_window('loaded_for_date') }}
          and transformer_area_id is not null and accepted_date < date '{{ window_from() }}'
        union
        select transformer_area_id, date '{{ window_from() }}' - {{ late }}
        from {{ ref('int_outages_paired') }}
        where {{ in_window('outage_date', late) }}
    ) as s
    inner join {{ ref('dim_date') }} as d
        on d.date_day between s.first_day
                          and least(s.first_day + {{ span }}, date '{{ window_from() }}' - 1)
{%- endmacro %}

{#- pre_hook of fct_frequent_outage_areas: delete the window's days and the context cells. -#}
{% macro delete_frequent_outage_cells(lookback_days) -%}
  {%- if is_incremental() and has_window() -%}
    delete from {{ this }}
    where {{ in_window('as_of_date') }}
       or (as_of_date, transformer_area_id) in ({{ frequent_outage_context_cells(lookback_days) }})
  {%- else -%}
    select 1
  {%- endif -%}
{%- endmacro %}

{#- Session temp table of the work_order_ids a windowed fct_appeals run rebuilds (pre_hook
    stage_appeals_to_rebuild). Materialised with a primary key and fresh statistics because a CTE
    has none: the planner then reads raw orders, nlp versions and the library by index instead of
    scanning history. -#}
{% macro appeals_to_rebuild() -%}fct_appeals__rebuild{%- endmacro %}

{% macro stage_appeals_to_rebuild() -%}
  {%- if is_incremental() and has_window() -%}
    drop table if exists {{ appeals_to_rebuild() }};
    create temporary table {{ appeals_to_rebuild() }} as
    select work_order_id from {{ ref('stg_95598__work_orders') }} where {{ in_window('loaded_for_date') }}
    union
    {{ context_changed_orders() }};
    alter table {{ appeals_to_rebuild() }} add primary key (work_order_id);
    analyze {{ appeals_to_rebuild() }}
  {%- else -%}
    select 1
  {%- endif -%}
{%- endmacro %}
