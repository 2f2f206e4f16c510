-- Daily business-type counts per city equal the appeals of that city and day in fct_appeals
-- (the hot-spot series are a faithful aggregation, including late rows re-counted).
-- A windowed (daily) run checks the days it recounted (the window and late_days before it);
-- a full build checks every day.
with counts as (
    select appeal_date, org_id, sum(appeals) as n
    from {{ ref('fct_appeal_counts_daily') }}
    where org_level = 'city' and dimension = 'business_type'
      and {{ in_window('appeal_date', var('late_days', 3)) }}
    group by 1, 2
),
appeals as (
    select accepted_date as appeal_date, city_id as org_id, count(*) as n
    from {{ ref('fct_appeals') }}
    where city_id is not null and coalesce(model_business_type, agent_business_type) is not null
      and {{ in_window('accepted_date', var('late_days', 3)) }}
    group by 1, 2
)
select appeals.appeal_date, appeals.org_id, appeals.n as appeals, counts.n as counted
from appeals
left join counts using (appeal_date, org_id)
where counts.n is distinct from appeals.n
  and appeals.appeal_date >= (select min(appeal_date) from {{ ref('fct_appeal_counts_daily') }})
