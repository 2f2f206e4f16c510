{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() and has_window() %}delete from {{ this }} where appeal_date in ({{ affected_appeal_dates() }}){% else %}select 1{% endif %}",
    indexes=[{'columns': ['org_level', 'org_id', 'dimension', 'dimension_value', 'appeal_date']},
             {'columns': ['appeal_date']}]
  )
}}
{#- Daily appeal counts by org level × org × dimension (topic, business type, complaint class):
    the series hot-spot detection runs on. Partition-overwrite by appeal date: a run recounts its
    window, the `late_days` (3) days before it (orders reach the source days late) and the day of
    any older order updated in the window (see macro affected_appeal_dates).
    Topic series count the appeals that VOICE a topic: a repair request (故障报修) voices only the
    equipment topics of `hotspot_repair_topics` (电压低, 计量装置) — its outage is the event, measured
    by metering, and the dissatisfaction topics (频繁停电, 抢修超时, 停电未通知 …) are counted from
    the complaints/opinions/inquiries that raise them; the topics of `hotspot_complaint_only_topics`
    (重复诉求 = 重复投诉) count only complaints, so repeat calls while waiting for a crew do not
    surge. `customers` (distinct callers) is what surge detection uses: one customer calling three
    times is one voice. -#}
{%- set repair_topics = var('hotspot_repair_topics', ['电压低', '计量装置']) -%}
{%- set complaint_only = var('hotspot_complaint_only_topics', ['重复诉求']) -%}
with appeals as (

    select *, coalesce(model_business_type, agent_business_type) as resolved_business_type
    from {{ ref('fct_appeals') }}
    {% if has_window() %}where accepted_date in ({{ affected_appeal_dates() }}){% endif %}

),

dimensions as (

    select a.work_order_id, a.customer_id, a.accepted_date, a.city_id, a.county_id, a.supply_station_id,
           'topic' as dimension, t.topic as dimension_value
    from appeals as a
    cross join lateral unnest(a.hot_topics) as t (topic)
    where (a.resolved_business_type is distinct from '故障报修'
           or t.topic in ({% for x in repair_topics %}'{{ x }}'{{ ', ' if not loop.last }}{% endfor %}))
      and (a.resolved_business_type = '投诉'
           or t.topic not in ({% for x in complaint_only %}'{{ x }}'{{ ', ' if not loop.last }}{% endfor %}))
    union all
    select work_order_id, customer_id, accepted_date, city_id, county_id, supply_station_id,
           'business_type', resolved_business_type
    from appeals
    union all
    select work_order_id, customer_id, accepted_date, city_id, county_id, supply_station_id,
           'complaint_class', coalesce(model_complaint_class, agent_complaint_class)
    from appeals
    where resolved_business_type = '投诉'

),

by_level as (

    select accepted_date, 'city' as org_level, city_id as org_id, dimension, dimension_value, work_order_id,
           customer_id
    from dimensions
    union all
    select accepted_date, 'county', county_id, dimension, dimension_value, work_order_id, customer_id
    from dimensions
    union all
    select accepted_date, 'supply_station', supply_station_id, dimension, dimension_value, work_order_id,
           customer_id
    from dimensions

)

select
    org_level || '|' || org_id || '|' || dimension || '|' || dimension_value || '|' || accepted_date::text
        as count_cell_id,
    accepted_date as appeal_date,
    org_level,
    org_id,
    dimension,
    dimension_value,
    count(distinct work_order_id) as appeals,
    count(distinct coalesce(customer_id, work_order_id)) as customers
from by_level
where org_id is not null and dimension_value is not null
group by 1, 2, 3, 4, 5, 6
