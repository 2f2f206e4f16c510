{#- How much of the outage-related complaining is explained by outages that metering measured:
    per month and city, the share of 频繁停电 appeals whose transformer area had ≥1 (and had enough
    to be flagged) measured outages in the 60 days before the appeal. -#}
with appeals as (

    select * from {{ ref('fct_appeals') }}
    where '频繁停电' = any(hot_topics)

),

areas as (

    select as_of_date, transformer_area_id, outages_60d, is_frequent_outage
    from {{ ref('fct_frequent_outage_areas') }}

)

select
    to_char(a.accepted_date, 'YYYY-MM') || '|' || coalesce(a.city_id, '?') as month_city_id,
    to_char(a.accepted_date, 'YYYY-MM') as year_month,
    a.city_id,
    count(*) as frequent_outage_appeals,
    count(*) filter (where a.is_complaint) as frequent_outage_complaints,
    count(*) filter (where coalesce(ar.outages_60d, 0) > 0) as explained_by_measured_outage,
    count(*) filter (where ar.is_frequent_outage) as explained_by_flagged_area,
    round(count(*) filter (where coalesce(ar.outages_60d, 0) > 0)::numeric / nullif(count(*), 0), 4)
        as share_explained
from appeals as a
left join areas as ar
    on ar.transformer_area_id = a.transformer_area_id and ar.as_of_date = a.accepted_date
group by 1, 2, 3
