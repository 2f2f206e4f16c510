{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_frequent_outage_cells(var('frequent_outage_lookback_days', 60)) }}",
    indexes=[{'columns': ['as_of_date', 'is_frequent_outage']}, {'columns': ['transformer_area_id']}]
  )
}}
{#- 频繁停电 monitoring: per day D and transformer area, outage events (int_outages_paired: measured
    by metering ERC14 pairs, notices filling metering gaps) starting in [D − 30, D] and in
    [D − frequent_outage_lookback_days, D] (both ends inclusive: 31 / 61 calendar days), the
    frequent-outage flag — the business definition: ≥ frequent_outage_min_60d (3) outages, planned
    and fault alike, in the 60-day lookback; optionally also ≥ frequent_outage_min_30d in 30 days
    when that var is set — and the appeals/complaints the area produced about outages in the same
    60 days. One row per area with at least one outage in the lookback.
    Incremental: a windowed run rebuilds its days for every area, plus the earlier (day, area)
    cells whose counts its loads changed — late appeals, re-paired outages (macro
    frequent_outage_context_cells) — so it equals a full rebuild. -#}
{%- set lookback = var('frequent_outage_lookback_days', 60) -%}
{%- set min_30d = var('frequent_outage_min_30d', none) -%}
with days as (

    select date_day as as_of_date from {{ ref('dim_date') }}
    where {% if has_window() %}{{ in_window('date_day') }}{% else %}
        date_day between (select min(outage_date) from {{ ref('int_outages_paired') }})
                     and (select max(outage_date) from {{ ref('int_outages_paired') }}){% endif %}

),

outages as (

    select * from {{ ref('int_outages_paired') }}

),

{%- set measures %}
        count(*) filter (where o.outage_date >= d.as_of_date - 30) as outages_30d,
        count(*) as outages_60d,
        round(sum(coalesce(o.duration_minutes, 0)) / 60.0, 2) as outage_hours_60d,
        max(o.started_at) as last_outage_at
{%- endset %}
counted as (

    select
        d.as_of_date,
        o.transformer_area_id,
        {{ measures }}
    from days as d
    inner join outages as o
        on o.outage_date >= d.as_of_date - {{ lookback }} and o.outage_date <= d.as_of_date
    group by 1, 2
    {%- if is_incremental() and has_window() %}
    union all
    select
        d.as_of_date,
        d.transformer_area_id,
        {{ measures }}
    from ({{ frequent_outage_context_cells(lookback) }}) as d
    inner join outages as o
        on o.transformer_area_id = d.transformer_area_id
        and o.outage_date >= d.as_of_date - {{ lookback }} and o.outage_date <= d.as_of_date
    group by 1, 2
    {%- endif %}

),

appeals as (

    select
        c.as_of_date,
        c.transformer_area_id,
        count(a.work_order_id) filter (where '频繁停电' = any(a.hot_topics)) as frequent_outage_appeals_60d,
        count(a.work_order_id) filter (where a.is_complaint and '频繁停电' = any(a.hot_topics))
            as frequent_outage_complaints_60d,
        count(a.work_order_id) filter (where a.agent_business_type = '故障报修') as repair_orders_60d
    from counted as c
    inner join {{ ref('fct_appeals') }} as a
        on a.transformer_area_id = c.transformer_area_id
        and a.accepted_date > c.as_of_date - 60 and a.accepted_date <= c.as_of_date
    group by 1, 2

),

areas as (

    select * from {{ ref('dim_transformer_area') }}

)

select
    c.transformer_area_id || '|' || c.as_of_date::text as area_day_id,
    c.as_of_date,
    c.transformer_area_id,
    areas.transformer_area_name,
    areas.supply_station_id,
    areas.county_id,
    areas.city_id,
    c.outages_30d,
    c.outages_60d,
    c.outage_hours_60d,
    c.last_outage_at,
    (c.outages_60d >= {{ var('frequent_outage_min_60d') }}
     {%- if min_30d is not none %} or c.outages_30d >= {{ min_30d }}{% endif %}) as is_frequent_outage,
    coalesce(a.frequent_outage_appeals_60d, 0) as frequent_outage_appeals_60d,
    coalesce(a.frequent_outage_complaints_60d, 0) as frequent_outage_complaints_60d,
    coalesce(a.repair_orders_60d, 0) as repair_orders_60d
from counted as c
left join appeals as a on a.as_of_date = c.as_of_date and a.transformer_area_id = c.transformer_area_id
left join areas on areas.transformer_area_id = c.transformer_area_id
