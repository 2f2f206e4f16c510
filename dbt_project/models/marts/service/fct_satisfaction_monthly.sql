{#- 满意度分析: follow-up-visit satisfaction by month × city × county × business type × complaint
    class × channel. Scores: 满意 1, 基本满意 0.5, 不满意 0.
    Incremental by month: a windowed run rebuilds whole the months its loads touched
    (macro affected_appeal_months); a build without a window rebuilds every month. -#}
{{
  config(
    materialized='incremental',
    unique_key='year_month',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['satisfaction_cell_id'], 'unique': True}, {'columns': ['year_month']}]
  )
}}
-- depends_on: {{ ref('stg_95598__calls') }} (months of late calls, macro affected_appeal_months)
with appeals as (

    select * from ({{ appeals_of_affected_months() }}) as a
    where satisfaction is not null

)

select
    md5(concat_ws('|', to_char(accepted_date, 'YYYY-MM'), city_id, county_id, agent_business_type,
                  agent_complaint_class, channel_key)) as satisfaction_cell_id,
    to_char(accepted_date, 'YYYY-MM') as year_month,
    city_id,
    county_id,
    agent_business_type as business_type,
    agent_complaint_class as complaint_class,
    channel_key,
    count(*) as visits,
    count(*) filter (where satisfaction = '满意') as satisfied,
    count(*) filter (where satisfaction = '基本满意') as basically_satisfied,
    count(*) filter (where satisfaction = '不满意') as dissatisfied,
    round(avg(satisfaction_score), 4) as satisfaction_score,
    round(count(*) filter (where satisfaction in ('满意', '基本满意'))::numeric / count(*), 4) as satisfaction_rate
from appeals
group by 1, 2, 3, 4, 5, 6, 7
