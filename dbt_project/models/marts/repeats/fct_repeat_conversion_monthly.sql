{#- 重复诉求转投诉 rates by month, city and the chain's first business type. -#}
select
    to_char(first_contact_date, 'YYYY-MM') || '|' || coalesce(city_id, '?') || '|' || coalesce(first_business_type, '?')
        as month_city_type_id,
    to_char(first_contact_date, 'YYYY-MM') as year_month,
    city_id,
    first_business_type,
    count(*) as chains,
    count(*) filter (where is_repeat_chain) as repeat_chains,
    count(*) filter (where converted_to_complaint) as converted_chains,
    round(count(*) filter (where converted_to_complaint)::numeric
          / nullif(count(*) filter (where is_repeat_chain), 0), 4) as conversion_rate,
    percentile_cont(0.5) within group (order by hours_to_escalation) as median_hours_to_escalation
from {{ ref('fct_appeal_chains') }}
group by 1, 2, 3, 4
