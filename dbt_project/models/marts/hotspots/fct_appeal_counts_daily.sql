{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() and has_window() %}delete from {{ this }} where appeal_date in ({{ affected_appeal_dates() }}){% else %}select 1{% endif %}",
    indexes=[{'columns': ['org_level', 'org_id', 'dimension', 'dimension_value', 'appeal_date']},
             {'columns': ['appeal_date']}]
  )
}}
{#- Daily appeal counts by org level × org × dimension (topic, business type, complaint class):
    the series hot-spot detection runs on. Partition-overwrite by appeal date: a run recounts its
    window, the `late_days` (3) days before it (orders reach the source days late) and the day of
    any older order updated in the window (see macro affected_appeal_dates). -#}
with appeals as (

    select * from {{ ref('fct_appeals') }}
    {% if has_window() %}where accepted_date in ({{ affected_appeal_dates() }}){% endif %}

),

dimensions as (

    select a.work_order_id, a.accepted_date, a.city_id, a.county_id, a.supply_station_id,
           'topic' as dimension, t.topic as dimension_value
    from appeals as a
    cross join lateral unnest(a.hot_topics) as t (topic)
    union all
    select work_order_id, accepted_date, city_id, county_id, supply_station_id,
           'business_type', coalesce(model_business_type, agent_business_type)
    from appeals
    union all
    select work_order_id, accepted_date, city_id, county_id, supply_station_id,
           'complaint_class', coalesce(model_complaint_class, agent_complaint_class)
    from appeals
    where coalesce(model_business_type, agent_business_type) = '投诉'

),

by_level as (

    select accepted_date, 'city' as org_level, city_id as org_id, dimension, dimension_value, work_order_id
    from dimensions
    union all
    select accepted_date, 'county', county_id, dimension, dimension_value, work_order_id from dimensions
    union all
    select accepted_date, 'supply_station', supply_station_id, dimension, dimension_value, work_order_id
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
    count(distinct work_order_id) as appeals
from by_level
where org_id is not null and dimension_value is not null
group by 1, 2, 3, 4, 5, 6
