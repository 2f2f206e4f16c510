{#- Customers living in a transformer area flagged 频繁停电 on the latest as-of date (the people
    an outreach or a grid-upgrade plan should reach), with their own appeals in 60 days. -#}
with latest as (

    select * from {{ ref('fct_frequent_outage_areas') }}
    where is_frequent_outage
      and as_of_date = (select max(as_of_date) from {{ ref('fct_frequent_outage_areas') }})

),

customers as (

    select * from {{ ref('dim_customer') }}

),

appeals as (

    select customer_id, count(*) as appeals_60d, count(*) filter (where is_complaint) as complaints_60d
    from {{ ref('fct_appeals') }}
    where accepted_date > (select max(as_of_date) from latest) - 60
    group by 1

)

select
    c.customer_id,
    latest.as_of_date,
    latest.transformer_area_id,
    latest.outages_30d,
    latest.outages_60d,
    c.elec_type_group,
    c.is_prepaid,
    c.supply_station_id,
    c.county_id,
    c.city_id,
    coalesce(appeals.appeals_60d, 0) as appeals_60d,
    coalesce(appeals.complaints_60d, 0) as complaints_60d
from latest
inner join customers as c on c.transformer_area_id = latest.transformer_area_id
left join appeals on appeals.customer_id = c.customer_id
