{{
  config(
    materialized='incremental',
    unique_key='work_order_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ stage_appeals_to_rebuild() }}",
    indexes=[
      {'columns': ['work_order_id'], 'unique': True},
      {'columns': ['accepted_date']},
      {'columns': ['loaded_for_date']},
      {'columns': ['customer_id', 'accepted_at']},
      {'columns': ['transformer_area_id', 'accepted_at']},
    ]
  )
}}
{#-
  The appeal library (客户诉求库): one row per 95598 work order in its latest state, with the text
  structure from nlp, the agent's and the model's labels, org/customer/transformer area, deadlines
  in WORKING days from the time-limit seed, repair arrival/restoration vs limits, satisfaction,
  repeat flags and the metering outages measured in the caller's transformer area before the call.
  Incremental: a run rebuilds the orders whose latest version was loaded in the run window, and
  the orders whose late context those loads changed (macro context_changed_orders): the same
  customer's later orders within the 30/365-day look-backs of the prior_* columns, and the orders
  linked to an outage the run re-pairs — so a windowed build equals a full rebuild.
-#}
with work_orders as (

    -- a windowed run reads exactly the orders staged by its pre_hook (loaded in the window + those
    -- whose late context changed) by primary key, so its cost follows the day's loads, not history.
    -- `= any(array(...))` is a plain restriction the planner pushes into the staging view's scan of
    -- raw (primary-key index); an `in (subquery)` semi-join is not pushed past the view's 8 code
    -- joins (from_collapse_limit) and decodes every raw order first
    select * from {{ ref('stg_95598__work_orders') }}
    {% if is_incremental() and has_window() -%}
    where work_order_id = any(array(select work_order_id from {{ appeals_to_rebuild() }}))
    {%- else -%}
    where {{ in_window('loaded_for_date') }}
    {%- endif %}

),

all_orders as (

    -- the orders the prior_* look-backs count. A windowed run reads the rebuilt orders plus the
    -- other orders of their customers from the library itself (index on customer_id, accepted_at:
    -- every order is there in its latest state), not the whole raw history
    {% if is_incremental() and has_window() -%}
    select work_order_id, customer_id, transformer_area_id, accepted_at, business_type
    from work_orders
    union all
    select t.work_order_id, t.customer_id, t.transformer_area_id, t.accepted_at, t.agent_business_type
    from {{ this }} as t
    where t.customer_id = any(array(select distinct customer_id from work_orders where customer_id is not null))
      and t.accepted_at >= (select min(accepted_at) from work_orders) - interval '366 days'
      and t.work_order_id not in (select work_order_id from work_orders)
    {%- else -%}
    select work_order_id, customer_id, transformer_area_id, accepted_at, business_type
    from {{ ref('stg_95598__work_orders') }}
    {%- endif %}

),

latest_text as (

    -- the latest nlp version of each order: per rebuilt order by primary key (app_no, version_ts)
    -- in a windowed run, one pass over all versions otherwise
    {% if is_incremental() and has_window() -%}
    select txt.*
    from {{ appeals_to_rebuild() }} as r
    cross join lateral (
        select * from {{ ref('stg_nlp__appeal_text') }} as t
        where t.work_order_id = r.work_order_id
        order by t.version_at desc
        limit 1
    ) as txt
    {%- else -%}
    select distinct on (work_order_id) *
    from {{ ref('stg_nlp__appeal_text') }}
    where work_order_id in (select work_order_id from work_orders)
    order by work_order_id, version_at desc
    {%- endif %}

),

taxonomy as (

    select * from {{ ref('dim_appeal_category') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

areas as (

    select * from {{ ref('dim_transformer_area') }}

),

orgs as (

    select * from {{ ref('dim_org') }}

),

workdays as (

    select * from {{ ref('int_calendar_workdays') }}

),

rules as (

    select * from {{ ref('time_limit_rules') }}

),

outages as (

    select * from {{ ref('int_outages_paired') }}

),

joined as (

    select
        wo.*,
        coalesce(wo.area_type, customers.area_type, areas.area_type) as resolved_area_type,
        coalesce(wo.org_id, customers.supply_station_id, areas.supply_station_id) as supply_station_id,
        case when wo.business_type_code = '004' then '004-' || wo.complaint_second_level_code
             else wo.business_type_code end as agent_category_id,
        txt.template_tag,
        txt.accept_text_masked,
        txt.opinion_text_masked,
        txt.keywords_tfidf,
        txt.keywords_textrank,
        txt.entities,
        coalesce(txt.topics, array[]::text[]) as topics,
        agent_cat.hot_topic as category_topic,
        txt.sentiment_score,
        txt.sentiment_level,
        txt.sentiment_cues,
        txt.model_business_type,
        txt.model_business_type_conf,
        txt.model_complaint_class,
        txt.model_complaint_class_conf,
        txt.model_second_level,
        txt.model_second_level_conf,
        txt.model_version,
        coalesce(txt.review_flag, false) as needs_label_review,
        txt.review_reasons
    from work_orders as wo
    left join latest_text as txt on txt.work_order_id = wo.work_order_id
    left join taxonomy as agent_cat on agent_cat.category_id =
        case when wo.business_type_code = '004' then '004-' || wo.complaint_second_level_code
             else wo.business_type_code end
    left join customers on customers.customer_id = wo.customer_id
    left join areas on areas.transformer_area_id = wo.transformer_area_id

),

with_rules as (

    select
        joined.*,
        case
            when order_source = '12345转办' then 'hotline_12345'
            when business_type = '投诉' then 'complaint_reply'
            when business_type = '举报' then 'report_reply'
            when business_type in ('服务申请', '意见', '建议') then 'service_request_reply'
        end as reply_rule_code
    from joined

),

deadlines as (

    select
        r.*,
        reply.limit_value as reply_limit_value,
        reply.limit_unit as reply_limit_unit,
        case reply.limit_unit
            when 'working_days' then (
                select (min(w2.date_day) + 1)::timestamp
                from workdays as w1
                inner join workdays as w2 on w2.workday_seq = w1.workday_seq + reply.limit_value and w2.is_workday
                where w1.date_day = r.accepted_date)
            when 'days' then r.accepted_at + reply.limit_value * interval '1 day'
            when 'hours' then r.accepted_at + reply.limit_value * interval '1 hour'
        end as reply_deadline_at,
        arrival.limit_value as arrival_limit_minutes,
        restore.limit_value * 60 as restore_limit_minutes
    from with_rules as r
    left join rules as reply
        on {{ rule_in_force('reply', 'r.reply_rule_code', 'r.accepted_date') }}
    left join rules as arrival
        on r.business_type = '故障报修'
        and {{ rule_in_force('arrival', "'repair_arrival'", 'r.accepted_date', "coalesce(r.resolved_area_type, 'urban')") }}
    left join rules as restore
        on r.business_type = '故障报修'
        and {{ rule_in_force('restore', "'repair_restore'", 'r.accepted_date', "coalesce(r.resolved_area_type, 'urban')") }}

),

history as (

    select
        d.work_order_id,
        count(h.work_order_id) filter (where h.accepted_at >= d.accepted_at - interval '30 days') as prior_contacts_30d,
        count(h.work_order_id) filter (where h.business_type = '投诉') as prior_complaints_365d,
        count(h.work_order_id) filter (
            where h.accepted_at >= d.accepted_at - interval '30 days'
            and h.transformer_area_id is not distinct from d.transformer_area_id) as prior_same_area_30d
    from deadlines as d
    left join all_orders as h
        on h.customer_id = d.customer_id
        and h.accepted_at < d.accepted_at
        and h.accepted_at >= d.accepted_at - interval '365 days'
        and h.work_order_id <> d.work_order_id
    group by d.work_order_id

),

linked_outages as (

    select
        d.work_order_id,
        count(o.outage_id) as linked_outage_count,
        min(o.outage_id) as first_linked_outage_id,
        max(o.duration_minutes) as linked_outage_max_minutes
    from deadlines as d
    inner join outages as o
        on o.transformer_area_id = d.transformer_area_id
        and o.started_at between d.accepted_at - interval '24 hours' and d.accepted_at
    group by d.work_order_id

)

select
    d.work_order_id,
    d.main_work_order_id,
    d.accepted_at,
    d.accepted_date,
    d.updated_at,
    d.loaded_for_date,
    d.status,
    d.order_source,
    'wkst-' || d.order_source_code as channel_key,
    -- labels: the agent's (noisy, as recorded) and the model's
    d.agent_category_id,
    d.business_type as agent_business_type,
    d.complaint_class as agent_complaint_class,
    d.complaint_second_level as agent_complaint_second_level,
    d.complaint_grade,
    d.model_business_type,
    d.model_business_type_conf,
    d.model_complaint_class,
    d.model_complaint_class_conf,
    d.model_second_level,
    d.model_second_level_conf,
    d.model_version,
    d.needs_label_review,
    d.review_reasons,
    d.business_type = '投诉' as is_complaint,
    -- text structure (masked)
    d.template_tag,
    d.accept_text_masked,
    d.opinion_text_masked,
    d.keywords_tfidf,
    d.keywords_textrank,
    d.entities,
    d.topics,
    d.topics[1] as primary_topic,
    array(
        select distinct t from unnest(d.topics || d.category_topic) as t where t is not null order by t
    ) as hot_topics,
    d.sentiment_score,
    d.sentiment_level,
    d.sentiment_cues,
    coalesce(jsonb_array_length(d.sentiment_cues), 0) as escalation_cue_count,
    -- who and where
    d.customer_id,
    d.is_sensitive_customer,
    d.elec_type_code,
    d.resolved_area_type as area_type,
    d.transformer_area_id,
    d.line_id,
    d.supply_station_id,
    orgs.county_id,
    orgs.city_id,
    d.fault_type,
    -- lifecycle and deadlines
    d.dispatched_at,
    d.arrived_at,
    d.finished_at,
    d.archived_at,
    d.visited_at,
    d.reply_rule_code,
    d.reply_limit_value,
    d.reply_limit_unit,
    d.reply_deadline_at,
    case when d.reply_deadline_at is null then null
         when d.finished_at is null then null
         else d.finished_at <= d.reply_deadline_at end as finished_on_time,
    d.finished_at is null as is_open,
    -- repairs vs 45/90/120 min and 3/4 h
    d.arrival_minutes,
    d.arrival_limit_minutes,
    case when d.arrival_minutes is not null then d.arrival_minutes <= d.arrival_limit_minutes end as arrived_on_time,
    d.arrival_minutes + d.repair_minutes as restore_minutes,
    d.restore_limit_minutes,
    case when d.repair_minutes is not null
         then d.arrival_minutes + d.repair_minutes <= d.restore_limit_minutes end as restored_on_time,
    -- satisfaction
    d.satisfaction,
    case d.satisfaction when '满意' then 1.0 when '基本满意' then 0.5 when '不满意' then 0.0 end as satisfaction_score,
    -- repeats and linked outages
    d.is_repeat_call_flagged,
    coalesce(h.prior_contacts_30d, 0) as prior_contacts_30d,
    coalesce(h.prior_same_area_30d, 0) as prior_same_area_30d,
    coalesce(h.prior_complaints_365d, 0) as prior_complaints_365d,
    (d.is_repeat_call_flagged or coalesce(h.prior_contacts_30d, 0) > 0) as is_repeat_appeal,
    coalesce(lo.linked_outage_count, 0) as linked_outage_count,
    lo.first_linked_outage_id,
    lo.linked_outage_max_minutes
from deadlines as d
left join history as h on h.work_order_id = d.work_order_id
left join linked_outages as lo on lo.work_order_id = d.work_order_id
left join orgs on orgs.org_id = d.supply_station_id
