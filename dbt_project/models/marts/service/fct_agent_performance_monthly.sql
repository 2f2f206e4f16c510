{#- Staff performance (agents by id only, no names): workload, call handling time, on-time rate and
    satisfaction of the orders they accepted, with the month's ranking on satisfaction.
    Incremental by month: a windowed run rebuilds whole the months its loads touched
    (macro affected_appeal_months); a build without a window rebuilds every month. -#}
{{
  config(
    materialized='incremental',
    unique_key='year_month',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['agent_month_id'], 'unique': True}, {'columns': ['year_month']}]
  )
}}
with appeals as (

    {{ appeals_of_affected_months() }}

),

calls as (

    -- the calls of those appeals only (index on raw s_comm_rec.app_no, dbt_project.yml on-run-start)
    select * from {{ ref('stg_95598__calls') }}
    where agent_id is not null
      {% if is_incremental() and has_window() -%}
      and work_order_id in (select work_order_id from appeals)
      {%- endif %}

),

first_call as (

    select distinct on (work_order_id) work_order_id, agent_id, call_seconds
    from calls
    order by work_order_id, call_started_at

),

per_agent as (

    select
        to_char(a.accepted_date, 'YYYY-MM') as year_month,
        fc.agent_id,
        count(*) as orders_accepted,
        round(avg(fc.call_seconds), 1) as avg_call_seconds,
        count(*) filter (where a.finished_on_time) as finished_on_time,
        count(*) filter (where a.finished_on_time is not null) as with_deadline_finished,
        round(avg(a.satisfaction_score), 4) as satisfaction_score,
        count(a.satisfaction_score) as visits,
        count(*) filter (where a.is_complaint) as complaints_accepted
    from appeals as a
    inner join first_call as fc on fc.work_order_id = a.work_order_id
    group by 1, 2

)

select
    year_month || '|' || agent_id as agent_month_id,
    *,
    round(finished_on_time::numeric / nullif(with_deadline_finished, 0), 4) as on_time_rate,
    rank() over (partition by year_month order by satisfaction_score desc nulls last, orders_accepted desc)
        as satisfaction_rank
from per_agent
